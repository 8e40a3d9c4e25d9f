"""Login, logout, sessions, passwords and throttling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from training.auth.models import LoginAttempt, Role, User, UserSession
from training.extensions import db


def test_anonymous_is_redirected_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_page_and_static_are_public(client):
    assert client.get("/login").status_code == 200
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200


def test_login_with_right_password_reaches_home(client, auth, create_user):
    user = create_user(name="张三")
    response = auth.login(user.employee_no)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "张三" in page


def test_wrong_password_is_refused_and_recorded(client, auth, create_user):
    user = create_user()
    response = auth.login(user.employee_no, "wrong-password-1")
    assert response.status_code == 200
    assert "工号或密码不正确" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    failures = db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
    )
    assert failures == 1


def test_unknown_employee_gets_the_same_message(auth):
    response = auth.login("NOBODY", "whatever-password")
    assert "工号或密码不正确" in response.get_data(as_text=True)


def test_deactivated_user_cannot_log_in(auth, create_user):
    user = create_user(active=False)
    response = auth.login(user.employee_no)
    assert response.status_code == 200
    assert "工号或密码不正确" in response.get_data(as_text=True)


def test_login_rejects_offsite_next(client, auth, create_user):
    user = create_user()
    response = auth.login(user.employee_no, query_string={"next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_login_follows_local_next(auth, create_user):
    user = create_user()
    response = auth.login(user.employee_no, query_string={"next": "/password"})
    assert response.headers["Location"] == "/password"


def test_login_issues_a_new_session_cookie(client, auth, create_user):
    user = create_user()
    client.get("/login")
    before = client.get_cookie("training_session")
    auth.login(user.employee_no)
    after = client.get_cookie("training_session")
    assert after is not None
    assert before is None or before.value != after.value


def test_logout_ends_session_and_old_cookie_is_refused(app, client, auth, create_user):
    user = create_user()
    auth.login(user.employee_no)
    stolen = client.get_cookie("training_session").value
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302

    replay = app.test_client()
    replay.set_cookie("training_session", stolen)
    response = replay.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_logout_requires_post(client, login_as):
    login_as()
    assert client.get("/logout").status_code == 405


def test_deactivation_ends_existing_sessions(app, client, login_as):
    user = login_as()
    assert client.get("/").status_code == 200
    db.session.get(User, user.id).active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_a_busy_session_still_ends_at_its_absolute_lifetime(app, client, login_as):
    user = login_as()
    assert client.get("/").status_code == 200  # kept busy: the idle limit never applies
    session = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    lifetime = app.config["SESSION_ABSOLUTE_LIFETIME"]
    session.created_at = session.created_at - timedelta(seconds=lifetime - 60)
    db.session.commit()
    assert client.get("/").status_code == 200  # a minute left
    session.created_at = session.created_at - timedelta(seconds=120)
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_password_change_ends_other_sessions(app, client, auth, create_user):
    user = create_user()
    other = app.test_client()
    other.post("/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"})
    assert other.get("/").status_code == 200
    auth.login(user.employee_no)
    response = client.post(
        "/password",
        data={
            "current_password": "Correct-Horse-42",
            "new_password": "Blue-Lantern-987",
            "confirm": "Blue-Lantern-987",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200, "the changing browser stays logged in"
    assert other.get("/").status_code == 302, "the other browser is logged out"
    live = db.session.scalar(
        select(func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    )
    assert live == 1
    client.post("/logout")
    assert auth.login(user.employee_no, "Blue-Lantern-987").status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong-current-1", "Blue-Lantern-987", "Blue-Lantern-987", "当前密码不正确"),
        ("Correct-Horse-42", "short1", "short1", "至少需要"),
        ("Correct-Horse-42", "1qaz2wsx3edc", "1qaz2wsx3edc", "太常见"),
        ("Correct-Horse-42", "Blue-Lantern-987", "Blue-Lantern-986", "不一致"),
        ("Correct-Horse-42", "Correct-Horse-42", "Correct-Horse-42", "不能与当前密码相同"),
        ("Correct-Horse-42", "E00001-lantern", "E00001-lantern", "不能包含工号"),
    ],
)
def test_password_change_rejects_bad_input(client, login_as, current, new, confirm, message):
    user = login_as(employee_no="E00001")
    response = client.post(
        "/password", data={"current_password": current, "new_password": new, "confirm": confirm}
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.get(User, user.id).password_hash is not None


def test_one_time_password_must_be_changed_first(client, create_user):
    user = create_user(must_change_password=True)
    response = client.post(
        "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
    )
    assert response.headers["Location"] == "/password"
    assert client.get("/").headers["Location"] == "/password"


def test_account_throttled_after_repeated_failures(app, client, auth, create_user):
    user = create_user()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        auth.login(user.employee_no, "wrong-password-1")
    response = auth.login(user.employee_no)  # even the right password is refused now
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_guesses_from_elsewhere_do_not_lock_the_owner_out(app, create_user):
    user = create_user()
    attacker = app.test_client()
    away = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] + 3):
        attacker.post(
            "/login",
            data={"employee_no": user.employee_no, "password": "guess-1"},
            environ_base=away,
        )
    refused = attacker.post(
        "/login",
        data={"employee_no": user.employee_no, "password": "Correct-Horse-42"},
        environ_base=away,
    )
    assert refused.status_code == 429  # the guessing address waits
    response = app.test_client().post(
        "/login",
        data={"employee_no": user.employee_no, "password": "Correct-Horse-42"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 302  # the owner, elsewhere, is not locked out


def test_past_the_limit_each_attempt_waits_a_doubling_delay(app, client, auth, create_user):
    user = create_user()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        auth.login(user.employee_no, "wrong-password-1")
    assert auth.login(user.employee_no).status_code == 429

    def age(seconds):
        for attempt in db.session.scalars(select(LoginAttempt)):
            attempt.at = attempt.at - timedelta(seconds=seconds)
        db.session.commit()

    age(app.config["LOGIN_DELAY_SECONDS"] + 1)  # the first delay has passed
    assert auth.login(user.employee_no, "wrong-password-2").status_code == 200  # evaluated
    age(app.config["LOGIN_DELAY_SECONDS"] + 1)  # not enough now: the delay doubled
    assert auth.login(user.employee_no).status_code == 429
    age(app.config["LOGIN_DELAY_SECONDS"])
    assert auth.login(user.employee_no).status_code == 302  # then the right password works


def test_account_throttle_lapses_after_window(app, client, auth, create_user):
    user = create_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        auth.login(user.employee_no, "wrong-password-1")
    window = timedelta(seconds=app.config["LOGIN_THROTTLE_WINDOW"] + 1)
    for attempt in db.session.scalars(select(LoginAttempt)):
        attempt.at = attempt.at - window
    db.session.commit()
    assert auth.login(user.employee_no).status_code == 302


def test_address_throttled_across_accounts(make_app):
    app = make_app(LOGIN_MAX_FAILURES_PER_ADDRESS=3)
    with app.app_context():
        client = app.test_client()
        for n in range(3):
            client.post("/login", data={"employee_no": f"X{n}", "password": "nope-nope-1"})
        response = client.post("/login", data={"employee_no": "X9", "password": "nope-nope-1"})
        assert response.status_code == 429


def test_throttle_is_shared_between_app_instances(make_app, create_user):
    """Two apps stand for two gunicorn workers: failures in one count in the other."""
    user = create_user()
    first, second = make_app(), make_app()
    for _ in range(3):
        first.test_client().post(
            "/login", data={"employee_no": user.employee_no, "password": "bad-pass-1"}
        )
    for _ in range(2):
        second.test_client().post(
            "/login", data={"employee_no": user.employee_no, "password": "bad-pass-1"}
        )
    response = second.test_client().post(
        "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
    )
    assert response.status_code == 429


def test_passwords_are_stored_as_argon2id(create_user):
    user = create_user()
    assert user.password_hash.startswith("$argon2id$")


def test_csrf_rejects_login_without_token(make_app, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = create_user()
        client = app.test_client()
        response = client.post(
            "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
        )
        assert response.status_code == 400
        assert client.get("/").status_code == 302


def test_csrf_accepts_login_with_token(make_app, create_user, csrf_token_from):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = create_user()
        client = app.test_client()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login",
            data={
                "employee_no": user.employee_no,
                "password": "Correct-Horse-42",
                "csrf_token": token,
            },
        )
        assert response.status_code == 302
        # logout is a change too: without the token it is refused
        assert client.post("/logout").status_code == 400
        assert client.get("/").status_code == 200


def test_hr_role_is_stored(create_user):
    assert create_user(role=Role.HR).is_hr


@pytest.mark.parametrize("step", ["verify_password", "hash_password"])
def test_password_hashing_holds_no_write_lock(app, client, create_user, monkeypatch, step):
    """While a login (or a password change) hashes, another process can still write."""
    import sqlite3

    from training.auth import passwords

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite write lock")
    user = create_user()
    path = db.engine.url.database
    real = getattr(passwords, step)
    seen: list[str] = []

    def probing(*args):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if anyone holds the write lock
            other.execute("ROLLBACK")
            seen.append("free")
        except sqlite3.OperationalError as exc:
            seen.append(str(exc))
        finally:
            other.close()
        return real(*args)

    monkeypatch.setattr(passwords, step, probing)
    if step == "verify_password":
        response = client.post(
            "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
        )
        assert response.status_code == 302
    else:
        assert (
            client.post(
                "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
            ).status_code
            == 302
        )
        response = client.post(
            "/password",
            data={
                "current_password": "Correct-Horse-42",
                "new_password": "Another-Quiet-Horse-7",
                "confirm": "Another-Quiet-Horse-7",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert seen
    assert set(seen) == {"free"}


def test_parallel_guesses_get_no_more_than_the_limit_evaluated(make_app, create_user):
    """Each attempt is counted before its password is checked, so guesses sent at once
    cannot all pass the throttle while the others are still hashing."""
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request

    from werkzeug.serving import make_server

    app = make_app(LOGIN_MAX_FAILURES_PER_ACCOUNT=3)
    employee_no = create_user().employee_no
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/login"
    statuses: list[int] = []
    start = threading.Barrier(12)

    def guess(n: int) -> None:
        body = urllib.parse.urlencode({"employee_no": employee_no, "password": f"wrong{n}"})
        start.wait()
        try:
            with urllib.request.urlopen(url, body.encode(), timeout=60) as response:  # noqa: S310
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    try:
        guesses = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
        for g in guesses:
            g.start()
        for g in guesses:
            g.join()
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(set(statuses)) == [200, 429]
    assert statuses.count(200) <= 3  # evaluated (and refused as wrong), the rest throttled
    db.session.rollback()
    failures = db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
    )
    assert failures <= 3
