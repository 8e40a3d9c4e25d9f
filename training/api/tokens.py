"""Creating, checking, rate-limiting and revoking API tokens (the caller commits)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select, update

from training.api.models import ApiToken
from training.audit.services import record
from training.auth.models import User
from training.db import utcnow
from training.extensions import db
from training.i18n import N_, term

PREFIX = "trn_"


def _hash(secret: str) -> str:
    # Tokens are 256-bit random strings, so a plain SHA-256 is as hard to reverse as the
    # token itself; a slow password hash would only slow every API call.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create(name: str, department: str | None, *, actor: User | None) -> tuple[ApiToken, str]:
    """Create a token; return it and its secret, which is never stored or shown again."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip()[:100],
        prefix=secret[: len(PREFIX) + 6],
        token_hash=_hash(secret),
        department=(department or "").strip() or None,
        created_by=actor.id if actor is not None else None,
        created_at=utcnow(),
    )
    db.session.add(token)
    db.session.flush()
    record(
        "api.token_create",
        N_("创建 API 令牌「%(name)s」（%(scope)s，只读）"),
        params={
            "name": token.name,
            "scope": token.department or term(N_("全公司")),
        },
        details={"token": token.id, "prefix": token.prefix, "department": token.department},
        actor=actor,
    )
    return token, secret


def revoke(token: ApiToken, *, actor: User | None) -> bool:
    """Revoke a token at once; False when it was already revoked."""
    done = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by=actor.id if actor is not None else None)
    )
    if not getattr(done, "rowcount", 0):
        return False
    record(
        "api.token_revoke",
        N_("吊销 API 令牌「%(name)s」"),
        params={"name": token.name},
        details={"token": token.id, "prefix": token.prefix},
        actor=actor,
    )
    return True


@dataclass(frozen=True)
class Caller:
    """The token a request came with, once checked."""

    token_id: int
    name: str
    department: str | None


class Refused(Exception):
    """The request's token is missing, unknown, revoked (401) or over its rate (429)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def authenticate(header: str | None, *, rate: int) -> Caller:
    """Check ``Authorization: Bearer …`` and count the call against the token's minute."""
    scheme, _, secret = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Refused(401, "missing bearer token")
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret.strip())))
    if token is None or token.revoked_at is not None:
        raise Refused(401, "unknown or revoked token")
    minute = int(time.time() // 60)
    # A new minute starts a new count; then one conditional increment decides, so two
    # workers can never both take the last call of a minute.
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id, ApiToken.window_start != minute)
        .values(window_start=minute, window_count=0)
    )
    counted = db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token.id,
            ApiToken.window_start == minute,
            ApiToken.window_count < rate,
        )
        .values(window_count=ApiToken.window_count + 1, last_used_at=utcnow())
    )
    if not getattr(counted, "rowcount", 0):
        raise Refused(429, f"rate limit: {rate} requests per minute")
    return Caller(token.id, token.name, token.department)
