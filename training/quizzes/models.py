"""Quiz tables: synced questions, attempts (the draw) and submissions (the result)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import UTCDateTime, utcnow
from training.extensions import db
from training.lessons.models import Lesson


class QuizQuestion(db.Model):
    """A question loaded from a bank by `flask content sync`; retired, never deleted."""

    __tablename__ = "quiz_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    qid: Mapped[str] = mapped_column(String(100), unique=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    position: Mapped[int]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    generated: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QuestionVersion(db.Model):
    """A question exactly as it read at some time, addressed by the digest of its content.

    Attempts name the versions they showed, so the result page and any later
    audit show exactly what the learner saw even after the bank changes,
    without copying the questions into every attempt. Rows are insert-only.
    """

    __tablename__ = "quiz_question_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    qid: Mapped[str] = mapped_column(String(100), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QuizAttempt(db.Model):
    """One start of a lesson's quiz: the draw, naming each question version shown.

    Rows are insert-only (database triggers refuse updates).
    """

    __tablename__ = "quiz_attempts"
    __table_args__ = (Index("ix_quiz_attempts_user_id_lesson_id", "user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    lesson_hash: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int]
    draw: Mapped[dict[str, Any]] = mapped_column(JSON)
    pass_mark: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lesson: Mapped[Lesson] = relationship()
    submission: Mapped[QuizSubmission | None] = relationship(
        back_populates="attempt", uselist=False
    )


class QuizSubmission(db.Model):
    """The graded answers to an attempt; at most one per attempt, written once."""

    __tablename__ = "quiz_submissions"
    __table_args__ = (UniqueConstraint("attempt_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    correct_count: Mapped[int]
    total: Mapped[int]
    passed: Mapped[bool]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    attempt: Mapped[QuizAttempt] = relationship(back_populates="submission")

    @property
    def score_percent(self) -> int:
        """Return the score as a whole percentage, rounded half up."""
        return (self.correct_count * 100 * 2 + self.total) // (2 * self.total) if self.total else 0


class Certificate(db.Model):
    """Issued once when an employee first completes the course for a norm version."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("user_id", "source_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    source_sha256: Mapped[str] = mapped_column(String(64))
    norm_title: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
