"""Sign-in with the company directory, against a real slapd (tests/auth/slapd.py)."""

from __future__ import annotations

import logging
import socket
import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select

from tests.auth.slapd import SEARCH_DN, free_port
from tests.conftest import PASSWORD
from training.assignments.models import Assignment
from training.audit.models import AuditEvent
from training.auth import directory
from training.auth.models import LoginAttempt, Role, User, UserSession
from training.extensions import db

GENERIC = "工号或密码不正确"
UNREACHABLE = "暂时无法连接公司目录"
ONLY_HR = {"PASSWORD_LOGIN_ROLES": ["hr"]}


@pytest.fixture
def settings(slapd, request) -> dict:
    """The app's settings: this slapd, plus the test's ``directory`` marker."""
    marker = request.node.get_closest_marker("directory")
    return slapd.settings(**(marker.kwargs if marker else {}))


@pytest.fixture
def app(make_app, settings):
    app = make_app(**settings)
    with app.app_context():
        yield app


def login(client, employee_no, password, **kwargs):
    return client.post("/login", data={"employee_no": employee_no, "password": password}, **kwargs)


def events(caplog, name):
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def failures() -> int:
    return db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
    )


def session_methods(user_id: int) -> list[str]:
    db.session.rollback()
    return list(
        db.session.scalars(select(UserSession.method).where(UserSession.user_id == user_id))
    )


@pytest.mark.directory(**ONLY_HR)
def test_an_employee_signs_in_with_the_company_password(client, create_user, caplog):
    user = create_user(employee_no="E1001", name="张三")
    with caplog.at_level(logging.INFO, logger="training"):
        response = login(client, "E1001", "Dir-Pass-1001")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "张三" in client.get("/").get_data(as_text=True)
    assert session_methods(user.id) == ["ldap"]
    (event,) = events(caplog, "login.succeeded")
    assert (event.user_id, event.method) == (user.id, "ldap")
    assert failures() == 0


@pytest.mark.directory(**ONLY_HR)
@pytest.mark.parametrize("typed", ["e1001", " E1001 "])
def test_the_directory_matches_the_account_whatever_the_case(client, create_user, typed):
    user = create_user(employee_no="E1001")
    assert login(client, typed, "Dir-Pass-1001").status_code == 302
    assert session_methods(user.id) == ["ldap"]


@pytest.mark.directory(**ONLY_HR)
def test_a_wrong_directory_password_is_refused_and_counted(client, create_user, caplog):
    create_user(employee_no="E1001")
    with caplog.at_level(logging.INFO, logger="training"):
        response = login(client, "E1001", "not-the-password")
    assert response.status_code == 200
    assert GENERIC in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert failures() == 1
    (event,) = events(caplog, "login.failed")
    assert (event.reason, event.method) == ("credentials", "ldap")


@pytest.mark.directory(**ONLY_HR)
def test_an_unknown_employee_gets_the_same_message(client):
    response = login(client, "E9999", "Dir-Pass-1001")
    assert GENERIC in response.get_data(as_text=True)
    assert failures() == 1


@pytest.mark.directory(**ONLY_HR)
def test_a_learner_whose_password_is_off_is_told_to_use_the_company_account(client, create_user):
    page = client.get("/login").get_data(as_text=True)
    assert "请使用公司账号登录" in page
    assert "员工不再使用人事行政部发放的培训系统密码" in page
    user = create_user(employee_no="E1001")  # still has a local password from before
    response = login(client, "E1001", PASSWORD)
    assert GENERIC in response.get_data(as_text=True)
    assert login(client, "E1001", "Dir-Pass-1001").status_code == 302
    # No password here to change, and no one-time password to replace first.
    home = client.get("/").get_data(as_text=True)
    assert "修改密码" not in home
    assert "公司账号" in client.get("/password").get_data(as_text=True)
    assert client.post("/password", data={"current_password": PASSWORD}).status_code == 200
    assert db.session.get(User, user.id).password_hash is not None


@pytest.mark.directory(**ONLY_HR)
def test_a_one_time_password_is_not_forced_on_a_directory_session(client, create_user):
    create_user(employee_no="E1001", must_change_password=True)
    assert login(client, "E1001", "Dir-Pass-1001").headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_without_password_roles_limit_the_form_says_both(client):
    page = client.get("/login").get_data(as_text=True)
    assert "请使用公司账号登录" in page
    assert "员工不再使用" not in page


@pytest.mark.directory(**ONLY_HR)
def test_a_disabled_directory_account_cannot_sign_in(client, create_user, caplog):
    create_user(employee_no="E1002")  # userAccountControl 514: ACCOUNTDISABLE
    with caplog.at_level(logging.INFO, logger="training"):
        response = login(client, "E1002", "Dir-Pass-1002")
    assert GENERIC in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    (event,) = events(caplog, "login.failed")
    assert event.reason == "directory_disabled"


