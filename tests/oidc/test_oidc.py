"""Sign-in with OpenID Connect, end to end against a real oidc-provider (tests/oidc/provider.mjs).

The Flask test client is the browser at our app; tests/oidc/provider.py is the same browser
at the provider (its cookies, its redirects), and carries the provider's redirect back to us.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy import func, select

from tests.app.test_access_policy import POLICY
from training.audit.models import AuditEvent
from training.auth.models import LoginAttempt, Role, User, UserSession
from training.extensions import db

REFUSED_STATE = "这次登录请求已失效或不是从本站发起的"
REFUSED_TOKEN = "企业账号登录未完成"
NO_ACCOUNT = "培训系统中没有与之对应的账号（按工号匹配）"
DEACTIVATED = "账号已停用"


def start(client, **query) -> str:
    """Press 使用企业账号登录; return the provider's authorize URL our app sends us to."""
    response = client.get("/login/sso/oidc", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(client.application.config["OIDC_ISSUER"] + "/auth?")
    return location


def sign_in(client, provider, login_hint: str, **query):
    """The whole flow; return our app's answer to the provider's callback."""
    callback = provider.authorize(start(client, **query), login_hint)
    return client.get(callback)


def flashed(client) -> str:
    return client.get("/login").get_data(as_text=True)


def sessions(user_id: int) -> list[str]:
    db.session.rollback()
    return list(
        db.session.scalars(select(UserSession.method).where(UserSession.user_id == user_id))
    )


def users() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(User))


def events(caplog, name):
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def test_the_login_page_offers_the_company_account(client):
    page = client.get("/login").get_data(as_text=True)
    assert "使用企业账号登录" in page
    assert 'href="/login/sso/oidc"' in page


def test_the_button_is_absent_and_the_routes_404_when_not_configured(make_app):
    app = make_app()
    client = app.test_client()
    assert "使用企业账号登录" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/sso/oidc").status_code == 404
    assert client.get("/login/sso/oidc/callback?code=x&state=y").status_code == 404


def test_the_authorize_request_carries_state_nonce_and_pkce(client):
    query = dict(parse_qsl(urlsplit(start(client)).query))
    assert query["response_type"] == "code"
    assert query["client_id"] == "training-test"
    assert query["redirect_uri"] == "http://localhost/login/sso/oidc/callback"
    assert query["scope"] == "openid profile email"
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32
    assert len(query["nonce"]) >= 32
    assert len(query["code_challenge"]) == 43
    # A second start is a new state and nonce.
    again = dict(parse_qsl(urlsplit(start(client)).query))
    assert again["state"] != query["state"]
    assert again["nonce"] != query["nonce"]


def test_an_employee_signs_in(client, provider, create_user, caplog):
    user = create_user(employee_no="E2001", name="李四")
    provider.set_accounts({"li.si": {"employee_no": "E2001", "name": "李四"}})
    with caplog.at_level(logging.INFO, logger="training"):
        response = sign_in(client, provider, "li.si")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "李四" in client.get("/").get_data(as_text=True)
    assert sessions(user.id) == ["oidc"]
    (event,) = events(caplog, "login.succeeded")
    assert (event.user_id, event.method) == (user.id, "oidc")
    assert db.session.scalar(select(LoginAttempt.succeeded)) is True


def test_the_next_page_survives_the_round_trip(client, provider, create_user):
    create_user(employee_no="E2001")
    provider.set_accounts({"a": {"employee_no": "E2001"}})
    response = sign_in(client, provider, "a", next="/practice/")
    assert response.headers["Location"] == "/practice/"


def test_another_site_as_next_ends_on_the_landing_page(client, provider, create_user):
    create_user(employee_no="E2009", role=Role.HR)
    provider.set_accounts({"h": {"employee_no": "E2009"}})
    response = sign_in(client, provider, "h", next="//evil.example/")
    assert response.headers["Location"] == "/hr/"


@pytest.mark.oidc(OIDC_CLAIM="email", OIDC_MATCH_FIELD="email")
def test_the_account_may_be_matched_by_email(client, provider, create_user):
    user = create_user(employee_no="E2002", email="wang.wu@example.com")
    provider.set_accounts({"ww": {"email": "Wang.Wu@example.com", "email_verified": True}})
    assert sign_in(client, provider, "ww").status_code == 302
    assert sessions(user.id) == ["oidc"]


@pytest.mark.oidc(OIDC_CLAIM="email", OIDC_MATCH_FIELD="email")
def test_an_address_the_provider_did_not_verify_matches_nobody(client, provider, create_user):
    """Someone who registered the victim's address at the provider cannot sign in as them."""
    user = create_user(employee_no="E2003", email="zhao.liu@example.com")
    for claims in ({"email": "zhao.liu@example.com", "email_verified": False},
                   {"email": "zhao.liu@example.com"}):  # fmt: skip
        provider.set_accounts({"zl": claims})
        sign_in(client, provider, "zl")
        assert REFUSED_TOKEN in flashed(client)
        assert sessions(user.id) == []


