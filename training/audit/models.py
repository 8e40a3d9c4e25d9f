"""The audit event table; the database refuses updates and deletes."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.auth.models import User
from training.db import UTCDateTime, one_of, utcnow
from training.extensions import Model
from training.i18n import render


class Channel(enum.StrEnum):
    """Where an audited action came from."""

    WEB = "web"  # a logged-in HR user
    CLI = "cli"  # a `flask` command (actor_id is then empty)


class AuditEvent(Model):
    """One HR action: who (or which command), when, what, on whom."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_action_at", "action", "at"),
        one_of("channel", Channel),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[Channel] = mapped_column(String(16), default=Channel.WEB)
    action: Mapped[str] = mapped_column(String(50))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])

    @property
    def summary_text(self) -> str:
        """The summary in the reader's language (stored as a message id and its parameters)."""
        params = self.details.get("summary_params") if isinstance(self.details, dict) else None
        return render(self.summary, params if isinstance(params, dict) else None)
