"""Lesson and read-event models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import UTCDateTime, utcnow
from training.extensions import db


class Lesson(db.Model):
    """A lesson generated from one section of the norm, loaded by `flask content sync`."""

    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    slug: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    chapter_number: Mapped[str] = mapped_column(String(32))
    chapter_title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    source_sha256: Mapped[str] = mapped_column(String(64))
    body_markdown: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # The quiz pass mark from the lesson's bank (e.g. "0.8"); None: the app default.
    quiz_pass_mark: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NormVersion(db.Model):
    """A version of the norm that lessons were generated from, named by its source digest."""

    __tablename__ = "norm_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    source_name: Mapped[str] = mapped_column(String(255))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def short_sha(self) -> str:
        """Return the short form of the digest shown on certificates."""
        return self.source_sha256[:12]


class ReadEvent(db.Model):
    """An employee confirmed reading a lesson; written once per lesson content hash."""

    __tablename__ = "read_events"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id", "lesson_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    lesson_hash: Mapped[str] = mapped_column(String(64))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lesson: Mapped[Lesson] = relationship()
