"""One-time links to set or reset a password; the URL carries the token, the database its hash."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, cast

from flask import current_app, has_request_context, url_for
from sqlalchemy import CursorResult, Table, func, insert, select, update

from training.auth.models import PasswordLink, User
from training.db import utcnow
from training.extensions import db
from training.urls import public_url

PURPOSES = ("setup", "reset")
# token_urlsafe(32) gives 43 characters; anything much longer is not ours.
_MAX_TOKEN_LENGTH = 128


def token_hash(token: str) -> str:
    """Return the hex sha256 stored for a token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def pending_count(user: User) -> int:
    """Return how many of the user's links could still be used."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(PasswordLink)
            .where(
                PasswordLink.user_id == user.id,
                PasswordLink.used_at.is_(None),
                PasswordLink.revoked_at.is_(None),
                PasswordLink.expires_at > utcnow(),
            )
        )
        or 0
    )


def revoke_links(user: User) -> int:
    """Revoke the user's unused links; return how many."""
    # An UPDATE's result is a CursorResult, which has the row count.
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(PasswordLink)
            .where(
                PasswordLink.user_id == user.id,
                PasswordLink.used_at.is_(None),
                PasswordLink.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        ),
    )
    return result.rowcount


def issue_link(
    user: User, purpose: str, actor: User | None = None, *, revoke_earlier: bool = True
) -> str:
    """Store a new link for the user (revoking earlier unused ones) and return its token.

    The caller records the audit event and commits; the token itself is
    never stored and must not be logged. ``revoke_earlier=False`` is for
    accounts created in this transaction, which have no links yet.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    if user.id is None:
        db.session.flush()
    if revoke_earlier:
        revoke_links(user)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        PasswordLink(
            token_hash=token_hash(token),
            user_id=user.id,
            purpose=purpose,
            created_by_id=actor.id if actor else None,
            created_at=now,
            expires_at=now + timedelta(hours=current_app.config["PASSWORD_LINK_HOURS"]),
        )
    )
    return token


BATCH = 5000  # rows per INSERT of ``issue_setup_links``


def issue_setup_links(user_ids: Iterable[int], actor: User | None = None) -> dict[int, str]:
    """Store a setup link for each of these accounts at once and return {user id: token}.

    For accounts that have no links yet (created in this transaction, or never handed one):
    nothing is revoked. As ``issue_link``: each token is 256 random bits, only its sha256 is
    stored (a random token needs no slow hash), the caller audits and commits.
    """
    now = utcnow()
    expires = now + timedelta(hours=current_app.config["PASSWORD_LINK_HOURS"])
    tokens = {user_id: secrets.token_urlsafe(32) for user_id in user_ids}
    rows = [
        {
            "token_hash": token_hash(token),
            "user_id": user_id,
            "purpose": "setup",
            "created_by_id": actor.id if actor else None,
            "created_at": now,
            "expires_at": expires,
        }
        for user_id, token in tokens.items()
    ]
    statement = insert(cast(Table, PasswordLink.__table__))
    for start in range(0, len(rows), BATCH):
        db.session.execute(statement, rows[start : start + BATCH])
    return tokens


def usable_link(token: str) -> PasswordLink | None:
    """Return the link for a token if it can still set a password, else None."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    link = db.session.scalar(
        select(PasswordLink).where(PasswordLink.token_hash == token_hash(token))
    )
    if (
        link is None
        or link.used_at is not None
        or link.revoked_at is not None
        or link.expires_at <= utcnow()
        or not link.user.active
    ):
        return None
    return link


def claim_link(link: PasswordLink) -> bool:
    """Mark the link used unless a concurrent request already did; return True if we did.

    A conditional UPDATE, so two submissions of one link cannot both set a password.
    """
    now = utcnow()
    # An UPDATE's result is a CursorResult, which has the row count.
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(PasswordLink)
            .where(
                PasswordLink.id == link.id,
                PasswordLink.used_at.is_(None),
                PasswordLink.revoked_at.is_(None),
                PasswordLink.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount == 1


def link_url(token: str) -> str:
    """Return the absolute URL of a link: from the request, or from BASE_URL outside one."""
    if has_request_context():
        return url_for("auth.set_password", token=token, _external=True)
    return public_url("auth.set_password", token=token)
