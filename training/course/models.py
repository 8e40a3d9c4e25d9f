"""The course's records: norm versions, lessons in force, reads, quiz attempts and passes,
certificates, and the per-employee progress summary derived from them.

Reads, attempts, submissions and certificates are evidence: insert-only (database triggers
refuse updates and deletes). Lessons keep their row while their content is unchanged.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import UTCDateTime, one_of, utcnow
from training.extensions import Model
from training.i18n import N_, render


class Lesson(Model):
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
    # When the row was last written: every UPDATE sets it (the lesson list's version stamp).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("norm_versions.id"))
    # The lesson of the previous version this one replaces (its content changed).
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"))
    # What changed against the superseded lesson: HTML with <ins>/<del> per clause.
    revision_html: Mapped[str | None] = mapped_column(Text)
    # The lesson's text with that revision's changes marked inside each changed clause
    # (本次修订 badge, <ins>/<del>) and the deleted ones listed, shown to employees
    # retraining on it; and the clause numbers: {"changed": new numbers (changed or added,
    # whose questions their retraining quiz draws first), "removed": old numbers}.
    revision_body_html: Mapped[str | None] = mapped_column(Text)
    revised_clauses: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    # The hash of the text shown, when an editorial revision changed it in place: reads and
    # passes keep counting against ``content_hash``, the content learners were credited for.
    text_hash: Mapped[str | None] = mapped_column(String(64))

    @property
    def shown_hash(self) -> str:
        """Return the hash of the text this row shows now."""
        return self.text_hash or self.content_hash


class VersionStatus(enum.StrEnum):
    """Where a norm version stands."""

    PUBLISHED = "published"  # in force
    SUPERSEDED = "superseded"  # an earlier published one
    SCHEDULED = "scheduled"  # published with a future effective date; not in force yet
    CANCELLED = "cancelled"  # a scheduled one HR withdrew before it took effect


# The labels the system gives versions it makes itself (``revisions.sync``), stored in
# Chinese as ever and shown in the reader's language (``NormVersion.display_label``).
INITIAL_LABEL = N_("初始版本")
REPOSITORY_LABEL = N_("仓库版本 %(sha)s")


class NormVersion(Model):
    """A version of the norm, named by its source digest; lessons are generated from it."""

    __tablename__ = "norm_versions"
    __table_args__ = (one_of("status", VersionStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    source_name: Mapped[str] = mapped_column(String(255))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    label: Mapped[str] = mapped_column(String(100), default="", server_default="")
    effective_date: Mapped[date | None]
    status: Mapped[VersionStatus] = mapped_column(
        String(16), default=VersionStatus.PUBLISHED, server_default=VersionStatus.PUBLISHED.value
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source_bytes: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Clause numbers (of the previous version) changed or removed, and renumberings.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # HR's decisions at publish: lesson number -> reason, for changes judged editorial.
    editorial: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # Who scheduled it, when, and why activation failed (if it did).
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activation_error: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def short_sha(self) -> str:
        """Return the short form of the digest shown on certificates."""
        return self.source_sha256[:12]

    @property
    def display_label(self) -> str:
        """The label in the reader's language: what HR typed, as typed; the names the system
        gives (the first version, one loaded from the repository) translated."""
        if self.label == INITIAL_LABEL:
            return render(INITIAL_LABEL)
        if self.label == REPOSITORY_LABEL % {"sha": self.short_sha}:
            return render(REPOSITORY_LABEL, {"sha": self.short_sha})
        return self.label


class LessonArchive(Model):
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


class ReadEvent(Model):
    """An employee confirmed reading a lesson; written once per lesson content hash."""

    __tablename__ = "read_events"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id", "lesson_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    lesson_hash: Mapped[str] = mapped_column(String(64))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lesson: Mapped[Lesson] = relationship()


class QuizAttempt(Model):
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


class QuizSubmission(Model):
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


class Certificate(Model):
    """Issued once when an employee first completes the course for a norm version."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("user_id", "source_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    source_sha256: Mapped[str] = mapped_column(String(64))
    norm_title: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CertificateRenewal(Model):
    """A certificate renewed by passing the periodic refresher (复训); insert-only.

    Its own code is verifiable like the certificate's; the certificate is valid for
    RECERTIFY_DAYS from its latest renewal (or its issue, when never renewed).
    """

    __tablename__ = "certificate_renewals"
    __table_args__ = (
        Index("ix_certificate_renewals_certificate_id", "certificate_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The refresher attempt that earned it (refresher.models.RefresherAttempt).
    attempt_id: Mapped[int] = mapped_column(unique=True)


class ProgressSummary(Model):
    """One row per employee: what HR's figures need, kept current (operational, not evidence).

    Counts of lessons read, passed and completed on their current content (refreshed in the
    transaction that records a read or a submission, rebuilt whenever lessons change), and a
    copy of the employee's standing inputs: department, active, whether they are a trainee
    (a learner, or anyone assigned the course), the due date of the assignment in force and
    when the certificate of the norm version in force became valid (its latest renewal or its
    issue). ``training.reports.standing`` keeps those in the transaction of whatever changes
    them. Read events, quiz submissions, assignments and certificates stay the evidence; this
    row only saves HR pages from re-aggregating every event of every employee on each
    request. The status itself is not stored: it depends on today (overdue, expired) and on
    the number of lessons in force, so queries compute it from these columns.
    """

    __tablename__ = "progress_summaries"
    __table_args__ = (
        # The dashboard's counts: one pass over this index, not over users and assignments.
        Index(
            "ix_progress_summaries_standing",
            "active",
            "trainee",
            "department",
            "completed_count",
            "started",
            "due_date",
            "valid_from",
        ),
        # The overdue list: past due dates in order, longest overdue first.
        Index("ix_progress_summaries_due", "active", "trainee", "due_date"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    read_count: Mapped[int] = mapped_column(default=0, server_default="0")
    passed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    completed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    started: Mapped[int] = mapped_column(default=0, server_default="0")
    last_activity: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    department: Mapped[str] = mapped_column(String(100), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    trainee: Mapped[bool] = mapped_column(default=False, server_default=false())
    due_date: Mapped[date | None]
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
