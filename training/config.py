"""Configuration defaults and the instance-folder secret key."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class DefaultConfig:
    """Settings every environment starts from; override with TRAINING_* variables."""

    # JSON keeps Chinese as UTF-8 rather than \uXXXX escapes: a third of the size.
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": True,
        "json_serializer": lambda value: json.dumps(value, ensure_ascii=False),
    }
    CONTENT_DIR = REPO_ROOT / "content"
    QUIZ_DIR = REPO_ROOT / "quizzes"

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

    SESSION_COOKIE_NAME = "training_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    LOGIN_THROTTLE_WINDOW = 15 * 60
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30

    ONBOARDING_DAYS = 14  # due date = 入职日期 + this many days
    RETRAIN_DAYS = 14  # after a revision: retraining due = effective date + this many days
    BASE_URL = "http://127.0.0.1:5000"  # for links printed by commands, outside a request
    PASSWORD_LINK_HOURS = 72  # how long a set-password or reset link stays valid
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    PRACTICE_DESIRED_RETENTION = 0.9  # FSRS target; mastery = recall above it
    PRACTICE_DAILY_SIZE = 10
    INSIGHT_CACHE_SECONDS = 60  # quiz insight on the HR dashboard is recomputed at most this often
    QUIZ_SIZE = 5  # questions drawn per attempt (all of them if the bank has fewer)
    QUIZ_PASS_MARK = 0.8  # default; a bank's `pass_mark` overrides it for its lesson
    QUIZ_MAX_ATTEMPTS = None  # None: unlimited retries

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers
    # are trusted; 0 means none (the app is reached directly).
    PROXY_COUNT = 0


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
