"""Uploads kept between preview and confirmation: a row of ``staged_uploads`` each.

In the database, not on one host's disk, so that with several app hosts behind a load
balancer the confirmation can reach another host than the preview did. An upload is only
handed back to the user who made it, within an hour, and only if its bytes still have the
sha256 taken when it was stored. The caller commits (``store`` before the preview is shown,
``delete`` with the work the confirmation does, so the two commit together).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select
from sqlalchemy import delete as sql_delete

from training.db import utcnow
from training.employees.models import StagedUpload
from training.extensions import db

MAX_AGE = timedelta(hours=1)
MAX_AGE_SECONDS = int(MAX_AGE.total_seconds())
_ID_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")


@dataclass(frozen=True)
class StoredUpload:
    """The bytes of an upload as previewed, with who uploaded them and when."""

    upload_id: str
    data: bytes
    sha256: str
    filename: str
    user_id: int
    created: float  # seconds since the epoch


def store(data: bytes, filename: str, user_id: int) -> StoredUpload:
    """Keep an upload for confirmation (flush; the caller commits); old ones are pruned."""
    prune()
    now = utcnow()
    row = StagedUpload(
        id=secrets.token_urlsafe(24),
        user_id=user_id,
        filename=filename[:255],
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    return StoredUpload(row.id, data, row.sha256, row.filename, user_id, now.timestamp())


def load(upload_id: str, user_id: int) -> StoredUpload | None:
    """Return an upload of this user that is under an hour old and unaltered, else None."""
    if not _ID_RE.fullmatch(upload_id or ""):
        return None
    row = db.session.execute(
        select(
            StagedUpload.user_id,
            StagedUpload.filename,
            StagedUpload.data,
            StagedUpload.sha256,
            StagedUpload.created_at,
        ).where(StagedUpload.id == upload_id)
    ).first()
    if row is None or row.user_id != user_id or _expired(row.created_at):
        return None
    data = bytes(row.data)
    if not secrets.compare_digest(hashlib.sha256(data).hexdigest(), row.sha256):
        return None
    return StoredUpload(
        upload_id, data, row.sha256, row.filename, user_id, row.created_at.timestamp()
    )


def _expired(created: datetime, now: datetime | None = None) -> bool:
    return (now or utcnow()) - created > MAX_AGE


def delete(upload_id: str) -> None:
    """Remove an upload (in the transaction that acted on it; the caller commits)."""
    if not _ID_RE.fullmatch(upload_id or ""):
        return
    db.session.execute(sql_delete(StagedUpload).where(StagedUpload.id == upload_id))


def prune(now: datetime | None = None) -> int:
    """Remove uploads older than an hour; return how many (the caller commits)."""
    cutoff = (now or utcnow()) - MAX_AGE
    # A DELETE's result is a CursorResult, which has the row count.
    result = cast(
        CursorResult[Any],
        db.session.execute(sql_delete(StagedUpload).where(StagedUpload.created_at < cutoff)),
    )
    return result.rowcount