def test_a_disabled_directory_account_cannot_use_a_local_password_either(client, create_user):
    create_user(employee_no="E1002", role=Role.HR)  # passwords allowed for every role here
    assert GENERIC in login(client, "E1002", PASSWORD).get_data(as_text=True)
    assert client.get("/").status_code == 302


@pytest.mark.directory(**ONLY_HR, LDAP_DISABLED_FILTER="(employeeType=离职)")
def test_the_disabled_filter_is_a_setting(client, create_user):
    create_user(employee_no="E1005")  # employeeType: 离职
    create_user(employee_no="E1002")  # AD's bit is not what this directory uses
    assert GENERIC in login(client, "E1005", "Dir-Pass-1005").get_data(as_text=True)
    assert login(client, "E1002", "Dir-Pass-1002").status_code == 302


@pytest.mark.directory(**ONLY_HR)
def test_an_account_hr_deactivated_cannot_sign_in_whatever_the_directory_says(
    client, create_user, caplog
):
    create_user(employee_no="E1003", active=False)
    with caplog.at_level(logging.INFO, logger="training"):
        response = login(client, "E1003", "Dir-Pass-1003")
    assert GENERIC in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    (event,) = events(caplog, "login.failed")
    assert (event.reason, event.method) == ("inactive", "ldap")


@pytest.mark.directory(**ONLY_HR)
def test_without_provisioning_a_directory_user_without_an_account_is_refused(client):
    response = login(client, "E1004", "Dir-Pass-1004")
    assert "培训系统中还没有您的账号" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.directory(**ONLY_HR, LDAP_JIT_PROVISIONING=True, LDAP_EMAIL_ATTRIBUTE="mail")
def test_with_provisioning_a_first_sign_in_creates_a_learner_from_the_directory(client):
    response = login(client, "e1004", "Dir-Pass-1004")
    assert response.status_code == 302
    user = db.session.scalar(select(User))
    assert (user.employee_no, user.name, user.department) == ("E1004", "赵六", "客服部")
    assert (user.email, user.role, user.password_hash) == ("zhaoliu@example.com", "learner", None)
    assert db.session.scalar(select(Assignment.reason).where(Assignment.user_id == user.id)) == (
        "hire"
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.provision"))
    assert (event.target_user_id, event.actor_id, event.channel) == (user.id, user.id, "web")
    assert event.details["source"] == "ldap"
    client.post("/logout")
    assert login(client, "E1004", "Dir-Pass-1004").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.directory(**ONLY_HR, LDAP_JIT_PROVISIONING=True)
def test_provisioning_refuses_an_entry_without_a_name(client):
    response = login(client, "E1010", "Dir-Pass-1010")
    assert "缺少开通账号所需的信息" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.directory(**ONLY_HR, LDAP_JIT_PROVISIONING=True)
def test_provisioning_never_revives_an_account_hr_deactivated(client, create_user):
    create_user(employee_no="E1003", active=False)
    assert GENERIC in login(client, "E1003", "Dir-Pass-1003").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.directory(**ONLY_HR, LDAP_JIT_PROVISIONING=True)
def test_two_entries_with_one_employee_number_sign_nobody_in(client):
    assert GENERIC in login(client, "E1009", "Dir-Pass-1009").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.directory(**ONLY_HR, LDAP_JIT_PROVISIONING=True)
@pytest.mark.parametrize(
    "typed",
    [
        "*",
        "E100*",
        "E1001)(employeeNumber=*",
        "*)(|(employeeNumber=*",
        "E1001)(|(objectClass=*)",
        "\\2a",
        "E1001\\",
        "(employeeNumber=E1001)",
    ],
)
def test_filter_characters_in_the_employee_number_are_only_text(client, create_user, typed):
    create_user(employee_no="E1001")
    response = login(client, typed, "Dir-Pass-1001")
    assert response.status_code == 200
    assert GENERIC in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.directory(**ONLY_HR)
def test_an_employee_number_with_a_star_signs_in_as_itself(client, create_user):
    user = create_user(employee_no="E*")
    assert login(client, "E*", "Dir-Pass-star").status_code == 302
    assert session_methods(user.id) == ["ldap"]


@pytest.mark.directory(**ONLY_HR, LOGIN_MAX_FAILURES_PER_ACCOUNT=3)
def test_directory_sign_in_is_throttled_across_spellings_of_one_number(client, create_user):
    create_user(employee_no="E1001")
    for typed in ("E1001", "e1001", "E1001"):
        assert login(client, typed, "wrong-password").status_code == 200
    response = login(client, "e1001", "Dir-Pass-1001")  # even the right password waits now
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)


