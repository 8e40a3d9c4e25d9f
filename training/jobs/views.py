"""HR's view of background jobs: the queue, and one job's progress and result."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from training.auth.decorators import hr_required
from training.extensions import db
from training.jobs import files as _files  # noqa: F401 - registers the files' clean-up
from training.jobs.models import Job, JobState
from training.jobs.runner import kind_of, progress_of, start, start_ticker

bp = Blueprint("jobs", __name__, url_prefix="/hr/jobs", template_folder="templates")


@bp.before_app_request
def _tick_in_this_process() -> None:
    """With JOBS_RUN = "thread", the first request of each process starts its ticker."""
    start_ticker(current_app._get_current_object())  # type: ignore[attr-defined]


RECENT = 50


@bp.route("/")
@hr_required
def index():
    """The latest jobs, newest first, with who started them (one statement)."""
    jobs = db.session.scalars(
        select(Job).options(joinedload(Job.creator)).order_by(Job.id.desc()).limit(RECENT)
    ).all()
    return render_template(
        "jobs/index.html", jobs=jobs, progress={j.id: progress_of(j) for j in jobs}
    )


@bp.route("/<int:job_id>")
@hr_required
def show(job_id: int):
    """One job: a progress bar while it waits or runs (the page refreshes), then its result."""
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if job.state == JobState.QUEUED:
        # Still waiting (its runner thread died, or the database was busy): look again.
        start(current_app._get_current_object())  # type: ignore[attr-defined]
    kind = kind_of(job)
    done, total = progress_of(job)
    return render_template(
        "jobs/show.html",
        job=job,
        done=done,
        total=total,
        result_template=kind.result_template if kind else None,
    )