def test_a_wrong_nonce_is_refused(client, provider, create_user, caplog):
    user = create_user(employee_no="E2001")
    provider.set_accounts({"a": {"employee_no": "E2001"}})
    parts = urlsplit(start(client))
    query = dict(parse_qsl(parts.query)) | {"nonce": "a-nonce-this-browser-was-never-given"}
    callback = provider.authorize(urlunsplit(parts._replace(query=urlencode(query))), "a")
    with caplog.at_level(logging.INFO, logger="training"):
        response = client.get(callback)
    assert response.status_code == 302
    assert REFUSED_TOKEN in flashed(client)
    assert sessions(user.id) == []
    (event,) = events(caplog, "login.failed")
    assert event.reason == "provider"
    assert "nonce" in event.detail


def test_an_expired_id_token_is_refused(client, provider, create_user, caplog):
    """The provider's clock is an hour behind: its ten-minute ID token expired by ours."""
    user = create_user(employee_no="E2001")
    provider.set_accounts({"a": {"employee_no": "E2001"}})
    callback = provider.authorize(start(client), "a")
    provider.set_clock(-3600)  # before the code is exchanged: the ID token is made now
    with caplog.at_level(logging.INFO, logger="training"):
        client.get(callback)
    assert REFUSED_TOKEN in flashed(client)
    assert sessions(user.id) == []
    (event,) = events(caplog, "login.failed")
    assert "exp" in event.detail or "expired" in event.detail.lower()


def test_an_id_token_that_does_not_verify_against_the_jwks_is_refused(
    client, provider, create_user, caplog
):
    user = create_user(employee_no="E2001")
    provider.set_accounts({"a": {"employee_no": "E2001"}})
    callback = provider.authorize(start(client), "a")
    provider.publish_foreign_key()
    with caplog.at_level(logging.INFO, logger="training"):
        client.get(callback)
    assert REFUSED_TOKEN in flashed(client)
    assert "signature" in events(caplog, "login.failed")[0].detail
    assert sessions(user.id) == []


def test_a_discovery_document_for_another_issuer_is_refused(make_app, provider):
    """Reached as localhost, the provider names itself 127.0.0.1: not the issuer we trust."""
    issuer = provider.issuer.replace("127.0.0.1", "localhost")
    app = make_app(**provider.settings(OIDC_ISSUER=issuer))
    client = app.test_client()
    assert client.get("/login/sso/oidc").headers["Location"] == "/login"
    assert REFUSED_TOKEN in flashed(client)


@pytest.mark.oidc(OIDC_CLOCK_SKEW=7200)
def test_the_clock_skew_setting_is_the_leeway(client, provider, create_user):
    user = create_user(employee_no="E2001")
    provider.set_accounts({"a": {"employee_no": "E2001"}})
    callback = provider.authorize(start(client), "a")
    provider.set_clock(-3600)
    assert client.get(callback).headers["Location"] == "/"
    assert sessions(user.id) == ["oidc"]


def test_an_unknown_employee_is_refused_and_nothing_is_created(client, provider, create_user):
    create_user(employee_no="E2001")
    provider.set_accounts({"n": {"employee_no": "E9999", "name": "新人", "department": "客服部"}})
    before = users()
    response = sign_in(client, provider, "n")
    assert response.status_code == 302
    assert NO_ACCOUNT in flashed(client)
    assert users() == before
    assert client.get("/").status_code == 302  # not signed in


