"""Practice reviews (append-only evidence of practice) and the schedule derived from them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from training.db import UTCDateTime, one_of, utcnow
from training.extensions import Model


class PracticeReview(Model):
    """One answer in practice. Never part of official completion or attempts."""

    __tablename__ = "practice_reviews"
    __table_args__ = (
        Index("ix_practice_reviews_user_id_question_id", "user_id", "question_id"),
        Index("ix_practice_reviews_reviewed_at", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    correct: Mapped[bool]
    rating: Mapped[int]  # fsrs.Rating value: 1 Again, 2 Hard, 3 Good, 4 Easy
    answer: Mapped[list[Any]] = mapped_column(JSON)
    # The clauses the question cited, kept with the review for per-clause aggregates.
    cites: Mapped[list[str]] = mapped_column(JSON)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    duration_ms: Mapped[int | None]


class CardState(enum.StrEnum):
    """The FSRS learning state of a card (``fsrs.State`` names)."""

    LEARNING = "Learning"
    REVIEW = "Review"
    RELEARNING = "Relearning"


class PracticeCard(Model):
    """The FSRS card of one employee and question; rebuildable from their reviews."""

    __tablename__ = "practice_cards"
    __table_args__ = (
        UniqueConstraint("user_id", "question_id"),
        Index("ix_practice_cards_user_id_due", "user_id", "due"),
        one_of("state", CardState),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    due: Mapped[datetime] = mapped_column(UTCDateTime())
    card: Mapped[dict[str, Any]] = mapped_column(JSON)  # fsrs.Card.to_dict()
    state: Mapped[CardState] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
