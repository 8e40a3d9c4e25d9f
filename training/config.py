"""Configuration defaults and the instance-folder secret key."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent


class DefaultConfig:
    """Settings every environment starts from; override with TRAINING_* variables."""

    # JSON keeps Chinese as UTF-8 rather than \uXXXX escapes: a third of the size.
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": True,
        "json_serializer": lambda value: json.dumps(value, ensure_ascii=False),
    }
    # PostgreSQL through PgBouncer in transaction mode (before PgBouncer 1.21, or without its
    # max_prepared_statements): false, since psycopg's server-side prepared statements live on
    # one server connection and the next transaction may get another one.
    DATABASE_PREPARED_STATEMENTS = True
    CONTENT_DIR = REPO_ROOT / "content"
    QUIZ_DIR = REPO_ROOT / "quizzes"

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

    SESSION_COOKIE_NAME = "training_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600  # idle: a cookie unused this long is gone
    SESSION_ABSOLUTE_LIFETIME = 12 * 3600  # a session ends this long after login, busy or not
    MAX_CONTENT_LENGTH = 24 * 1024 * 1024  # an import file up to IMPORT_MAX_BYTES, and the form
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    LOGIN_THROTTLE_WINDOW = 15 * 60
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    # Past the account limit, each attempt from that address waits this long, doubling per
    # failure up to the maximum; then the right password works again.
    LOGIN_DELAY_SECONDS = 30
    LOGIN_DELAY_MAX_SECONDS = 15 * 60

    API_RATE_PER_MINUTE = 120  # requests per API token per minute, across all workers
    API_PAGE_MAX = 200  # the most rows one API page returns

    ONBOARDING_DAYS = 14  # due date = 入职日期 + this many days
    # "strict": due = 入职日期 + ONBOARDING_DAYS even if past; "grace": never sooner than
    # today + ONBOARDING_GRACE_DAYS. HR can choose per import on the preview page too.
    ONBOARDING_DUE_POLICY = "strict"
    # Who runs background jobs (large imports): "thread" (a thread of the web process, for
    # `make run` and small sites), "worker" (`flask jobs run --loop` under systemd; the web
    # process only queues) or "inline" (the request itself; tests).
    JOBS_RUN = "thread"
    # With JOBS_RUN = "thread", each web process also looks every this many seconds for work
    # that is due (mail waiting in the outbox, old export files) and runs it (0: never).
    JOBS_TICK_SECONDS = 60
    EXPORT_JOB_ROWS = 5000  # an export of more rows than this is built by a background job
    JOBS_FILES_KEEP_DAYS = 7  # a background job's file (a large export) is kept this long
    ONBOARDING_GRACE_DAYS = 7
    # Periodic recertification: a completion holds this many days, then a short refresher
    # renews it (0: off). Reminders and HR's 将到期 start RECERTIFY_WARN_DAYS before.
    RECERTIFY_DAYS = 0
    RECERTIFY_WARN_DAYS = 30
    RECERTIFY_QUIZ_SIZE = 10
    RETRAIN_DAYS = 14  # after a revision: retraining due = effective date + this many days
    BASE_URL = "http://127.0.0.1:5000"  # for links printed by commands, outside a request
    PASSWORD_LINK_HOURS = 72  # how long a set-password or reset link stays valid
    # An employee list (or a revised norm) of at most this size; 100,000 employees with every
    # column filled take about 10 MB as CSV, 4 MB as XLSX.
    IMPORT_MAX_BYTES = 20 * 1024 * 1024
    IMPORT_MAX_ROWS = 100_000  # employees per import file (the header not counted)
    PRACTICE_DESIRED_RETENTION = 0.9  # FSRS target; mastery = recall above it
    PRACTICE_DAILY_SIZE = 10
    # HR aggregates (the dashboard's quiz insight, the item analysis: recomputed in the
    # background; the practice statistics: per worker) are recomputed at most this often (0: in
    # the request, every time); on an empty cache a request waits this long for the first run.
    INSIGHT_CACHE_SECONDS = 60
    INSIGHT_WAIT_SECONDS = 0.5
    QUIZ_SIZE = 5  # questions drawn per attempt (all of them if the bank has fewer)
    QUIZ_PASS_MARK = 0.8  # default; a bank's `pass_mark` overrides it for its lesson
    QUIZ_MAX_ATTEMPTS = None  # None: unlimited retries

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers
    # are trusted; 0 means none (the app is reached directly).
    PROXY_COUNT = 0
    LOG_LEVEL = "INFO"

    # Mail (SMTP). No server: notifications wait in the queue and the notifications page says so.
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = False  # STARTTLS after connecting
    MAIL_USE_SSL = False  # SMTP over TLS from the start (usually port 465)
    MAIL_CA_FILE = ""  # a CA bundle to trust for the mail server (an internal CA); empty: system's
    MAIL_DEFAULT_SENDER = "training@localhost"
    MAIL_SENDER_NAME = "服务规范培训"
    MAIL_TIMEOUT = 10  # seconds, also for group-robot webhooks
    # Notifications: reminders N days before the due date, on it, then every N days overdue.
    NOTIFY_REMIND_BEFORE_DAYS = [7, 1]
    NOTIFY_OVERDUE_EVERY_DAYS = 7
    NOTIFY_DIGEST_WEEKDAY = 1  # ISO weekday of the weekly digests (1 = Monday)
    NOTIFY_QUIET_HOURS = "20:00-09:00"  # company time; empty: send at any hour
    NOTIFY_MAX_ATTEMPTS = 8
    NOTIFY_BATCH_SIZE = 100
    # xAPI: statements for the company's learning record store. No endpoint: nothing is
    # queued (`flask xapi export` still writes them). The endpoint is the LRS's xAPI base,
    # e.g. "https://lrs.example.com/xAPI/"; statements go to its `statements` resource.
    XAPI_ENDPOINT = ""
    XAPI_USERNAME = ""
    XAPI_PASSWORD = ""
    XAPI_TIMEOUT = 10  # seconds per request to the LRS
    XAPI_BATCH = 500  # evidence rows read per source, and statements per POST, per round
    NOTIFY_NUDGES_PER_DAY = 30  # reminders one HR user or manager may send by hand per day

    # Sign-in with the company directory (LDAP, Active Directory); no LDAP_URL: off. See the
    # README's "Sign-in with the company directory" for each of these.
    LDAP_URL = ""  # ldaps://dc1.example.com or ldap://dc1.example.com (then LDAP_START_TLS)
    LDAP_BIND_DN = ""  # the search account; empty: search anonymously
    LDAP_BIND_PASSWORD = ""
    LDAP_BASE_DN = ""  # where people are searched, e.g. "ou=people,dc=example,dc=com"
    LDAP_USER_FILTER = "(employeeNumber={employee_no})"  # AD: "(sAMAccountName={employee_no})"
    LDAP_EMPLOYEE_NO_ATTRIBUTE = "employeeNumber"  # the entry's 工号, matched to an account
    # A filter the directory account matches when it is disabled; AD's ACCOUNTDISABLE bit.
    LDAP_DISABLED_FILTER = "(userAccountControl:1.2.840.113556.1.4.803:=2)"
    LDAP_START_TLS = False
    LDAP_CA_FILE = ""  # the CA bundle that signed the directory's certificate; empty: system's
    LDAP_TIMEOUT = 5  # seconds to connect and for each answer
    LDAP_ALLOW_PLAINTEXT = False  # passwords over plain ldap:// to another host (trusted link)
    LDAP_JIT_PROVISIONING = False  # create a learner account at a first directory sign-in
    LDAP_NAME_ATTRIBUTE = "displayName"
    LDAP_DEPARTMENT_ATTRIBUTE = "department"
    LDAP_EMAIL_ATTRIBUTE = "mail"
    # Roles that may still sign in with a password kept here (e.g. ["hr"] once the directory
    # is on); without a directory every role must be listed.
    PASSWORD_LOGIN_ROLES = ["learner", "manager", "hr"]

    # Sign-in through an identity provider (training/auth/oauth.py); each is off while its
    # first setting is empty. See the README's "Sign-in with an identity provider".
    OIDC_ISSUER = ""  # e.g. https://login.example.com/realms/staff (discovery is read from it)
    OIDC_CLIENT_ID = ""
    OIDC_CLIENT_SECRET = ""
    OIDC_SCOPES = "openid profile email"
    OIDC_CLAIM = "employee_no"  # the claim whose value is matched to an account …
    OIDC_MATCH_FIELD = "employee_no"  # … by its 工号 (employee_no) or its email
    OIDC_NAME_CLAIM = "name"  # for just-in-time provisioning
    OIDC_DEPARTMENT_CLAIM = "department"
    OIDC_JIT_PROVISIONING = False  # create a learner account at a first sign-in (工号 match only)
    OIDC_CLOCK_SKEW = 60  # seconds of leeway on the ID token's exp and iat
    OIDC_TIMEOUT = 5  # seconds per request to the provider
    # 企业微信 web login: the member's UserId matched to the 工号 by default.
    WECOM_CORP_ID = ""
    WECOM_AGENT_ID = ""
    WECOM_SECRET = ""
    WECOM_CLAIM = "userid"
    WECOM_MATCH_FIELD = "employee_no"
    WECOM_AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
    WECOM_API_BASE = "https://qyapi.weixin.qq.com"
    WECOM_TIMEOUT = 5
    # 钉钉 web login: contact/users/me has no 工号; the email is matched by default.
    DINGTALK_CLIENT_ID = ""  # the app's AppKey (Client ID)
    DINGTALK_CLIENT_SECRET = ""
    DINGTALK_CLAIM = "email"
    DINGTALK_MATCH_FIELD = "email"
    DINGTALK_AUTHORIZE_URL = "https://login.dingtalk.com/oauth2/auth"
    DINGTALK_API_BASE = "https://api.dingtalk.com"
    DINGTALK_TIMEOUT = 5
    # 飞书 web login: user_info's employee_no matched to the 工号 by default.
    FEISHU_APP_ID = ""
    FEISHU_APP_SECRET = ""
    FEISHU_CLAIM = "employee_no"
    FEISHU_MATCH_FIELD = "employee_no"
    FEISHU_API_BASE = "https://open.feishu.cn"
    FEISHU_TIMEOUT = 5


def database_url(instance_path: str) -> str:
    """Return DATABASE_URL, or the SQLite file in the instance folder."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(Path(instance_path) / "training.sqlite")