@pytest.mark.directory(**ONLY_HR)
def test_hr_signs_in_with_a_local_password_without_a_bind(client, create_user, caplog, slapd):
    hr = create_user(employee_no="H0001", role=Role.HR)  # in the directory too
    with caplog.at_level(logging.INFO, logger="training"):
        assert login(client, "H0001", PASSWORD).status_code == 302
    assert session_methods(hr.id) == ["password"]
    (event,) = events(caplog, "login.succeeded")
    assert event.method == "password"
    client.post("/logout")
    assert login(client, "H0001", "Dir-Pass-H001").status_code == 302  # or the company's
    assert session_methods(hr.id) == ["password", "ldap"]


@pytest.mark.directory(**ONLY_HR)
def test_hr_signed_in_through_the_directory_reaches_hr_pages_and_a_learner_does_not(
    client, create_user, app
):
    create_user(employee_no="H0001", role=Role.HR)
    create_user(employee_no="E1001")
    assert login(client, "H0001", "Dir-Pass-H001").status_code == 302
    assert client.get("/hr/employees").status_code == 200
    client.post("/logout")
    learner = app.test_client()
    assert login(learner, "E1001", "Dir-Pass-1001").status_code == 302
    assert learner.get("/hr/employees").status_code == 403


@pytest.fixture
def down(slapd):
    """Settings of a directory that is not there: a port nothing listens on."""
    return slapd.settings(LDAP_URL=f"ldap://127.0.0.1:{free_port()}", **ONLY_HR)


def test_directory_down_is_a_clear_error_that_counts_against_nobody(
    make_app, down, create_user, caplog
):
    app = make_app(**down)
    with app.app_context():
        create_user(employee_no="E1001")
        client = app.test_client()
        with caplog.at_level(logging.INFO, logger="training"):
            response = login(client, "E1001", "Dir-Pass-1001")
        assert response.status_code == 200
        assert UNREACHABLE in response.get_data(as_text=True)
        assert failures() == 0
        (event,) = events(caplog, "login.failed")
        assert (event.reason, event.method) == ("directory_unavailable", "ldap")
        assert events(caplog, "directory.unavailable")


def test_directory_down_hr_still_signs_in_with_a_local_password(make_app, down, create_user):
    app = make_app(**down)
    with app.app_context():
        hr = create_user(employee_no="H0001", role=Role.HR)
        client = app.test_client()
        assert login(client, "H0001", PASSWORD).status_code == 302
        assert client.get("/hr/employees").status_code == 200
        assert session_methods(hr.id) == ["password"]
        client.post("/logout")
        response = login(client, "H0001", "wrong-password-1")
        assert UNREACHABLE in response.get_data(as_text=True)
        assert failures() == 1  # a local password was checked: that counts


def test_a_directory_that_never_answers_times_out(make_app, slapd, create_user):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does) and never says a word
    try:
        port = silent.getsockname()[1]
        app = make_app(**slapd.settings(LDAP_URL=f"ldap://127.0.0.1:{port}", LDAP_TIMEOUT=1))
        with app.app_context():
            create_user(employee_no="E1001", role=Role.LEARNER)
            started = time.monotonic()
            response = login(app.test_client(), "E1001", "Dir-Pass-1001")
            assert UNREACHABLE in response.get_data(as_text=True)
            assert time.monotonic() - started < 10
    finally:
        silent.close()


def test_a_refused_search_account_is_the_directory_unavailable(make_app, slapd, caplog):
    app = make_app(**slapd.settings(LDAP_BIND_PASSWORD="not-the-secret"))
    with app.app_context(), caplog.at_level(logging.INFO, logger="training"):
        response = login(app.test_client(), "E1001", "Dir-Pass-1001")
        assert UNREACHABLE in response.get_data(as_text=True)
        (event,) = events(caplog, "directory.unavailable")
        assert "search account refused" in event.error


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_start_tls_verifies_the_directory_certificate(make_app, slapd, create_user, host):
    url = f"ldap://{host}:{slapd.port}"
    trusted = make_app(
        **slapd.settings(LDAP_URL=url, LDAP_START_TLS=True, LDAP_CA_FILE=str(slapd.ca_file))
    )
    with trusted.app_context():
        create_user(employee_no="E1001")
        assert login(trusted.test_client(), "E1001", "Dir-Pass-1001").status_code == 302
    # The test CA is not among the system's: without LDAP_CA_FILE the certificate is refused.
    untrusted = make_app(**slapd.settings(LDAP_URL=url, LDAP_START_TLS=True))
    with untrusted.app_context():
        response = login(untrusted.test_client(), "E1001", "Dir-Pass-1001")
        assert UNREACHABLE in response.get_data(as_text=True)


