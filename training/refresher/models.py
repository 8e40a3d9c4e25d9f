"""Refresher attempts and their submissions: insert-only evidence, like lesson quizzes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import UTCDateTime, utcnow
from training.extensions import Model


class RefresherAttempt(Model):
    """One start of the refresher: the draw across lessons, naming each question version shown."""

    __tablename__ = "refresher_attempts"
    __table_args__ = (Index("ix_refresher_attempts_user_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"))
    seed: Mapped[int]
    draw: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Why each question was drawn ({qid: ["wrong", "changed"]}), for the learner and HR.
    reasons: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    pass_mark: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[RefresherSubmission | None] = relationship(
        back_populates="attempt", uselist=False
    )


class RefresherSubmission(Model):
    """The graded answers to a refresher attempt; at most one, written once."""

    __tablename__ = "refresher_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("refresher_attempts.id"), unique=True)
    answers: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    correct_count: Mapped[int]
    total: Mapped[int]
    passed: Mapped[bool]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    attempt: Mapped[RefresherAttempt] = relationship(back_populates="submission")

    @property
    def score_percent(self) -> int:
        return round(self.correct_count * 100 / self.total) if self.total else 0
