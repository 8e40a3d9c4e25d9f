"""Sign-in through an identity provider: OpenID Connect, and 企业微信 / 钉钉 / 飞书 web login.

All four share one path (training/auth/views.py ``sso_start`` and ``sso_callback``):

1. ``begin`` makes a fresh ``state`` (and for OIDC a ``nonce`` and a PKCE verifier), kept in
   the signed cookie session until the callback, and returns the provider's authorize URL.
2. The provider sends the browser back with ``code`` and ``state``. ``complete`` refuses a
   ``state`` that is not the one this browser was given (a forged or replayed callback: the
   pending login is taken out of the session at the first callback, whatever its result),
   exchanges the code and returns an ``Identity``: the value of the configured claim and the
   person's name, department and email where the provider gives them.
3. training/auth/signin.py ``finish_external`` matches the identity to an account.

OpenID Connect follows the standard with Authlib: discovery from OIDC_ISSUER, the
authorization code flow with PKCE (S256), and the ID token checked by Authlib's
``CodeIDToken`` after its signature is verified with the provider's JWKS (joserfc, as
Authlib's own clients do): ``iss``, ``aud``, ``exp`` (OIDC_CLOCK_SKEW seconds of leeway),
``iat``, ``nonce`` and ``at_hash``. Claims missing from the ID token are read from the
userinfo endpoint, whose ``sub`` must be the ID token's.

企业微信, 钉钉 and 飞书 are not OIDC: each has its own authorize URL, code exchange and
user-info call (``Wecom``, ``Dingtalk``, ``Feishu``), with the shapes of their public API
documents. No database is touched here; nothing here runs inside a transaction.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from training.i18n import N_

log = logging.getLogger("training.oauth")

PENDING = "sso_pending"  # the cookie session's key for the login under way
PENDING_SECONDS = 600  # a login not finished within ten minutes starts again


class ProviderError(Exception):
    """The provider refused, answered what cannot be trusted, or could not be reached.

    ``unavailable`` is True when it could not be reached at all (the person may try later).
    """

    def __init__(self, detail: str, *, unavailable: bool = False):
        super().__init__(detail)
        self.unavailable = unavailable


class StateError(Exception):
    """The callback does not belong to a login this browser started (forged or replayed)."""


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in; ``value`` is the configured claim's value."""

    provider: str
    value: str
    name: str = ""
    department: str = ""
    email: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)