def load_secret_key(instance_path: str) -> str:
    """Return SECRET_KEY from the environment, or one generated once into instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write a private temporary file, then publish it with a hard link: the
        # key file appears complete or not at all, and if another worker won
        # the race its key is the one everybody uses.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            os.unlink(temp)
    key = path.read_text("utf-8").strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it or set SECRET_KEY")
    return key


class SettingsError(ValueError):
    """A setting has a value the app cannot run with; the message names it and says why."""


def _int(minimum: int) -> Callable[[Any], Any]:
    def check(value: Any) -> int:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"a whole number of at least {minimum}")
        return value

    return check


def _optional_int(minimum: int) -> Callable[[Any], Any]:
    strict = _int(minimum)

    def check(value: Any) -> int | None:
        if value is None or value == "" or value == 0:
            return None
        return strict(value)

    return check


def _number(low: float, high: float, *, low_open: bool, high_open: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> float:
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(_range_text(low, high, low_open, high_open))
        too_low = value <= low if low_open else value < low
        too_high = value >= high if high_open else value > high
        if too_low or too_high:
            raise ValueError(_range_text(low, high, low_open, high_open))
        return value

    return check


def _range_text(low: float, high: float, low_open: bool, high_open: bool) -> str:
    left, right = ("(" if low_open else "["), (")" if high_open else "]")
    return f"a number in {left}{low:g}, {high:g}{right}"


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "no", "off"}:
        return False
    raise ValueError("true or false")


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError("an http:// or https:// address")
    return value.rstrip("/")


def _optional_url(value: Any) -> str:
    """An http(s) base address kept with one trailing slash, or empty (off)."""
    if value in ("", None):
        return ""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError("an http:// or https:// address, or empty")
    if "@" in value.split("/")[2]:
        raise ValueError("an address without credentials (use the _USERNAME/_PASSWORD settings)")
    return value.rstrip("/") + "/"


def _zone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError("a time zone name such as Asia/Shanghai") from error
    return str(value)


def _days_list(value: Any) -> list[int]:
    if isinstance(value, str):
        value = [part for part in value.replace(" ", "").split(",") if part]
    if not isinstance(value, list | tuple):
        raise ValueError("a list of whole numbers of days, e.g. [7, 1]")
    days = [_int(1)(item) for item in value]
    return sorted(set(days), reverse=True)


def _quiet_hours(value: Any) -> str:
    if value in (None, "", False):
        return ""
    try:
        start, end = str(value).split("-")
        time.fromisoformat(start.strip())
        time.fromisoformat(end.strip())
    except ValueError as error:
        raise ValueError("two times like 20:00-09:00, or empty for none") from error
    return f"{start.strip()}-{end.strip()}"


def _existing_file(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not Path(str(value)).is_file():
        raise ValueError("the path of an existing file (a CA bundle in PEM), or empty")
    return str(value)


def _choice(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(" or ".join(repr(a) for a in allowed))
        return str(value)

    return check


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("text")
    return value


def _ldap_url(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not value.lower().startswith(("ldap://", "ldaps://")):
        raise ValueError("an ldap:// or ldaps:// address, or empty (off)")
    parts = urlsplit(value)
    if not parts.hostname or parts.path not in ("", "/") or parts.query or "@" in parts.netloc:
        raise ValueError("an ldap:// or ldaps:// address of a host (and port) only")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as error:
        raise ValueError("an ldap:// or ldaps:// address with a numeric port") from error
    return value.rstrip("/")


def _ldap_filter(*, placeholder: bool) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _text(value).strip()
        if not text and not placeholder:
            return ""
        depth = 0
        for char in text:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth < 0:
                break
        if not (text.startswith("(") and text.endswith(")")) or depth != 0:
            raise ValueError("an LDAP filter in parentheses, e.g. (employeeNumber={employee_no})")
        if placeholder and "{employee_no}" not in text:
            raise ValueError("an LDAP filter with {employee_no} where the typed 工号 goes")
        return text

    return check


def _ldap_attribute(value: Any) -> str:
    text = _text(value).strip()
    if text and not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+", text):
        raise ValueError("an LDAP attribute name such as displayName, or empty")
    return text


# The values of training.auth.models.Role (a test keeps them in step).
ROLES = ("learner", "manager", "hr")


def _roles(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or any(role not in ROLES for role in value):
        raise ValueError(f'a list of roles out of {", ".join(ROLES)}, e.g. ["hr"]')
    return [role for role in ROLES if role in value]


# The account columns a provider's claim may be matched to (training/auth/signin.py).
MATCH_FIELDS = ("employee_no", "email")


def _optional_issuer(value: Any) -> str:
    """An OpenID Connect issuer: https (http only on this machine, for a test provider)."""
    if value in ("", None):
        return ""
    if not isinstance(value, str):
        raise ValueError("an https:// issuer address, or empty (off)")
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    local = host in LOOPBACK_HOSTS or host.startswith("127.")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError("an https:// issuer address (http:// only for localhost), or empty")
    if not host or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError("an https:// issuer address without query, fragment or credentials")
    return value.rstrip("/")


def _scopes(value: Any) -> str:
    text = _text(value).strip()
    if "openid" not in text.split():
        raise ValueError('scopes separated by spaces, openid among them, e.g. "openid profile"')
    return " ".join(text.split())


def _claim(value: Any) -> str:
    text = _text(value).strip()
    if text and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.:-]*", text):
        raise ValueError("a claim name such as employee_no or email, or empty")
    return text


def _log_level(value: Any) -> str:
    level = str(value).upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("one of DEBUG, INFO, WARNING, ERROR")
    return level


# Every setting the app reads, with its check; each check returns the value normalised.
SETTINGS: dict[str, Callable[[Any], Any]] = {
    "QUIZ_SIZE": _int(1),
    "QUIZ_PASS_MARK": _number(0, 1, low_open=True, high_open=False),
    "QUIZ_MAX_ATTEMPTS": _optional_int(1),
    "ONBOARDING_DAYS": _int(0),
    "ONBOARDING_DUE_POLICY": _choice("strict", "grace"),
    "JOBS_RUN": _choice("thread", "worker", "inline"),
    "JOBS_TICK_SECONDS": _int(0),
    "EXPORT_JOB_ROWS": _int(0),
    "JOBS_FILES_KEEP_DAYS": _int(1),
    "ONBOARDING_GRACE_DAYS": _int(0),
    "RETRAIN_DAYS": _int(0),
    "RECERTIFY_DAYS": _int(0),
    "RECERTIFY_WARN_DAYS": _int(0),
    "RECERTIFY_QUIZ_SIZE": _int(1),
    "PASSWORD_LINK_HOURS": _int(1),
    "IMPORT_MAX_BYTES": _int(1),
    "IMPORT_MAX_ROWS": _int(1),
    "MAX_CONTENT_LENGTH": _int(1),
    "PRACTICE_DESIRED_RETENTION": _number(0, 1, low_open=True, high_open=True),
    "PRACTICE_DAILY_SIZE": _int(1),
    "INSIGHT_CACHE_SECONDS": _number(0, 86_400, low_open=False, high_open=False),
    "INSIGHT_WAIT_SECONDS": _number(0, 60, low_open=False, high_open=False),
    "LOGIN_THROTTLE_WINDOW": _int(1),
    "API_RATE_PER_MINUTE": _int(1),
    "API_PAGE_MAX": _int(1),
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int(1),
    "LOGIN_MAX_FAILURES_PER_ADDRESS": _int(1),
    "LOGIN_DELAY_SECONDS": _int(1),
    "LOGIN_DELAY_MAX_SECONDS": _int(1),
    "PROXY_COUNT": _int(0),
    "PERMANENT_SESSION_LIFETIME": _int(60),
    "SESSION_ABSOLUTE_LIFETIME": _int(60),
    "WTF_CSRF_TIME_LIMIT": _optional_int(60),
    "BASE_URL": _url,
    "SESSION_COOKIE_SECURE": _boolean,
    "DATABASE_PREPARED_STATEMENTS": _boolean,
    "BABEL_DEFAULT_TIMEZONE": _zone,
    "LOG_LEVEL": _log_level,
    "MAIL_SERVER": _text,
    "MAIL_PORT": _int(1),
    "MAIL_USERNAME": _text,
    "MAIL_PASSWORD": _text,
    "MAIL_USE_TLS": _boolean,
    "MAIL_USE_SSL": _boolean,
    "MAIL_CA_FILE": _existing_file,
    "MAIL_DEFAULT_SENDER": _text,
    "MAIL_SENDER_NAME": _text,
    "MAIL_TIMEOUT": _int(1),
    "NOTIFY_REMIND_BEFORE_DAYS": _days_list,
    "NOTIFY_OVERDUE_EVERY_DAYS": _int(0),
    "NOTIFY_DIGEST_WEEKDAY": _int(1),
    "NOTIFY_QUIET_HOURS": _quiet_hours,
    "NOTIFY_MAX_ATTEMPTS": _int(1),
    "NOTIFY_BATCH_SIZE": _int(1),
    "NOTIFY_NUDGES_PER_DAY": _int(1),
    "XAPI_ENDPOINT": _optional_url,
    "XAPI_USERNAME": _text,
    "XAPI_PASSWORD": _text,
    "XAPI_TIMEOUT": _int(1),
    "XAPI_BATCH": _int(1),
    "LDAP_URL": _ldap_url,
    "LDAP_BIND_DN": _text,
    "LDAP_BIND_PASSWORD": _text,
    "LDAP_BASE_DN": _text,
    "LDAP_USER_FILTER": _ldap_filter(placeholder=True),
    "LDAP_EMPLOYEE_NO_ATTRIBUTE": _ldap_attribute,
    "LDAP_DISABLED_FILTER": _ldap_filter(placeholder=False),
    "LDAP_START_TLS": _boolean,
    "LDAP_CA_FILE": _existing_file,
    "LDAP_TIMEOUT": _int(1),
    "LDAP_ALLOW_PLAINTEXT": _boolean,
    "LDAP_JIT_PROVISIONING": _boolean,
    "LDAP_NAME_ATTRIBUTE": _ldap_attribute,
    "LDAP_DEPARTMENT_ATTRIBUTE": _ldap_attribute,
    "LDAP_EMAIL_ATTRIBUTE": _ldap_attribute,
    "PASSWORD_LOGIN_ROLES": _roles,
    "OIDC_ISSUER": _optional_issuer,
    "OIDC_CLIENT_ID": _text,
    "OIDC_CLIENT_SECRET": _text,
    "OIDC_SCOPES": _scopes,
    "OIDC_CLAIM": _claim,
    "OIDC_MATCH_FIELD": _choice(*MATCH_FIELDS),
    "OIDC_NAME_CLAIM": _claim,
    "OIDC_DEPARTMENT_CLAIM": _claim,
    "OIDC_JIT_PROVISIONING": _boolean,
    "OIDC_CLOCK_SKEW": _int(0),
    "OIDC_TIMEOUT": _int(1),
    "WECOM_CORP_ID": _text,
    "WECOM_AGENT_ID": _text,
    "WECOM_SECRET": _text,
    "WECOM_CLAIM": _claim,
    "WECOM_MATCH_FIELD": _choice(*MATCH_FIELDS),
    "WECOM_AUTHORIZE_URL": _url,
    "WECOM_API_BASE": _url,
    "WECOM_TIMEOUT": _int(1),
    "DINGTALK_CLIENT_ID": _text,
    "DINGTALK_CLIENT_SECRET": _text,
    "DINGTALK_CLAIM": _claim,
    "DINGTALK_MATCH_FIELD": _choice(*MATCH_FIELDS),
    "DINGTALK_AUTHORIZE_URL": _url,
    "DINGTALK_API_BASE": _url,
    "DINGTALK_TIMEOUT": _int(1),
    "FEISHU_APP_ID": _text,
    "FEISHU_APP_SECRET": _text,
    "FEISHU_CLAIM": _claim,
    "FEISHU_MATCH_FIELD": _choice(*MATCH_FIELDS),
    "FEISHU_API_BASE": _url,
    "FEISHU_TIMEOUT": _int(1),
}


def validate_settings(config: dict[str, Any]) -> None:
    """Check and normalise every known setting in place; raise SettingsError on the first bad one.

    Values from the environment arrive as JSON (``TRAINING_QUIZ_SIZE=5`` is the number 5);
    digit strings are accepted too. The error names the setting as it is set from the
    environment, with what it must be and what it was.
    """
    for name, check in SETTINGS.items():
        if name not in config:
            continue
        try:
            config[name] = check(config[name])
        except ValueError as error:
            raise SettingsError(
                f"TRAINING_{name} (or {name} in instance/config.py) must be {error}, "
                f"not {config[name]!r}"
            ) from None
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        raise SettingsError(
            "TRAINING_MAIL_USE_TLS and TRAINING_MAIL_USE_SSL cannot both be on: STARTTLS "
            "(usually port 587) or SMTP over TLS from the start (usually port 465)"
        )
    _check_sign_in(config)


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


PROVIDER_SWITCHES = ("OIDC_ISSUER", "WECOM_CORP_ID", "DINGTALK_CLIENT_ID", "FEISHU_APP_ID")
# What each provider needs besides its switch.
PROVIDER_NEEDS = {
    "OIDC_ISSUER": ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_CLAIM"),
    "WECOM_CORP_ID": ("WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_CLAIM"),
    "DINGTALK_CLIENT_ID": ("DINGTALK_CLIENT_SECRET", "DINGTALK_CLAIM"),
    "FEISHU_APP_ID": ("FEISHU_APP_SECRET", "FEISHU_CLAIM"),
}


def _check_providers(config: dict[str, Any]) -> None:
    if config.get("DINGTALK_CLIENT_ID"):
        # contact/users/me answers for any 钉钉 user, with an e-mail address the user sets
        # (not the company's orgEmail): matching it to an account would let anyone with a
        # personal 钉钉 account sign in as the employee whose address they typed in. Refused
        # until the adapter asks the company's own API whether the person is a member.
        raise SettingsError(
            "TRAINING_DINGTALK_CLIENT_ID: 钉钉 sign-in is not available yet — its user-info "
            "answer does not prove company membership (it needs the company's "
            "topapi/user/getbyunionid check, not built); use OIDC, 企业微信 or 飞书"
        )
    for switch, needs in PROVIDER_NEEDS.items():
        if not config.get(switch):
            continue
        missing = [f"TRAINING_{name}" for name in needs if not config.get(name)]
        if missing:
            raise SettingsError(f"TRAINING_{switch} is set, but {', '.join(missing)} is empty")
    if config.get("OIDC_JIT_PROVISIONING") and config.get("OIDC_MATCH_FIELD") != "employee_no":
        raise SettingsError(
            "TRAINING_OIDC_JIT_PROVISIONING creates accounts by 工号: it needs "
            "TRAINING_OIDC_MATCH_FIELD=employee_no"
        )


def _check_sign_in(config: dict[str, Any]) -> None:
    """The directory settings that only make sense together, and someone able to sign in."""
    _check_providers(config)
    url = config.get("LDAP_URL", "")
    if not url:
        unable = [role for role in ROLES if role not in config.get("PASSWORD_LOGIN_ROLES", ROLES)]
        providers = [name for name in PROVIDER_SWITCHES if config.get(name)]
        if unable and not providers:
            raise SettingsError(
                f"TRAINING_PASSWORD_LOGIN_ROLES leaves out {', '.join(unable)}, but without "
                "TRAINING_LDAP_URL or an identity provider (TRAINING_OIDC_ISSUER …) password "
                "is the only way to sign in: they could not"
            )
        return
    if not config.get("LDAP_BASE_DN"):
        raise SettingsError("TRAINING_LDAP_BASE_DN must say where people are searched")
    if not config.get("LDAP_EMPLOYEE_NO_ATTRIBUTE"):
        raise SettingsError(
            "TRAINING_LDAP_EMPLOYEE_NO_ATTRIBUTE must name the attribute that holds the 工号 "
            "(employeeNumber, sAMAccountName …): accounts are matched by it"
        )
    if config.get("LDAP_BIND_DN") and not config.get("LDAP_BIND_PASSWORD"):
        raise SettingsError(
            "TRAINING_LDAP_BIND_DN is set without TRAINING_LDAP_BIND_PASSWORD (a bind with an "
            "empty password is anonymous); set both, or neither to search anonymously"
        )
    secure = url.lower().startswith("ldaps://")
    if secure and config.get("LDAP_START_TLS"):
        raise SettingsError(
            "TRAINING_LDAP_START_TLS is for ldap:// addresses; ldaps:// is TLS from the start"
        )
    host = (urlsplit(url).hostname or "").lower()
    if (
        not secure
        and not config.get("LDAP_START_TLS")
        and not config.get("LDAP_ALLOW_PLAINTEXT")
        and host not in LOOPBACK_HOSTS
        and not host.startswith("127.")
    ):
        raise SettingsError(
            f"TRAINING_LDAP_URL {url} would carry passwords in clear text: use ldaps://, or "
            "TRAINING_LDAP_START_TLS=true, or TRAINING_LDAP_ALLOW_PLAINTEXT=true for a "
            "directory on a link you trust"
        )
