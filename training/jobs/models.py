"""A background job: work too long for a request (a large import), run by a job runner."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.auth.models import User
from training.db import UTCDateTime, one_of, utcnow
from training.extensions import Model
from training.i18n import render


class JobState(enum.StrEnum):
    """Where a job is: waiting, being run, finished (its work committed) or failed (nothing)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Model):
    """One unit of background work and what became of it.

    Operational state, not evidence: the work a job does writes its own evidence (an import's
    accounts and audit events) in the same transaction that marks the job done, so a job is
    done exactly when its work is committed.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_id", "state", "id"), one_of("state", JobState))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    # Set when one request must not queue the same work twice (a doubled confirm).
    key: Mapped[str | None] = mapped_column(String(100), unique=True)
    # A message id (marked N_) filled in from params["title_params"] when shown: see
    # display_title. Rows from before hold the words themselves, shown as they are.
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[JobState] = mapped_column(String(16), default=JobState.QUEUED)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)  # e.g. the uploaded file
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    progress_done: Mapped[int] = mapped_column(default=0, server_default="0")
    progress_total: Mapped[int] = mapped_column(default=0, server_default="0")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)

    creator: Mapped[User | None] = relationship(foreign_keys=[created_by])

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def display_title(self) -> str:
        """The title in the reader's language (text with no catalog entry comes back as is)."""
        params = (self.params or {}).get("title_params")
        return render(self.title, params if isinstance(params, dict) else None)


class JobFile(Model):
    """A file a job made (a large export), kept in the database so that any host can serve
    it, for JOBS_FILES_KEEP_DAYS. Operational, not evidence: the audit event of the export is
    the record; the file is removed once it has expired."""

    __tablename__ = "job_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    mimetype: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
