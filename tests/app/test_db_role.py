"""The app can run as a PostgreSQL role that does not own the tables, and that role cannot
drop, disable or get round the triggers that keep the evidence append-only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from training.audit import chain
from training.audit.services import record
from training.db_role import grant_statements
from training.extensions import db

OWNER_ONLY = [
    "DROP TRIGGER audit_events_append_only ON audit_events",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
    "ALTER TABLE audit_events DISABLE TRIGGER ALL",
    "TRUNCATE audit_events",
    "ALTER TABLE audit_events DROP COLUMN summary",
    "DROP TABLE evidence_chain",
    "CREATE TABLE sneaky (id integer)",
]


@pytest.fixture
def app_role(app, database_url):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    url = make_url(database_url)
    role = re.sub(r"[^a-z0-9_]", "_", f"app_{url.database}".lower())[:63]
    with db.engine.connect() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.commit()
    yield role, url.set(username=role)
    db.session.remove()
    with db.engine.connect() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE {role}"))
        conn.commit()


def test_the_app_role_writes_rows_but_cannot_touch_the_guards(app, runner, make_app, app_role):
    role, role_url = app_role
    record("user.update", "已有的事件")
    db.session.commit()
    result = runner.invoke(args=["db-role", "grant", role])
    assert result.exit_code == 0, result.output
    engine = create_engine(role_url)
    try:
        with engine.connect() as conn:
            for statement in OWNER_ONLY:
                with pytest.raises(DBAPIError, match="must be owner|permission denied"):
                    conn.execute(text(statement))
                conn.rollback()
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text("UPDATE audit_events SET summary = 'x'"))
            conn.rollback()
    finally:
        engine.dispose()
    # The whole app works as that role: an audited action commits and its link is written.
    as_role = make_app(SQLALCHEMY_DATABASE_URI=role_url.render_as_string(hide_password=False))
    with as_role.app_context():
        record("user.update", "以应用角色写入")
        db.session.commit()
        found = chain.verify()
        assert found.ok
        assert not found.unlinked
        db.session.remove()


def test_grant_refuses_a_role_name_that_is_not_plain(runner):
    result = runner.invoke(args=["db-role", "grant", "app; DROP TABLE users"])
    assert result.exit_code != 0
    assert "not a plain role name" in result.output
    with pytest.raises(ValueError, match="not a plain role name"):
        grant_statements("Robert'); --")


def test_grant_can_print_the_sql_for_a_dba(runner):
    result = runner.invoke(args=["db-role", "grant", "training_app", "--print"])
    assert result.exit_code == 0
    assert (
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO training_app"
        in (result.output)
    )
    assert "OWNER" not in result.output.upper().replace("OWNED", "")
