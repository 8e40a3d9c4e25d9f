"""Lesson and read-event models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import UTCDateTime, utcnow
from training.extensions import db


class Lesson(db.Model):
    """A lesson generated from the norm; one row per distinct content.

    When a revision leaves a lesson's content unchanged (renumbering alone
    is no change), the row is kept and only its number, text and version
    move on, so reads and passed quizzes still count. A changed lesson gets a
    new row that ``supersedes`` the old one, which is retired (``active``
    false) and kept with everything recorded against it.
    """

    __tablename__ = "lessons"
    __table_args__ = (
        # Numbers are unique among the lessons in force; retired ones keep theirs.
        Index(
            "uq_lessons_active_number",
            "number",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
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
    version_id: Mapped[int | None] = mapped_column(ForeignKey("norm_versions.id"))
    # The lesson of the previous version this one replaces (its content changed).
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"))
    # What changed against the superseded lesson: HTML with <ins>/<del> per clause.
    revision_html: Mapped[str | None] = mapped_column(Text)


class NormVersion(db.Model):
    """A version of the norm, named by its source digest; lessons are generated from it."""

    __tablename__ = "norm_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    source_name: Mapped[str] = mapped_column(String(255))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    label: Mapped[str] = mapped_column(String(100), default="", server_default="")
    effective_date: Mapped[date | None]
    # "published" (in force), "superseded" (an earlier published one)
    status: Mapped[str] = mapped_column(String(16), default="published", server_default="published")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source_bytes: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Clause numbers (of the previous version) changed or removed, and renumberings.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")

    @property
    def short_sha(self) -> str:
        """Return the short form of the digest shown on certificates."""
        return self.source_sha256[:12]


class LessonArchive(db.Model):
    """A lesson as it read in a version, kept read-only when that version is superseded."""

    __tablename__ = "lesson_archives"
    __table_args__ = (UniqueConstraint("version_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("norm_versions.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    chapter_number: Mapped[str] = mapped_column(String(32))
    chapter_title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    body_html: Mapped[str] = mapped_column(Text)


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
