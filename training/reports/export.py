"""CSV and XLSX exports of the employee list and of all quiz attempts (web and CLI share this)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from training.audit.services import record
from training.auth.models import User
from training.course.models import Lesson, NormVersion, QuizAttempt, QuizSubmission
from training.extensions import db
from training.i18n import N_
from training.logs import security_event
from training.reports.columns import Column, attempt_columns, employee_columns, sheet_columns
from training.reports.listing import Ordering, ordered
from training.reports.status import Filters, employee_rows, user_conditions
from training.sheets import XLSX_MIMETYPE, write_csv, write_xlsx

WHATS = ("employees", "attempts")
FORMATS = ("csv", "xlsx")
# Message ids: the sheet and the file are named in the language of whoever builds the export.
TITLES = {"employees": N_("员工培训进度"), "attempts": N_("测验记录")}
# Audit summaries, one whole sentence per export (stored as message ids, shown translated).
EXPORT_SUMMARIES = {
    "employees": N_("导出员工培训进度（%(format)s，%(rows)s 行）"),
    "attempts": N_("导出测验记录（%(format)s，%(rows)s 行）"),
}
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": XLSX_MIMETYPE,
}
BATCH = 1000


def attempts_select(filters: Filters, *, today: date | None = None) -> Select:
    """Return every quiz attempt of the filtered employees, oldest first, with its result."""
    # The norm version in force when the attempt started; failing that, the lesson's own.
    in_force = (
        select(NormVersion.source_sha256)
        .where(NormVersion.published_at <= QuizAttempt.started_at)
        .order_by(NormVersion.published_at.desc(), NormVersion.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    lesson_version = (
        select(NormVersion.source_sha256)
        .where(NormVersion.id == Lesson.version_id)
        .scalar_subquery()
    )
    version = func.coalesce(in_force, lesson_version)
    stmt = (
        select(
            QuizAttempt.id.label("attempt_id"),
            User.employee_no,
            User.name,
            User.department,
            Lesson.number.label("lesson_number"),
            Lesson.title.label("lesson_title"),
            QuizAttempt.started_at,
            QuizSubmission.submitted_at,
            QuizSubmission.correct_count,
            QuizSubmission.total,
            QuizSubmission.passed,
            QuizAttempt.lesson_hash,
            version.label("norm_sha"),
        )
        .join(User, User.id == QuizAttempt.user_id)
        .join(Lesson, Lesson.id == QuizAttempt.lesson_id)
        .outerjoin(QuizSubmission, QuizSubmission.attempt_id == QuizAttempt.id)
        .where(*user_conditions(filters))
        .order_by(QuizAttempt.id)
    )
    if filters.status:
        matching = employee_rows(filters, today=today)
        stmt = stmt.where(QuizAttempt.user_id.in_(select(matching.c.user_id)))
    return stmt


def export_source(
    what: str, filters: Filters, ordering: Ordering | None = None
) -> tuple[list[Column], Select]:
    """Return the columns and the statement for an export."""
    if what == "employees":
        columns = sheet_columns(employee_columns(filters))
        return columns, ordered(employee_rows(filters), ordering or Ordering())
    if what == "attempts":
        return attempt_columns(), attempts_select(filters)
    raise ValueError(f"unknown export {what!r}")


def _stream(stmt: Select) -> Iterator[Any]:
    """Yield result rows in batches (a server-side cursor on PostgreSQL)."""
    yield from db.session.execute(stmt, execution_options={"yield_per": BATCH})


def _counted(rows: Iterable[Any], on_row: Callable[[int], None]) -> Iterator[Any]:
    for number, row in enumerate(rows, start=1):
        on_row(number)
        yield row


def write_export(
    what: str,
    fmt: str,
    filters: Filters,
    out: IO[Any],
    ordering: Ordering | None = None,
    on_row: Callable[[int], None] | None = None,
) -> int:
    """Write an export to a text (CSV) or binary (XLSX) stream and return the row count.

    ``on_row`` hears the number of each row written (a background export's progress).
    """
    columns, stmt = export_source(what, filters, ordering)
    rows: Iterable[Any] = _stream(stmt)
    if on_row is not None:
        rows = _counted(rows, on_row)
    if fmt == "csv":
        return write_csv(columns, rows, out)
    if fmt == "xlsx":
        return write_xlsx(columns, rows, out, _(TITLES[what]))
    raise ValueError(f"unknown format {fmt!r}")


def count_rows(what: str, filters: Filters) -> int:
    """Return how many rows an export of these filters would have (one statement)."""
    _columns, stmt = export_source(what, filters)
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def record_export(
    what: str,
    fmt: str,
    filters: Filters,
    rows: int,
    actor: User | None = None,
    job_id: int | None = None,
) -> None:
    """Add the audit event for an export to the session (the caller commits), and log it."""
    security_event("export", what=what, format=fmt, rows=rows, filters=filters.as_dict())
    details: dict[str, Any] = {
        "what": what,
        "format": fmt,
        "filters": filters.as_dict(),
        "rows": rows,
    }
    if job_id is not None:
        details["job_id"] = job_id  # built in the background (training/reports/jobs.py)
    record(
        "export",
        EXPORT_SUMMARIES[what],
        params={"format": fmt.upper(), "rows": rows},
        actor=actor,
        details=details,
    )


def filename(what: str, fmt: str, today: date) -> str:
    """Return the download name, e.g. 员工培训进度-20260301.xlsx."""
    return f"{_(TITLES[what])}-{today:%Y%m%d}.{fmt}"