def _http(
    method: str,
    url: str,
    timeout: float,
    *,
    params: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    """One request; return the status and the JSON answer (ProviderError if there is none)."""
    if params:
        url += ("&" if "?" in url else "?") + urlencode(params)
    data = None
    sent = {"Accept": "application/json", **(headers or {})}
    if form is not None:
        data = urlencode(form).encode("ascii")
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        sent["Content-Type"] = "application/json; charset=utf-8"
    if not url.lower().startswith(("https://", "http://")):
        raise ProviderError(f"not an http(s) address: {url[:100]}")
    request = urllib.request.Request(url, data=data, headers=sent, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read(1_000_000)
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read(100_000)
    except (OSError, ValueError) as error:  # refused, timed out, TLS that does not verify
        raise ProviderError(f"{type(error).__name__}: {error}", unavailable=True) from None
    try:
        return status, json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProviderError(f"HTTP {status} without JSON from {url.split('?')[0]}") from None


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return "" if value is None or isinstance(value, dict) else str(value).strip()


class Provider:
    """One way to sign in through a provider; subclasses fill in the three steps."""

    key = ""  # the URL's <provider> and the session's sign-in method
    prefix = ""  # its settings' prefix, e.g. OIDC_

    def __init__(self, config: Mapping[str, Any]):
        self.config = config

    def setting(self, name: str) -> Any:
        return self.config[self.prefix + name]

    @property
    def timeout(self) -> float:
        return float(self.setting("TIMEOUT"))

    def authorize_url(self, pending: dict[str, str], redirect_uri: str) -> str:
        raise NotImplementedError

    def identity(self, code: str, pending: Mapping[str, str], redirect_uri: str) -> Identity:
        raise NotImplementedError

    def _identity(self, data: Mapping[str, Any], *, name: str, department: str = "") -> Identity:
        claim = self.setting("CLAIM")
        value = _text(data.get(claim))
        if not value:
            raise ProviderError(f"the answer has no {claim!r}")
        return Identity(
            self.key,
            value,
            name=_text(data.get(name)),
            department=_text(data.get(department)) if department else "",
            email=_text(data.get("email")),
            claims=dict(data),
        )


class Oidc(Provider):
    """OpenID Connect: authorization code with PKCE, the ID token checked as above."""

    key, prefix = "oidc", "OIDC_"
    _metadata: dict[str, tuple[float, dict[str, Any]]] = {}  # issuer -> (fetched at, document)

    def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document, kept for an hour per process."""
        issuer = self.setting("ISSUER")
        cached = self._metadata.get(issuer)
        if cached is not None and time.monotonic() - cached[0] < 3600:
            return cached[1]
        status, document = _http("GET", issuer + "/.well-known/openid-configuration", self.timeout)
        if status != 200 or not isinstance(document, dict):
            raise ProviderError(f"discovery answered HTTP {status}", unavailable=True)
        if document.get("issuer") != issuer:
            # OIDC Discovery 4.3: the document must name the issuer it was fetched for.
            raise ProviderError(f"discovery names issuer {document.get('issuer')!r}")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str):
                raise ProviderError(f"discovery has no {name}")
        self._metadata[issuer] = (time.monotonic(), document)
        return document

    def authorize_url(self, pending: dict[str, str], redirect_uri: str) -> str:
        metadata = self.metadata()
        pending["nonce"] = generate_token(32)
        pending["verifier"] = generate_token(64)
        params = {
            "response_type": "code",
            "client_id": self.setting("CLIENT_ID"),
            "redirect_uri": redirect_uri,
            "scope": self.setting("SCOPES"),
            "state": pending["state"],
            "nonce": pending["nonce"],
            "code_challenge": create_s256_code_challenge(pending["verifier"]),
            "code_challenge_method": "S256",
        }
        endpoint = metadata["authorization_endpoint"]
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)

    def identity(self, code: str, pending: Mapping[str, str], redirect_uri: str) -> Identity:
        metadata = self.metadata()
        status, token = _http(
            "POST",
            metadata["token_endpoint"],
            self.timeout,
            form={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": pending.get("verifier", ""),
                "client_id": self.setting("CLIENT_ID"),
                "client_secret": self.setting("CLIENT_SECRET"),
            },
        )
        if status != 200 or not isinstance(token, dict) or "id_token" not in token:
            error = token.get("error") if isinstance(token, dict) else None
            raise ProviderError(f"token endpoint answered HTTP {status} {error or ''}".strip())
        claims = self._verified_claims(metadata, token, pending.get("nonce", ""))
        data = dict(claims)
        wanted = (
            self.setting("CLAIM"),
            self.setting("NAME_CLAIM"),
            self.setting("DEPARTMENT_CLAIM"),
        )
        if metadata.get("userinfo_endpoint") and any(w and w not in data for w in wanted):
            data = self._userinfo(metadata["userinfo_endpoint"], token, claims) | data
        if self.setting("MATCH_FIELD") == "email" and data.get("email_verified") is not True:
            # An address the provider has not verified may be anyone's: never match on it.
            raise ProviderError("the provider does not say the e-mail address is verified")
        return self._identity(
            data, name=self.setting("NAME_CLAIM"), department=self.setting("DEPARTMENT_CLAIM")
        )

    def _key_set(self, metadata: Mapping[str, Any]) -> KeySet:
        status, keys = _http("GET", metadata["jwks_uri"], self.timeout)
        if status != 200 or not isinstance(keys, dict):
            raise ProviderError(f"jwks_uri answered HTTP {status}", unavailable=True)
        try:
            return KeySet.import_key_set(keys)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as error:
            raise ProviderError(f"unusable JWKS: {error}") from None

    def _verified_claims(
        self, metadata: Mapping[str, Any], token: Mapping[str, Any], nonce: str
    ) -> CodeIDToken:
        algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        # "none" and the HMAC family (keyed with the client secret) are never accepted here.
        algorithms = [a for a in algorithms if a != "none" and not a.startswith("HS")]
        if not algorithms:  # an empty list would let the library fall back to its defaults
            raise ProviderError("ID token: the provider offers no asymmetric signing algorithm")
        try:
            decoded = jwt.decode(
                token["id_token"],
                key=self._key_set(metadata),
                registry=JWSRegistry(algorithms=algorithms),
            )
        except (JoseError, ValueError, TypeError) as error:
            raise ProviderError(f"ID token signature: {type(error).__name__}: {error}") from None
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "values": [metadata["issuer"]]},
                "aud": {"essential": True, "value": self.setting("CLIENT_ID")},
            },
            {
                "nonce": nonce,
                "client_id": self.setting("CLIENT_ID"),
                "access_token": token.get("access_token"),
            },
        )
        try:
            claims.validate(leeway=int(self.setting("CLOCK_SKEW")))
        except JoseError as error:
            raise ProviderError(f"ID token: {type(error).__name__}: {error}") from None
        if not nonce:
            raise ProviderError("ID token: no nonce was sent")
        return claims

    def _userinfo(
        self, endpoint: str, token: Mapping[str, Any], claims: Mapping[str, Any]
    ) -> dict[str, Any]:
        status, info = _http(
            "GET",
            endpoint,
            self.timeout,
            headers={"Authorization": f"Bearer {token.get('access_token', '')}"},
        )
        if status != 200 or not isinstance(info, dict):
            raise ProviderError(f"userinfo answered HTTP {status}")
        if info.get("sub") != claims.get("sub"):
            # OIDC Core 5.3.2: the userinfo sub must be the ID token's, or it is not used.
            raise ProviderError("userinfo is for another sub than the ID token")
        return info


class Wecom(Provider):
    """企业微信 web login (OAuth2 网页授权): the member's UserId from ``auth/getuserinfo``."""

    key, prefix = "wecom", "WECOM_"

    def authorize_url(self, pending: dict[str, str], redirect_uri: str) -> str:
        params = {
            "appid": self.setting("CORP_ID"),
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "snsapi_base",
            "state": pending["state"],
            "agentid": self.setting("AGENT_ID"),
        }
        return self.setting("AUTHORIZE_URL") + "?" + urlencode(params) + "#wechat_redirect"

    def _call(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        status, answer = _http("GET", self.setting("API_BASE") + path, self.timeout, params=params)
        if not isinstance(answer, dict):
            raise ProviderError(f"{path}: HTTP {status}, not a JSON object")
        if answer.get("errcode", -1) != 0:
            raise ProviderError(f"{path}: errcode {answer.get('errcode')} {answer.get('errmsg')}")
        return answer

    def identity(self, code: str, pending: Mapping[str, str], redirect_uri: str) -> Identity:
        token = self._call(
            "/cgi-bin/gettoken",
            {"corpid": self.setting("CORP_ID"), "corpsecret": self.setting("SECRET")},
        )
        user = self._call(
            "/cgi-bin/auth/getuserinfo",
            {"access_token": _text(token.get("access_token")), "code": code},
        )
        if not user.get("userid"):
            # An openid without userid: someone outside the company (企业微信 says so).
            raise ProviderError("not a member of the company (openid, no userid)")
        return self._identity(user, name="")


class Dingtalk(Provider):
    """钉钉 web login (OAuth2 统一授权): ``userAccessToken``, then ``contact/users/me``."""

    key, prefix = "dingtalk", "DINGTALK_"

    def authorize_url(self, pending: dict[str, str], redirect_uri: str) -> str:
        params = {
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "client_id": self.setting("CLIENT_ID"),
            "scope": "openid",
            "state": pending["state"],
            "prompt": "consent",
        }
        return self.setting("AUTHORIZE_URL") + "?" + urlencode(params)

    @staticmethod
    def _problem(path: str, status: int, answer: Any) -> ProviderError:
        if isinstance(answer, dict):
            return ProviderError(
                f"{path}: HTTP {status} {answer.get('code')} {answer.get('message')}"
            )
        return ProviderError(f"{path}: HTTP {status}")

    def identity(self, code: str, pending: Mapping[str, str], redirect_uri: str) -> Identity:
        base = self.setting("API_BASE")
        status, token = _http(
            "POST",
            base + "/v1.0/oauth2/userAccessToken",
            self.timeout,
            body={
                "clientId": self.setting("CLIENT_ID"),
                "clientSecret": self.setting("CLIENT_SECRET"),
                "code": code,
                "grantType": "authorization_code",
            },
        )
        if status != 200 or not isinstance(token, dict) or not token.get("accessToken"):
            raise self._problem("userAccessToken", status, token)
        status, user = _http(
            "GET",
            base + "/v1.0/contact/users/me",
            self.timeout,
            headers={"x-acs-dingtalk-access-token": str(token["accessToken"])},
        )
        if status != 200 or not isinstance(user, dict):
            raise self._problem("contact/users/me", status, user)
        return self._identity(user, name="nick")


class Feishu(Provider):
    """飞书 web login: ``authen/v2/oauth/token`` (with PKCE), then ``authen/v1/user_info``."""

    key, prefix = "feishu", "FEISHU_"

    def authorize_url(self, pending: dict[str, str], redirect_uri: str) -> str:
        pending["verifier"] = generate_token(64)
        params = {
            "app_id": self.setting("APP_ID"),
            "redirect_uri": redirect_uri,
            "state": pending["state"],
            "code_challenge": create_s256_code_challenge(pending["verifier"]),
            "code_challenge_method": "S256",
        }
        return self.setting("API_BASE") + "/open-apis/authen/v1/authorize?" + urlencode(params)

    def identity(self, code: str, pending: Mapping[str, str], redirect_uri: str) -> Identity:
        base = self.setting("API_BASE")
        status, token = _http(
            "POST",
            base + "/open-apis/authen/v2/oauth/token",
            self.timeout,
            body={
                "grant_type": "authorization_code",
                "client_id": self.setting("APP_ID"),
                "client_secret": self.setting("APP_SECRET"),
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": pending.get("verifier", ""),
            },
        )
        if (
            not isinstance(token, dict)
            or token.get("code", -1) != 0
            or not token.get("access_token")
        ):
            detail = (
                token.get("error_description") or token.get("msg")
                if isinstance(token, dict)
                else ""
            )
            code_ = token.get("code") if isinstance(token, dict) else None
            raise ProviderError(f"authen/v2/oauth/token: HTTP {status} code {code_} {detail}")
        status, answer = _http(
            "GET",
            base + "/open-apis/authen/v1/user_info",
            self.timeout,
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        if not isinstance(answer, dict) or answer.get("code", -1) != 0:
            detail = answer.get("msg") if isinstance(answer, dict) else ""
            code_ = answer.get("code") if isinstance(answer, dict) else None
            raise ProviderError(f"authen/v1/user_info: HTTP {status} code {code_} {detail}")
        data = answer.get("data")
        if not isinstance(data, dict):
            raise ProviderError("authen/v1/user_info: no data")
        return self._identity(data, name="name")


PROVIDERS: dict[str, type[Provider]] = {p.key: p for p in (Oidc, Wecom, Dingtalk, Feishu)}
# The setting that turns each on (empty: off).
SWITCHES = {
    "oidc": "OIDC_ISSUER",
    "wecom": "WECOM_CORP_ID",
    "dingtalk": "DINGTALK_CLIENT_ID",
    "feishu": "FEISHU_APP_ID",
}
LABELS = {
    "oidc": N_("使用企业账号登录"),
    "wecom": N_("企业微信登录"),
    "dingtalk": N_("钉钉登录"),
    "feishu": N_("飞书登录"),
}


def enabled(config: Mapping[str, Any]) -> list[str]:
    """The providers configured, in the order of the login page's buttons."""
    return [key for key, name in SWITCHES.items() if config.get(name)]


def provider(config: Mapping[str, Any], key: str) -> Provider | None:
    """The configured provider for a URL's <provider>, or None."""
    if key not in PROVIDERS or key not in enabled(config):
        return None
    return PROVIDERS[key](config)


def begin(chosen: Provider, session: Any, redirect_uri: str, next_url: str) -> str:
    """Start a login: keep its state in the cookie session; return the authorize URL."""
    pending = {
        "provider": chosen.key,
        "state": generate_token(32),
        "next": next_url,
        "at": str(int(time.time())),
    }
    url = chosen.authorize_url(pending, redirect_uri)
    session[PENDING] = pending
    return url


def take_pending(session: Any, key: str, state: str) -> dict[str, str]:
    """Take the login under way out of the session and check the callback's state against it.

    Taken whatever the outcome, so one state answers one callback only.
    """
    pending = session.pop(PENDING, None)
    if not isinstance(pending, dict) or not state:
        raise StateError("no login under way in this browser")
    if not hmac.compare_digest(str(pending.get("state", "")), state):
        raise StateError("state is not the one this browser was given")
    if pending.get("provider") != key:
        raise StateError("state was given for another provider")
    if time.time() - int(pending.get("at", "0")) > PENDING_SECONDS:
        raise StateError("the login was started more than ten minutes ago")
    return pending
