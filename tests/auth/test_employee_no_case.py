"""工号 match whatever the letters' case, everywhere, through the lower(employee_no) index."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from training.auth.models import Role, User, fold_employee_no
from training.extensions import db


@pytest.mark.parametrize("typed", ["hr0001", "HR0001", "Hr0001", " hr0001 "])
def test_login_accepts_the_employee_no_in_any_case(client, auth, create_user, typed):
    create_user(employee_no="HR0001", role=Role.HR)
    response = auth.login(typed)
    assert response.status_code == 302
    assert response.headers["Location"] == "/hr/"


def test_a_lower_case_employee_no_stored_is_found_by_upper_case(client, auth, create_user):
    create_user(employee_no="e2001")
    assert auth.login("E2001").headers["Location"] == "/"


def test_wrong_password_is_still_refused_in_another_case(client, auth, create_user):
    create_user(employee_no="E2002")
    response = auth.login("e2002", "wrong-password-1")
    assert response.status_code == 200
    assert "工号或密码不正确" in response.get_data(as_text=True)


def test_the_database_refuses_an_employee_no_differing_only_in_case(app, create_user):
    create_user(employee_no="E3001")
    db.session.add(User(employee_no="e3001", name="重复", department="测试部"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_fold_changes_ascii_letters_only():
    assert fold_employee_no("AbC-12_x") == "abc-12_x"
    assert fold_employee_no("Ä1") == "Ä1"  # as SQLite's lower() leaves it


def _plan(statement: str, parameters) -> str:
    """The database's plan of a statement the app ran, as one text."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        # A test table holds a few rows, where a scan is cheapest: ask whether the index
        # can answer at all. Without a usable index the plan is still a Seq Scan.
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        return "\n".join(row[0] for row in rows)


def _lookups(action) -> list[tuple[str, object]]:
    """Run ``action``; return the statements it ran that compare lower(<table>.employee_no)."""
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"lower\(\w+\.employee_no\)", statement):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert seen, "no lookup by lower(employee_no) was run"
    return seen


def _assert_index_lookup(plan: str) -> None:
    assert "uq_users_employee_no_lower" in plan, plan
    assert "SCAN users" not in plan, plan
    assert "Seq Scan" not in plan, plan


def test_the_login_lookup_uses_the_index_not_a_scan(app, client, auth, create_user):
    create_user(employee_no="E4001")

    def log_in():
        assert auth.login("e4001").status_code == 302

    statement, parameters = _lookups(log_in)[0]
    _assert_index_lookup(_plan(statement, parameters))


def test_the_import_lookup_uses_the_index(app, create_user):
    create_user(employee_no="E4101")
    found: list[int] = []

    def look_up():
        found.extend(db.session.scalars(select(User.id).where(User.employee_no_in(["e4101", "X"]))))

    statement, parameters = _lookups(look_up)[0]
    assert len(found) == 1
    _assert_index_lookup(_plan(statement, parameters))


def test_hr_search_finds_an_employee_no_in_another_case(client, login_as, create_user):
    create_user(employee_no="E5001", name="搜索甲")
    login_as(Role.HR)
    page = client.get("/hr/employees?q=e5001").get_data(as_text=True)
    assert "搜索甲" in page


def test_the_create_form_refuses_an_existing_employee_no_in_another_case(
    client, login_as, create_user
):
    create_user(employee_no="E6001")
    login_as(Role.HR)
    response = client.post(
        "/hr/employees/new",
        data={
            "employee_no": "e6001",
            "name": "重复",
            "department": "测试部",
            "hire_date": "2026-01-05",
            "role": "learner",
        },
    )
    assert response.status_code == 200
    assert "E6001" in response.get_data(as_text=True)
    assert db.session.scalar(select(User.id).where(User.employee_no == "e6001")) is None


def test_the_audit_filter_matches_the_employee_no_in_another_case(client, login_as):
    hr = login_as(Role.HR, employee_no="HR7001")
    client.post(
        "/hr/employees/new",
        data={
            "employee_no": "E7001",
            "name": "审计乙",
            "department": "测试部",
            "hire_date": "2026-01-05",
            "role": "learner",
        },
    )
    page = client.get("/hr/audit/?actor=hr7001").get_data(as_text=True)
    assert "审计乙" in page
    assert hr.employee_no in page


def test_the_api_lookup_by_employee_no_uses_the_index(app, client, create_user):
    from training.api import tokens

    create_user(employee_no="E4201")
    _row, secret = tokens.create("test", None, actor=None)
    db.session.commit()
    answers = []

    def ask():
        answers.append(
            client.get("/api/v1/employees/e4201", headers={"Authorization": f"Bearer {secret}"})
        )

    statement, parameters = _lookups(ask)[0]
    assert answers[0].status_code == 200
    assert answers[0].get_json()["employee_no"] == "E4201"
    plan = _plan(statement, parameters)
    assert "uq_users_employee_no_lower" in plan, plan
