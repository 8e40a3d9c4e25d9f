"""API tokens HR creates for other systems: hashed at rest, scoped, revocable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from training.db import UTCDateTime, utcnow
from training.extensions import Model


class ApiToken(Model):
    """A bearer token: only its SHA-256 is stored; the secret is shown once, at creation.

    ``department`` limits it to one department's employees (None: the whole company). The
    request window (``window_start``, ``window_count``) is the per-token rate limit, kept
    in the database so every app worker and host counts together.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    department: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    window_start: Mapped[int] = mapped_column(default=0)  # unix minute
    window_count: Mapped[int] = mapped_column(default=0)
