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


def test_tables_a_later_migration_creates_are_granted_whoever_ran_the_grant(
    app, runner, app_role, database_url
):
    """Default privileges are set for the migrations' owner, not for whoever runs the grant."""
    role, role_url = app_role
    owner = db.session.scalar(
        text("SELECT tableowner FROM pg_tables WHERE tablename = 'alembic_version'")
    )
    granter = f"{role}_dba"[:63]
    with db.engine.connect() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {granter}"))
        conn.execute(text(f"CREATE ROLE {granter} SUPERUSER"))
        conn.commit()
    try:
        with db.engine.connect() as conn:
            conn.execute(text(f"SET ROLE {granter}"))  # a DBA who is not the owner grants
            for statement in grant_statements(role, owner):
                conn.execute(text(statement))
            conn.execute(text("RESET ROLE"))
            conn.execute(text(f"SET ROLE {owner}"))  # a later migration, run by the owner
            conn.execute(text("CREATE TABLE later_table (id serial PRIMARY KEY, note text)"))
            conn.commit()
        engine = create_engine(role_url)
        try:
            with engine.connect() as conn:
                conn.execute(text("INSERT INTO later_table (note) VALUES ('ok')"))
                conn.commit()
        finally:
            engine.dispose()
    finally:
        with db.engine.connect() as conn:
            conn.execute(text("DROP TABLE IF EXISTS later_table"))
            conn.execute(
                text(
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public REVOKE ALL ON TABLES FROM {role}"
                )
            )
            conn.execute(
                text(
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {role}"
                )
            )
            conn.execute(text(f"DROP OWNED BY {granter}"))
            conn.execute(text(f"DROP ROLE {granter}"))
            conn.commit()


def test_grant_refuses_a_role_name_that_is_not_plain(runner):
    result = runner.invoke(args=["db-role", "grant", "app; DROP TABLE users"])
    assert result.exit_code != 0
    assert "not a plain role name" in result.output
    with pytest.raises(ValueError, match="not a plain role name"):
        grant_statements("Robert'); --", "owner")
    with pytest.raises(ValueError, match="not a plain role name"):
        grant_statements("app", "x; DROP TABLE users")


def test_grant_can_print_the_sql_for_a_dba(runner):
    result = runner.invoke(args=["db-role", "grant", "training_app", "--print", "--owner", "migr"])
    assert result.exit_code == 0
    assert "ALTER DEFAULT PRIVILEGES FOR ROLE migr IN SCHEMA public" in result.output
    assert (
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO training_app"
        in (result.output)
    )
    assert "OWNER" not in result.output.upper().replace("OWNED", "")
