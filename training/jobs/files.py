"""Files that jobs make (large exports), kept in the database for JOBS_FILES_KEEP_DAYS."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete

from training.db import utcnow, write_transaction
from training.extensions import db
from training.jobs import runner
from training.jobs.models import Job, JobFile


def store(job: Job, *, filename: str, mimetype: str, data: bytes) -> JobFile:
    """Keep a job's file, owned by whoever queued the job (flush only: the job's transaction)."""
    now = utcnow()
    stored = JobFile(
        job_id=job.id,
        owner_id=job.created_by,
        filename=filename,
        mimetype=mimetype,
        size=len(data),
        data=data,
        created_at=now,
        expires_at=now + timedelta(days=current_app.config["JOBS_FILES_KEEP_DAYS"]),
    )
    db.session.add(stored)
    db.session.flush()
    return stored


@runner.schedule
def purge_expired() -> None:
    """Remove the files whose time is up (their jobs and audit events stay)."""
    with write_transaction():
        db.session.execute(delete(JobFile).where(JobFile.expires_at < utcnow()))
