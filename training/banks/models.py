"""Banks HR published from the browser or the CLI, and uploads waiting for publication."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from training.db import UTCDateTime, one_of, utcnow
from training.extensions import Model


class BankSource(enum.StrEnum):
    """Where the bank in force of a lesson comes from."""

    UPLOAD = "upload"  # HR published a file (browser or `flask content import-bank`)
    REPOSITORY = "repository"  # quizzes/<lesson>.yaml wins again (caught up, or chosen)


class BankPublication(Model):
    """One lesson's bank as published; insert-only evidence, the latest row per lesson counts.

    ``questions`` holds the authored questions exactly as published (``question_to_dict``);
    ``source`` says whether the lesson's bank now follows an upload or the repository.
    """

    __tablename__ = "bank_publications"
    __table_args__ = (
        one_of("source", BankSource),
        Index("ix_bank_publications_lesson_id", "lesson", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson: Mapped[str] = mapped_column(String(20))
    source: Mapped[BankSource] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))  # formats.digest of the questions
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pass_mark: Mapped[str | None] = mapped_column(String(20))
    file_format: Mapped[str] = mapped_column(String(16), default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    file_sha256: Mapped[str] = mapped_column(String(64), default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)  # added/changed/retired ids
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BankDraft(Model):
    """An uploaded bank between preview and publication (in the database, not on one host)."""

    __tablename__ = "bank_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    lesson: Mapped[str] = mapped_column(String(20))
    file_format: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
