"""A large export as a background job: the same file as the download, kept in the database.

An export of more than EXPORT_JOB_ROWS rows is queued instead of built in the request; the job
writes the file (``training.jobs.files``) and the export's audit event in one transaction with
its "done", so an export is audited exactly when its file exists. Only the person who asked
may see the job's page and download the file (the filters were theirs: a manager's export
holds their departments alone); other HR staff see that it ran on the jobs page, not the file.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from typing import Any

from flask_babel import gettext as _

from training.auth.models import User
from training.db import company_today
from training.extensions import db
from training.i18n import N_, term
from training.jobs import files, runner
from training.jobs.models import Job
from training.reports.export import (
    MIMETYPES,
    TITLES,
    filename,
    record_export,
    write_export,
)
from training.reports.listing import Ordering
from training.reports.status import Filters

KIND = "report.export"


def filters_params(filters: Filters) -> dict[str, Any]:
    """Every field of the filters, JSON-ready (a manager's scope included)."""
    return {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in dataclasses.asdict(filters).items()
    }


def filters_from(params: dict[str, Any]) -> Filters:
    values = dict(params)
    for key in ("hired_from", "hired_to"):
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
    if values.get("departments") is not None:
        values["departments"] = tuple(values["departments"])
    return Filters(**values)


def enqueue_export(
    what: str,
    fmt: str,
    filters: Filters,
    ordering: Ordering | None,
    *,
    rows: int,
    actor: User,
) -> Job:
    """Queue an export (the caller commits)."""
    ordering = ordering or Ordering()
    return runner.enqueue(
        KIND,
        title=N_("导出%(what)s（%(fmt)s，约 %(rows)d 行）"),
        params={
            "title_params": {"what": term(TITLES[what]), "fmt": fmt.upper(), "rows": rows},
            "what": what,
            "format": fmt,
            "filters": filters_params(filters),
            "sort": ordering.key,
            "descending": ordering.descending,
            "rows": rows,
            "channel": "web",
        },
        actor=actor,
    )


@runner.register(KIND, result_template="reports/export_job_result.html")
def run_export(job: Job, progress: runner.Progress) -> dict[str, Any]:
    """Build the export file, keep it for its owner and audit the export."""
    params = job.params
    actor = db.session.get(User, job.created_by) if job.created_by else None
    if actor is None or not actor.active:
        raise runner.JobFailed(_("导出任务的提交人不存在或已停用，未生成文件。"))
    what, fmt = params["what"], params["format"]
    filters = filters_from(params["filters"])
    ordering = Ordering(params["sort"], params["descending"])
    total = int(params.get("rows", 0))
    progress(0, total)

    def on_row(number: int) -> None:  # the count was taken at the request: never "finished" early
        progress(number, max(total, number + 1))

    binary = io.BytesIO()
    if fmt == "csv":
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        rows = write_export(what, fmt, filters, text, ordering, on_row=on_row)
        text.flush()
        text.detach()
    else:
        rows = write_export(what, fmt, filters, binary, ordering, on_row=on_row)
    stored = files.store(
        job,
        filename=filename(what, fmt, company_today()),
        mimetype=MIMETYPES[fmt],
        data=binary.getvalue(),
    )
    record_export(what, fmt, filters, rows, actor=actor, job_id=job.id)
    db.session.flush()
    return {"file_id": stored.id, "filename": stored.filename, "rows": rows, "size": stored.size}
