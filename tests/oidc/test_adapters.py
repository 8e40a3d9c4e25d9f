"""企业微信, 钉钉 and 飞书 web login against their recorded contracts.

Their real endpoints cannot be reached from here. A small HTTP server started by each test
plays the provider from tests/oidc/contracts/*.json (request and answer shapes written from
the providers' public API documents): it answers as the document says for a right request
and with the provider's own error shape for a wrong one, and keeps every request, so the
tests check what our adapter sends as well as how it takes each answer. They check the
recorded contract only, not the live services.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from training.auth.models import UserSession
from training.extensions import db

CONTRACTS = Path(__file__).parent / "contracts"
CODE = "CODE-FROM-THE-PROVIDER"
CORP_ID, AGENT_ID, SECRET = "ww1234567890abcdef", "1000002", "corp-secret-for-the-app"
APP_KEY, APP_SECRET = "dingabcdefgh12345678", "dingtalk-app-secret"
FEISHU_ID, FEISHU_SECRET = "cli_a1b2c3d4e5f6", "feishu-app-secret"

Answer = tuple[int, dict]


def contract(name: str) -> dict:
    return json.loads((CONTRACTS / f"{name}.json").read_text("utf-8"))


class Recorded:
    """A provider's API on 127.0.0.1: routes (method, path) -> answer; every request kept."""

    def __init__(self):
        self.routes: dict[tuple[str, str], Callable[[dict], Answer]] = {}
        self.requests: list[dict] = []
        recorded = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = {
                    "method": self.command,
                    "path": parts.path,
                    "query": dict(parse_qsl(parts.query)),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": json.loads(raw) if raw else None,
                }
                recorded.requests.append(request)
                route = recorded.routes.get((self.command, parts.path))
                status, body = route(request) if route else (404, {"error": "no such route"})
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def sent(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    server = Recorded()
    yield server
    server.stop()


@pytest.fixture
def app(make_app, recorded):
    """企业微信 and 飞书 on, each pointed at the recorded contract server (no OIDC here; 钉钉
    cannot be switched on yet, see below)."""
    app = make_app(
        WECOM_CORP_ID=CORP_ID,
        WECOM_AGENT_ID=AGENT_ID,
        WECOM_SECRET=SECRET,
        WECOM_AUTHORIZE_URL=recorded.url + "/connect/oauth2/authorize",
        WECOM_API_BASE=recorded.url,
        FEISHU_APP_ID=FEISHU_ID,
        FEISHU_APP_SECRET=FEISHU_SECRET,
        FEISHU_API_BASE=recorded.url,
    )
    with app.app_context():
        yield app


def start(client, provider: str) -> tuple[str, dict]:
    response = client.get(f"/login/sso/{provider}")
    assert response.status_code == 302
    location = response.headers["Location"]
    return location, dict(parse_qsl(urlsplit(location).query))


def finish(client, provider: str, state: str, code: str = CODE):
    return client.get(
        f"/login/sso/{provider}/callback", query_string={"code": code, "state": state}
    )


def methods(user_id: int) -> list[str]:
    db.session.rollback()
    return list(
        db.session.scalars(select(UserSession.method).where(UserSession.user_id == user_id))
    )


def message(client) -> str:
    return client.get("/login").get_data(as_text=True)


def failure(caplog) -> logging.LogRecord:
    (event,) = [r for r in caplog.records if getattr(r, "event", None) == "login.failed"]
    return event


def missing(request: dict, where: str, names: list[str]) -> list[str]:
    given = request[where] or {}
    return [name for name in names if not given.get(name)]


# 企业微信 -----------------------------------------------------------------------------------

WECOM = contract("wecom")


def wecom_routes(server: Recorded, member: str = "member") -> None:
    token = WECOM["gettoken"]
    userinfo = WECOM["getuserinfo"]

    def gettoken(request):
        if missing(request, "query", token["request"]["query"]):
            return 200, {"errcode": 41002, "errmsg": "corpid missing"}
        if (request["query"]["corpid"], request["query"]["corpsecret"]) != (CORP_ID, SECRET):
            return 200, token["bad_secret"]
        return 200, token["ok"]

    def getuserinfo(request):
        if request["query"].get("access_token") != token["ok"]["access_token"]:
            return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
        if request["query"].get("code") != CODE:
            return 200, userinfo["bad_code"]
        return 200, userinfo[member]

    server.routes[("GET", token["request"]["path"])] = gettoken
    server.routes[("GET", userinfo["request"]["path"])] = getuserinfo


def test_wecom_signs_in_a_member_by_userid(app, recorded, create_user):
    user = create_user(employee_no="USERID")
    wecom_routes(recorded)
    client = app.test_client()
    assert "企业微信登录" in message(client)
    location, query = start(client, "wecom")
    assert location.startswith(recorded.url + "/connect/oauth2/authorize?")
    assert location.endswith("#" + WECOM["authorize"]["fragment"])
    query = dict(parse_qsl(urlsplit(location).query))
    assert sorted(query) == sorted(WECOM["authorize"]["query"])
    assert (query["appid"], query["agentid"], query["scope"]) == (CORP_ID, AGENT_ID, "snsapi_base")
    assert query["redirect_uri"] == "http://localhost/login/sso/wecom/callback"
    assert finish(client, "wecom", query["state"]).headers["Location"] == "/"
    assert methods(user.id) == ["wecom"]
    (token,) = recorded.sent("/cgi-bin/gettoken")
    assert token["query"] == {"corpid": CORP_ID, "corpsecret": SECRET}
    (info,) = recorded.sent("/cgi-bin/auth/getuserinfo")
    assert info["query"] == {"access_token": "accesstoken000001", "code": CODE}


@pytest.mark.parametrize(
    ("case", "expected"),
    [("bad_code", "errcode 40029"), ("bad_secret", "errcode 40001"), ("non_member", "openid")],
)
def test_wecom_error_shapes_are_refused(app, recorded, create_user, caplog, case, expected):
    user = create_user(employee_no="USERID")
    wecom_routes(recorded, member="non_member" if case == "non_member" else "member")
    client = app.test_client()
    _, query = start(client, "wecom")
    if case == "bad_secret":
        app.config["WECOM_SECRET"] = "a-wrong-secret"
    with caplog.at_level(logging.INFO, logger="training"):
        finish(client, "wecom", query["state"], code="OTHER" if case == "bad_code" else CODE)
    assert "企业账号登录未完成" in message(client)
    assert expected in failure(caplog).detail
    assert methods(user.id) == []


def test_wecom_unknown_userid_is_refused(app, recorded, create_user):
    create_user(employee_no="SOMEONE-ELSE")
    wecom_routes(recorded)
    client = app.test_client()
    _, query = start(client, "wecom")
    finish(client, "wecom", query["state"])
    assert "培训系统中没有与之对应的账号（按工号匹配）" in message(client)


# 钉钉 ---------------------------------------------------------------------------------------

DINGTALK = contract("dingtalk")


def dingtalk_routes(server: Recorded) -> None:
    token = DINGTALK["userAccessToken"]
    me = DINGTALK["users_me"]

    def user_access_token(request):
        body = request["body"] or {}
        if missing(request, "body", token["request"]["body"]):
            return 400, {"code": "MissingParameter", "message": "缺少参数"}
        if (body["clientId"], body["clientSecret"], body["grantType"]) != (
            APP_KEY,
            APP_SECRET,
            "authorization_code",
        ):
            return 400, {
                "code": "InvalidClientIdOrSecret",
                "message": "无效的clientId或clientSecret",
            }
        if body["code"] != CODE:
            return 400, token["bad_code"]
        return 200, token["ok"]

    def users_me(request):
        if request["headers"].get(me["request"]["header"]) != token["ok"]["accessToken"]:
            return 401, me["bad_token"]
        return 200, me["ok"]

    server.routes[("POST", token["request"]["path"])] = user_access_token
    server.routes[("GET", me["request"]["path"])] = users_me


def _dingtalk(recorded: Recorded):
    """The 钉钉 adapter on its own, pointed at the recorded contract (the app refuses to
    switch it on: see the last test of this part)."""
    from training.auth.oauth import PROVIDERS
    from training.config import DefaultConfig

    config = {k: getattr(DefaultConfig, k) for k in dir(DefaultConfig) if k.startswith("DINGTALK_")}
    config |= {
        "DINGTALK_CLIENT_ID": APP_KEY,
        "DINGTALK_CLIENT_SECRET": APP_SECRET,
        "DINGTALK_AUTHORIZE_URL": recorded.url + "/oauth2/auth",
        "DINGTALK_API_BASE": recorded.url,
    }
    return PROVIDERS["dingtalk"](config)


def test_dingtalk_adapter_follows_the_recorded_contract(recorded):
    dingtalk_routes(recorded)
    adapter = _dingtalk(recorded)
    url = adapter.authorize_url({"state": "s" * 32}, "http://localhost/cb")
    query = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith(recorded.url + "/oauth2/auth?")
    assert sorted(query) == sorted(DINGTALK["authorize"]["query"])
    assert (query["client_id"], query["response_type"], query["scope"]) == (
        APP_KEY,
        "code",
        "openid",
    )
    identity = adapter.identity(CODE, {"state": "s" * 32}, "http://localhost/cb")
    assert identity.value == DINGTALK["users_me"]["ok"]["email"]
    (token,) = recorded.sent("/v1.0/oauth2/userAccessToken")
    assert token["headers"]["content-type"].startswith("application/json")
    assert token["body"] == {
        "clientId": APP_KEY,
        "clientSecret": APP_SECRET,
        "code": CODE,
        "grantType": "authorization_code",
    }
    (me,) = recorded.sent("/v1.0/contact/users/me")
    assert me["headers"]["x-acs-dingtalk-access-token"] == "abcd1234accesstoken"


def test_dingtalk_error_shapes_are_refused(recorded):
    from training.auth.oauth import ProviderError

    dingtalk_routes(recorded)
    adapter = _dingtalk(recorded)
    with pytest.raises(ProviderError, match="HTTP 400 InvalidAuthentication"):
        adapter.identity("EXPIRED", {}, "http://localhost/cb")
    # A token users/me refuses: its 401 shape is refused too.
    recorded.routes[("POST", "/v1.0/oauth2/userAccessToken")] = lambda request: (
        200,
        DINGTALK["userAccessToken"]["ok"] | {"accessToken": "revoked"},
    )
    with pytest.raises(ProviderError, match="HTTP 401 InvalidAuthentication"):
        adapter.identity(CODE, {}, "http://localhost/cb")


def test_dingtalk_cannot_be_switched_on_yet(make_app):
    """contact/users/me answers for any 钉钉 user with an address they set themselves: until
    the adapter asks the company's API whether the person is a member, the app refuses it."""
    from training.config import SettingsError

    with pytest.raises(SettingsError, match="钉钉 sign-in is not available yet"):
        make_app(DINGTALK_CLIENT_ID=APP_KEY, DINGTALK_CLIENT_SECRET=APP_SECRET)


# 飞书 ---------------------------------------------------------------------------------------

FEISHU = contract("feishu")


def feishu_routes(server: Recorded, verifier: dict) -> None:
    token = FEISHU["token"]
    info = FEISHU["user_info"]

    def oauth_token(request):
        body = request["body"] or {}
        if missing(request, "body", token["request"]["body"]):
            return 400, {"code": 20001, "error": "invalid_request", "error_description": "missing"}
        if (body["client_id"], body["client_secret"]) != (FEISHU_ID, FEISHU_SECRET):
            return 401, {"code": 20002, "error": "invalid_client", "error_description": "bad"}
        if body["code"] != CODE:
            return 400, token["bad_code"]
        verifier["sent"] = body["code_verifier"]
        return 200, token["ok"]

    def user_info(request):
        if request["headers"].get("authorization") != "Bearer " + token["ok"]["access_token"]:
            return 401, info["bad_token"]
        return 200, info["ok"]

    server.routes[("POST", token["request"]["path"])] = oauth_token
    server.routes[("GET", info["request"]["path"])] = user_info


def test_feishu_signs_in_by_employee_no_with_pkce(app, recorded, create_user):
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    user = create_user(employee_no="111222333")
    verifier: dict = {}
    feishu_routes(recorded, verifier)
    client = app.test_client()
    assert "飞书登录" in message(client)
    location, query = start(client, "feishu")
    assert location.startswith(recorded.url + "/open-apis/authen/v1/authorize?")
    assert sorted(query) == sorted(FEISHU["authorize"]["query"])
    assert query["app_id"] == FEISHU_ID
    assert query["code_challenge_method"] == "S256"
    assert finish(client, "feishu", query["state"]).headers["Location"] == "/"
    assert methods(user.id) == ["feishu"]
    # The verifier sent with the code is the one the challenge was made from.
    assert create_s256_code_challenge(verifier["sent"]) == query["code_challenge"]
    (token,) = recorded.sent("/open-apis/authen/v2/oauth/token")
    assert token["body"]["grant_type"] == "authorization_code"
    assert token["body"]["redirect_uri"] == "http://localhost/login/sso/feishu/callback"


@pytest.mark.parametrize(
    ("broken", "expected"),
    [("code", "code 20050"), ("token", "code 20005")],
)
def test_feishu_error_shapes_are_refused(app, recorded, create_user, caplog, broken, expected):
    user = create_user(employee_no="111222333")
    feishu_routes(recorded, {})
    if broken == "token":
        recorded.routes[("POST", "/open-apis/authen/v2/oauth/token")] = lambda request: (
            200,
            FEISHU["token"]["ok"] | {"access_token": "expired"},
        )
    client = app.test_client()
    _, query = start(client, "feishu")
    with caplog.at_level(logging.INFO, logger="training"):
        finish(client, "feishu", query["state"], code="OLD" if broken == "code" else CODE)
    assert "企业账号登录未完成" in message(client)
    assert expected in failure(caplog).detail
    assert methods(user.id) == []


def test_adapter_callbacks_check_the_state_too(app, recorded, create_user):
    create_user(employee_no="111222333")
    feishu_routes(recorded, {})
    client = app.test_client()
    _, query = start(client, "feishu")
    finish(client, "feishu", "forged-state")
    assert "这次登录请求已失效或不是从本站发起的" in message(client)
    # The state was taken by the forged callback: the real one cannot be used after it.
    finish(client, "feishu", query["state"])
    assert "这次登录请求已失效或不是从本站发起的" in message(client)
    assert recorded.sent("/open-apis/authen/v2/oauth/token") == []


def test_a_deactivated_account_is_refused_through_an_adapter(app, recorded, create_user):
    user = create_user(employee_no="111222333", active=False)
    feishu_routes(recorded, {})
    client = app.test_client()
    _, query = start(client, "feishu")
    finish(client, "feishu", query["state"])
    assert "账号已停用" in message(client)
    assert methods(user.id) == []
