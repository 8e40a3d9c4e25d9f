"""The per-employee progress summary: derived data, rebuilt from the evidence at any time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from training.db import UTCDateTime, utcnow
from training.extensions import db


class ProgressSummary(db.Model):
    """Counts of lessons read, passed and completed on their current content, per employee.

    Read events and quiz submissions stay the evidence; this row only saves
    HR pages from re-aggregating every event of every employee on each
    request. It is refreshed in the transaction that records an event and
    rebuilt whenever lessons change.
    """

    __tablename__ = "progress_summaries"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    read_count: Mapped[int] = mapped_column(default=0, server_default="0")
    passed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    completed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    started: Mapped[int] = mapped_column(default=0, server_default="0")
    last_activity: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