def test_ldaps_verifies_the_directory_certificate(make_app, slapd, create_user):
    trusted = make_app(**slapd.settings(LDAP_URL=slapd.tls_url, LDAP_CA_FILE=str(slapd.ca_file)))
    with trusted.app_context():
        create_user(employee_no="E1001")
        assert login(trusted.test_client(), "E1001", "Dir-Pass-1001").status_code == 302
    untrusted = make_app(**slapd.settings(LDAP_URL=slapd.tls_url))
    with untrusted.app_context():
        response = login(untrusted.test_client(), "E1001", "Dir-Pass-1001")
        assert UNREACHABLE in response.get_data(as_text=True)


def test_a_certificate_for_another_name_is_refused(make_app, slapd, create_user, caplog):
    """The certificate names 127.0.0.1 and localhost; 127.0.0.2 reaches the same server."""
    url = f"ldap://127.0.0.2:{slapd.port}"
    app = make_app(
        **slapd.settings(LDAP_URL=url, LDAP_START_TLS=True, LDAP_CA_FILE=str(slapd.ca_file))
    )
    with app.app_context(), caplog.at_level(logging.INFO, logger="training"):
        create_user(employee_no="E1001")
        response = login(app.test_client(), "E1001", "Dir-Pass-1001")
        assert UNREACHABLE in response.get_data(as_text=True)
        (event,) = events(caplog, "directory.unavailable")
        assert "certificate is not valid for '127.0.0.2'" in event.error


def test_the_search_account_binds_before_the_person(slapd, app):
    """The directory module on its own: what it reads from the entry it found."""
    result = directory.authenticate(app.config, "E1001", "Dir-Pass-1001")
    assert result.outcome == directory.Outcome.OK
    assert (result.employee_no, result.name, result.department) == ("E1001", "张三", "销售部")
    assert app.config["LDAP_BIND_DN"] == SEARCH_DN
    assert directory.authenticate(app.config, "E1001", "").outcome == (
        directory.Outcome.BAD_CREDENTIALS
    )
    assert directory.check_account(app.config, "E1002").outcome == directory.Outcome.DISABLED


@pytest.mark.directory(
    **ONLY_HR,
    LDAP_USER_FILTER="(&(objectClass=testAdAccount)(sAMAccountName={employee_no}))",
    LDAP_EMPLOYEE_NO_ATTRIBUTE="employeeNumber",
    LDAP_DEPARTMENT_ATTRIBUTE="department",
)
def test_active_directory_style_sign_in_by_account_name(client, create_user):
    """AD: people type their sAMAccountName; the 工号 comes from the entry's employeeNumber."""
    user = create_user(employee_no="E1001")
    assert login(client, "ZhangS", "Dir-Pass-1001").status_code == 302
    assert session_methods(user.id) == ["ldap"]
    client.post("/logout")
    assert GENERIC in login(client, "lis", "Dir-Pass-1002").get_data(as_text=True)  # disabled


@pytest.mark.directory(**ONLY_HR)
def test_the_directory_is_asked_without_the_sqlite_write_lock(client, create_user, monkeypatch):
    """While the directory is asked, another process can still write (and no transaction of
    this request is open)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite write lock")
    create_user(employee_no="E1001")
    path = db.engine.url.database
    real = directory.authenticate
    seen: list[str] = []

    def probing(*args):
        seen.append("open" if db.session().in_transaction() else "no transaction")
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

    monkeypatch.setattr(directory, "authenticate", probing)
    assert login(client, "E1001", "Dir-Pass-1001").status_code == 302
    assert seen == ["no transaction", "free"]


@pytest.mark.directory(**ONLY_HR, LOGIN_MAX_FAILURES_PER_ACCOUNT=3)
def test_parallel_directory_guesses_get_no_more_than_the_limit_evaluated(app, create_user):
    """As for passwords: each attempt is counted before the directory is asked."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from werkzeug.serving import make_server

    create_user(employee_no="E1001")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/login"
    statuses: list[int] = []
    start = threading.Barrier(8)

    def guess(n: int) -> None:
        body = urllib.parse.urlencode({"employee_no": "E1001", "password": f"wrong{n}"})
        start.wait()
        try:
            with urllib.request.urlopen(url, body.encode(), timeout=60) as response:  # noqa: S310
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    try:
        guesses = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
        for g in guesses:
            g.start()
        for g in guesses:
            g.join()
    finally:
        server.shutdown()
        server.server_close()
    assert statuses.count(200) <= 3
    assert statuses.count(429) >= 5


def test_without_slapd_the_fixture_says_what_to_install(monkeypatch):
    """The fixture turns this into a failure (pytest.fail), never a skip."""
    from tests.auth import slapd as module

    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    monkeypatch.setattr(module, "SLAPD", "/nonexistent/slapd")
    with pytest.raises(RuntimeError, match="slapd is needed .* apt-get install -y slapd"):
        module.Slapd.start()
