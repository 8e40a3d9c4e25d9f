"""The session lookup of every logged-in request: one indexed statement, never cached."""

from __future__ import annotations

from sqlalchemy import event, inspect, select

from training.auth import services
from training.auth.models import ManagedDepartment, Role, User
from training.extensions import db


def _statements():
    """Collect (statement, parameters) reaching the driver, BEGIN and pragmas left out."""
    seen: list[tuple[str, object]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SELECT 1")):
            seen.append((statement, parameters))

    return seen, listener


def test_session_lookup_is_one_statement_on_the_token_index(app, create_user):
    user = create_user(role=Role.MANAGER)
    db.session.add(ManagedDepartment(user_id=user.id, department="销售部"))
    db.session.commit()
    user_id = user.id
    with app.test_request_context():
        token = services.start_session(user)
        db.session.commit()
        db.session.expunge_all()  # a new request: nothing of this user in the session yet
        seen, listener = _statements()
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            loaded = services.load_session_user(token)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(seen) == 1, seen
        assert loaded is not None
        assert loaded.id == user_id
        assert loaded.session_token == token
        # Attached as if loaded by the ORM: nothing pending, relationships load, changes flush.
        state = inspect(loaded)
        assert state.persistent
        assert not db.session.dirty
        assert loaded.departments_managed == ("销售部",)
        assert db.session.get(User, user_id) is loaded
        loaded.name = "改名"
        db.session.commit()
        assert db.session.scalar(select(User.name).where(User.id == user_id)) == "改名"
        if db.engine.dialect.name == "sqlite":
            statement, parameters = seen[0]
            plan = " / ".join(
                row[-1]
                for row in db.session.connection().exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters
                )
            )
            assert "SEARCH user_sessions USING INDEX" in plan, plan
            assert "SCAN" not in plan, plan


def test_session_lookup_refuses_revoked_and_inactive(app, create_user):
    user = create_user()
    with app.test_request_context():
        token = services.start_session(user)
        db.session.commit()
        assert services.load_session_user(token) is user  # the instance already in the session
        assert services.load_session_user(token + "x") is None
        user.active = False
        db.session.commit()
        assert services.load_session_user(token) is None
        user.active = True
        services.end_session(token)
        db.session.commit()
        assert services.load_session_user(token) is None


def test_logout_or_deactivation_in_another_worker_refuses_the_cookie_at_once(make_app, create_user):
    """Two app instances stand for two worker processes: nothing is cached between requests."""
    user = create_user()
    employee_no, user_id = user.employee_no, user.id
    first, second = make_app(), make_app()

    def logged_in():
        browser = first.test_client()
        browser.post("/login", data={"employee_no": employee_no, "password": "Correct-Horse-42"})
        assert browser.get("/").status_code == 200
        elsewhere = second.test_client()
        elsewhere.set_cookie("training_session", browser.get_cookie("training_session").value)
        assert elsewhere.get("/").status_code == 200
        return browser, elsewhere

    browser, elsewhere = logged_in()
    assert elsewhere.post("/logout").status_code == 302
    response = browser.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")

    browser, elsewhere = logged_in()
    with second.app_context():
        db.session.get_one(User, user_id).active = False
        db.session.commit()
    assert browser.get("/").status_code == 302
    assert elsewhere.get("/").status_code == 302


def test_an_expired_user_in_the_session_is_refreshed_from_the_lookup_row(app, create_user):
    user = create_user()
    with app.test_request_context():
        token = services.start_session(user)
        db.session.commit()  # expires the user, as a view's commit does
        seen, listener = _statements()
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            loaded = services.load_session_user(token)
            name, role = loaded.name, loaded.role
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert loaded is user
        assert name == user.name
        assert role == Role.LEARNER
        assert len(seen) == 1, seen