@pytest.mark.oidc(OIDC_JIT_PROVISIONING=True)
def test_jit_provisioning_creates_the_account_from_claims(client, provider):
    provider.set_accounts(
        {"n": {"employee_no": "E3001", "name": "赵六", "department": "客服部", "email": "z@x.cn"}}
    )
    assert sign_in(client, provider, "n").headers["Location"] == "/"
    user = db.session.scalar(select(User).where(User.employee_no == "E3001"))
    assert (user.name, user.department, user.email, user.role) == (
        "赵六",
        "客服部",
        "z@x.cn",
        Role.LEARNER,
    )
    assert user.password_hash is None
    assert sessions(user.id) == ["oidc"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.provision"))
    assert event.details["source"] == "oidc"
    assert event.target_user_id == user.id
    # The second sign-in finds the account: nothing new.
    other = client.application.test_client()
    assert sign_in(other, provider, "n").headers["Location"] == "/"
    assert users() == 1


@pytest.mark.oidc(OIDC_JIT_PROVISIONING=True)
def test_jit_without_a_name_creates_nothing(client, provider):
    provider.set_accounts({"n": {"employee_no": "E3002"}})
    sign_in(client, provider, "n")
    assert "缺少开通账号所需的姓名或工号" in flashed(client)
    assert users() == 0


@pytest.mark.oidc(OIDC_JIT_PROVISIONING=True)
def test_a_deactivated_account_is_refused_whatever_the_provider_says(client, provider, create_user):
    user = create_user(employee_no="E2001", active=False)
    provider.set_accounts({"a": {"employee_no": "E2001", "name": "停用"}})
    sign_in(client, provider, "a")
    assert DEACTIVATED in flashed(client)
    assert sessions(user.id) == []
    assert users() == 1


def test_a_replayed_callback_is_refused(client, provider, create_user):
    user = create_user(employee_no="E2001")
    provider.set_accounts({"a": {"employee_no": "E2001"}})
    callback = provider.authorize(start(client), "a")
    saved = client.get_cookie("training_session")
    assert saved is not None
    assert client.get(callback).headers["Location"] == "/"
    client.post("/logout")  # the session ends; the attacker has the callback URL
    db.session.rollback()
    # Same browser, same callback: the state was used up.
    client.get(callback)
    assert REFUSED_STATE in flashed(client)
    # Another browser holding the cookie from before the first callback: the state matches,
    # but the provider refuses the code a second time.
    other = client.application.test_client()
    other.set_cookie("training_session", saved.value)
    other.get(callback)
    assert REFUSED_TOKEN in flashed(other)
    assert sessions(user.id) == ["oidc"]


def test_a_forged_callback_is_refused(client, provider, create_user):
    user = create_user(employee_no="E2001")
    provider.set_accounts({"a": {"employee_no": "E2001"}})
    callback = provider.authorize(start(client), "a")
    parts = urlsplit(callback)
    forged = dict(parse_qsl(parts.query)) | {"state": "not-the-state-we-gave"}
    client.get(f"{parts.path}?{urlencode(forged)}")
    assert REFUSED_STATE in flashed(client)
    # A callback reaching a browser that never started a login (login CSRF) is refused too.
    stranger = client.application.test_client()
    stranger.get(callback)
    assert REFUSED_STATE in flashed(stranger)
    assert sessions(user.id) == []


def test_an_unreachable_provider_is_a_clear_message(make_app):
    app = make_app(OIDC_ISSUER="http://127.0.0.1:9", OIDC_CLIENT_ID="x", OIDC_CLIENT_SECRET="y")
    client = app.test_client()
    response = client.get("/login/sso/oidc")
    assert response.headers["Location"] == "/login"
    assert "暂时无法连接企业账号登录服务" in client.get("/login").get_data(as_text=True)


@pytest.mark.oidc(LOGIN_MAX_FAILURES_PER_ACCOUNT=2, LOGIN_DELAY_SECONDS=600)
def test_failed_callbacks_are_throttled(client, provider):
    for _ in range(2):
        client.get("/login/sso/oidc/callback?code=x&state=forged")
    response = client.get("/login/sso/oidc/callback?code=x&state=forged")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)


@pytest.mark.oidc(PASSWORD_LOGIN_ROLES=["hr"])
def test_password_login_can_be_off_for_learners_while_oidc_signs_them_in(
    client, provider, create_user
):
    user = create_user(employee_no="E2001")
    response = client.post("/login", data={"employee_no": "E2001", "password": "Correct-Horse-42"})
    assert response.status_code == 200  # refused: learners sign in with the company account
    assert "员工请点击下方按钮，使用企业账号登录" in response.get_data(as_text=True)
    provider.set_accounts({"a": {"employee_no": "E2001"}})
    assert sign_in(client, provider, "a").headers["Location"] == "/"
    assert sessions(user.id) == ["oidc"]


@pytest.mark.parametrize(
    ("role", "allowed", "forbidden"),
    [
        (Role.LEARNER, ["lessons.home", "practice.index"], ["reports.dashboard", "jobs.index"]),
        (Role.MANAGER, ["reports.employee_list"], ["reports.dashboard", "employees.create"]),
        (Role.HR, ["reports.dashboard", "jobs.index", "employees.create"], []),
    ],
)
def test_an_oidc_session_passes_the_access_matrix(
    client, provider, create_user, role, allowed, forbidden
):
    """A session created by OIDC is held to the same policy table as a password session."""
    user = create_user(employee_no="E4001", role=role)
    provider.set_accounts({"p": {"employee_no": "E4001"}})
    assert sign_in(client, provider, "p").status_code == 302
    assert sessions(user.id) == ["oidc"]
    urls = {"lessons.home": "/", "practice.index": "/practice/"}
    with client.application.test_request_context():
        from flask import url_for

        for endpoint in allowed + forbidden:
            urls.setdefault(endpoint, url_for(endpoint))
    for endpoint in allowed:
        assert POLICY[endpoint] in ("user", "staff", "hr")
        response = client.get(urls[endpoint])
        assert response.status_code == 200, (role, endpoint, response.status_code)
    for endpoint in forbidden:
        assert client.get(urls[endpoint]).status_code == 403, (role, endpoint)
