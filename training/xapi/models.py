"""How far the statement feeder has read each evidence table (operational, not evidence)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from training.db import UTCDateTime, utcnow
from training.extensions import Model


class Cursor(Model):
    """The highest row id of one source table whose statements are queued."""

    __tablename__ = "xapi_cursors"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
