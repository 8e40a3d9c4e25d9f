"""Uploads kept between preview and confirmation, in the database so any app host can confirm."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from training.db import UTCDateTime, utcnow
from training.extensions import Model


class StagedUpload(Model):
    """A file HR uploaded and is previewing: its bytes, their sha256, who uploaded it, when.

    Operational state, not evidence: the row is deleted when the upload is confirmed (in the
    transaction that acts on it) and pruned once it is more than an hour old.
    """

    __tablename__ = "staged_uploads"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, unguessable
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="", server_default="")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
