"""Quiz tables: questions synced from the banks, their versions, answers, revision holds and reviews."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from training.db import UTCDateTime, one_of, utcnow
from training.extensions import Model


class QuizQuestion(Model):
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
    # Derived from holds and reviews (``holds.refresh_withheld``): kept out of quiz and
    # practice draws while a revision's change to a cited clause awaits review, or
    # after HR withdrew it.
    withheld: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @classmethod
    def drawable(cls):
        """Return the SQL condition for questions that quizzes and practice may draw."""
        return cls.active.is_(True) & cls.withheld.is_(False)


class QuestionVersion(Model):
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


class QuizAnswer(Model):
    """One question of a submitted attempt: the keys chosen and whether they were right.

    Written once with its submission (insert-only), so item statistics are plain SQL
    over rows instead of re-grading stored answers.
    """

    __tablename__ = "quiz_answers"
    __table_args__ = (
        UniqueConstraint("submission_id", "qid"),
        Index("ix_quiz_answers_qid", "qid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("quiz_submissions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    qid: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(64))  # QuestionVersion.content_hash shown
    position: Mapped[int]  # place in the draw, from 0
    chosen: Mapped[list[str]] = mapped_column(JSON)
    correct: Mapped[bool]


class ReviewDecision(enum.StrEnum):
    """What HR decided about a question held after a revision."""

    KEEP = "keep"  # still correct against the new text: drawn again
    WITHDRAW = "withdraw"  # no longer right: never drawn


class QuestionHold(Model):
    """A question held back from draws because a published revision changed a clause it cites.

    Insert-only. ``clauses`` lists each cited clause and its change: ``{"clause": "4.2.1.2",
    "change": "changed" | "removed" | "renumbered", "new_number": "4.2.1.3" | None}``.
    """

    __tablename__ = "question_holds"
    __table_args__ = (UniqueConstraint("qid", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    qid: Mapped[str] = mapped_column(String(100), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("norm_versions.id"))
    clauses: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QuestionReview(Model):
    """HR's decision on a hold; insert-only, the latest decision for a hold counts."""

    __tablename__ = "question_reviews"
    __table_args__ = (one_of("decision", ReviewDecision),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("question_holds.id"), index=True)
    decision: Mapped[ReviewDecision] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
