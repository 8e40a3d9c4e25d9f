"""Assignment rows: each change is a new row, the newest per employee is in force."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from training.db import UTCDateTime, one_of, utcnow
from training.extensions import Model


class AssignmentReason(enum.StrEnum):
    """Why an assignment row was written."""

    HIRE = "hire"  # created or imported with a hire date
    INDIVIDUAL = "individual"  # HR set one employee's due date
    DEPARTMENT = "department"  # HR assigned a whole department
    REVISION = "revision"  # a published revision asks for retraining
    RECERTIFICATION = "recertification"  # a completion expired: the periodic refresher


class Assignment(Model):
    """The onboarding course assigned to an employee with a due date.

    Re-assigning adds a row rather than editing one, so the history of due
    dates stays as evidence; the row with the highest id per user is current.
    """

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_user_id_id", "user_id", "id"),
        one_of("reason", AssignmentReason),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date]
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[AssignmentReason] = mapped_column(String(32))
