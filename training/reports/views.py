"""HR dashboard, employee list, employee page and exports."""

from __future__ import annotations

import dataclasses
import io
import tempfile
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from training.audit.services import ACTIONS
from training.auth.decorators import department_scope, hr_required, may_view, staff_required
from training.auth.models import User
from training.course.certificates import recertify_days, validity
from training.course.lessons import active_lessons, clause_lessons
from training.course.models import QuizAttempt
from training.db import page_number, utcnow, writes
from training.extensions import db
from training.jobs import runner
from training.jobs.models import Job, JobFile, JobState
from training.quizzes import services as quiz_services
from training.reports import dashboard as dash
from training.reports import detail
from training.reports import jobs as export_jobs
from training.reports.chart import bar_chart
from training.reports.columns import employee_columns, score_percent
from training.reports.export import (
    MIMETYPES,
    count_rows,
    filename,
    record_export,
    write_export,
)
from training.reports.forms import FilterForm
from training.reports.insight import cached_insight
from training.reports.items import (
    DISCRIMINATION_BELOW,
    EASY_ABOVE,
    MIN_LEARNERS,
    cached_item_analysis,
)
from training.reports.listing import (
    DEFAULT_PER_PAGE,
    SORTS,
    Ordering,
    clamp_per_page,
    departments,
    page_of,
)
from training.reports.status import (
    STATUS_LABELS,
    STATUSES,
    Filters,
    company_today,
    days_overdue,
)

bp = Blueprint("reports", __name__, url_prefix="/hr", template_folder="templates")

OVERDUE_LIMIT = 20
PER_PAGE_CHOICES = (10, 20, 50, 100, 200)


def _list_request() -> tuple[FilterForm, Filters, Ordering]:
    """Read the filters and ordering from the query string (one query: the departments).

    A manager's filters are narrowed to their own departments, whatever the query says.
    """
    scope = department_scope(current_user)
    form = FilterForm(request.args)
    form.set_departments(departments() if scope is None else list(scope))
    form.validate()
    ordering = Ordering.parse(request.args.get("sort"), request.args.get("dir"))
    return form, dataclasses.replace(form.filters(), departments=scope), ordering


# The query parameters the list understands; nothing else is copied into links.
LIST_PARAMS = (
    "q",
    "search",
    "department",
    "status",
    "hired_from",
    "hired_to",
    "include_inactive",
    "include_staff",
    "sort",
    "dir",
    "per_page",
    "page",
)


def _args(**changes: Any) -> dict[str, Any]:
    """Return the list's own query parameters with changes (None removes a key), for links."""
    args = MultiDict([(k, v) for k, v in request.args.items(multi=True) if k in LIST_PARAMS])
    for key, value in changes.items():
        args.pop(key, None)
        if value is not None:
            args[key] = value
    return args.to_dict(flat=True)


@bp.route("/")
@hr_required
def dashboard():
    """Show completion counts, completion by department, the overdue list and quiz insight."""
    today = company_today()
    summary = dash.summary(today)
    chart = bar_chart(
        [(d.name or _("（未填部门）"), d.completed, d.total) for d in summary.departments]
    )
    return render_template(
        "reports/dashboard.html",
        summary=summary,
        chart=chart,
        overdue=dash.overdue_rows(today, OVERDUE_LIMIT),
        expiring=dash.expiring_count(today),
        today=today,
        days_overdue=days_overdue,
        insight=cached_insight(),
        statuses=STATUSES,
        status_labels=STATUS_LABELS,
    )


@bp.route("/employees")
@staff_required
def employee_list():
    """List employees with filters, search, sorting and pages (a fixed number of queries)."""
    form, filters, ordering = _list_request()
    per_page = clamp_per_page(request.args.get("per_page", DEFAULT_PER_PAGE))
    page = page_of(filters, ordering, page_number(request.args.get("page")), per_page)
    return render_template(
        "reports/employee_list.html",
        form=form,
        filters=filters,
        ordering=ordering,
        page=page,
        per_page=per_page,
        per_page_choices=PER_PAGE_CHOICES,
        columns=employee_columns(filters),
        sortable=SORTS,
        args=_args,
    )


def _export(what: str, fmt: str, filters: Filters, ordering: Ordering | None = None):
    """Build the file on disk, record the audit event and send the file.

    An export of more than EXPORT_JOB_ROWS rows is queued as a background job instead, and
    the browser goes to its page, which offers the file once it is ready.
    """
    rows = count_rows(what, filters)
    if rows > current_app.config["EXPORT_JOB_ROWS"]:
        job = export_jobs.enqueue_export(
            what, fmt, filters, ordering, rows=rows, actor=current_user._get_current_object()
        )
        db.session.commit()
        runner.start(current_app._get_current_object())  # type: ignore[attr-defined]
        return redirect(url_for("reports.export_job", export_id=job.id))
    out = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it after sending
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        rows = write_export(what, fmt, filters, text, ordering)
        text.flush()
        text.detach()
    else:
        rows = write_export(what, fmt, filters, out, ordering)
    out.seek(0)
    record_export(what, fmt, filters, rows)
    db.session.commit()
    return send_file(
        out,
        mimetype=MIMETYPES[fmt],
        as_attachment=True,
        download_name=filename(what, fmt, company_today()),
    )


@bp.route("/employees/export.<any(csv, xlsx):fmt>")
@staff_required
@writes
def export_employees(fmt: str):
    """Download the filtered employee list with the screen's columns as CSV or XLSX."""
    _form, filters, ordering = _list_request()
    return _export("employees", fmt, filters, ordering)


@bp.route("/attempts/export.<any(csv, xlsx):fmt>")
@hr_required
@writes
def export_attempts(fmt: str):
    """Download every quiz attempt of the filtered employees as CSV or XLSX."""
    _form, filters, _ordering = _list_request()
    return _export("attempts", fmt, filters)


def _own_export(export_id: int) -> Job:
    """The export job of this id that the current user asked for (404 for anyone else's)."""
    job = db.session.get(Job, export_id)
    if job is None or job.kind != export_jobs.KIND or job.created_by != current_user.id:
        abort(404)
    return job


@bp.route("/exports/<int:export_id>")
@staff_required
def export_job(export_id: int):
    """A large export's progress, then its download link (or what went wrong)."""
    job = _own_export(export_id)
    if job.state == JobState.QUEUED:
        runner.start(current_app._get_current_object())  # type: ignore[attr-defined]
    done, total = runner.progress_of(job)
    stored = None
    if job.state == JobState.DONE:
        stored = db.session.execute(
            db.select(JobFile.id, JobFile.filename, JobFile.size, JobFile.expires_at).where(
                JobFile.job_id == job.id
            )
        ).first()
    return render_template(
        "reports/export_job.html", job=job, done=done, total=total, stored=stored
    )


@bp.route("/exports/<int:export_id>/download")
@staff_required
def export_download(export_id: int):
    """The file of a finished export, for the person who asked for it."""
    job = _own_export(export_id)
    stored = db.session.scalar(db.select(JobFile).where(JobFile.job_id == job.id))
    if job.state != JobState.DONE or stored is None:
        abort(404)
    return send_file(
        io.BytesIO(stored.data),
        mimetype=stored.mimetype,
        as_attachment=True,
        download_name=stored.filename,
    )


@bp.route("/employees/<int:user_id>")
@staff_required
def employee_detail(user_id: int):
    """Show one employee's profile, status, reads, attempts, certificate, links and audit trail.

    A manager sees the people of their own departments only (404 otherwise, as for an id
    that does not exist), without HR's links, actions and audit trail.
    """
    employee = db.get_or_404(User, user_id)
    if not may_view(current_user, employee):
        abort(404)
    is_hr = current_user.is_hr
    certs = detail.certificates(user_id)
    lessons = active_lessons()
    reads = detail.read_events(user_id)
    tries = detail.attempts(user_id)
    return render_template(
        "reports/employee_detail.html",
        employee=employee,
        row=detail.status_row(user_id),
        today=company_today(),
        days_overdue=days_overdue,
        status_labels=STATUS_LABELS,
        assignments=detail.assignments(user_id),
        lines=detail.lesson_lines(lessons, reads, tries),
        reads=reads,
        attempts=tries,
        score_percent=score_percent,
        certificates=certs,
        validities={c.id: validity(c) for c in certs} if recertify_days() else {},
        links=detail.password_links(user_id) if is_hr else [],
        events=detail.audit_events(user_id) if is_hr else [],
        is_hr=is_hr,
        audit_limit=detail.AUDIT_LIMIT,
        audit_actions=ACTIONS,
        now=utcnow(),
    )


@bp.route("/attempts/<int:attempt_id>")
@hr_required
def attempt_detail(attempt_id: int):
    """Show an attempt read-only: the questions shown, the answers, the key and the feedback."""
    attempt = db.get_or_404(QuizAttempt, attempt_id)
    employee = db.session.get(User, attempt.user_id)
    shown = quiz_services.shown_questions(attempt)
    results = {}
    if attempt.submission is not None:
        grade = quiz_services.grade_submission(attempt)
        results = {r.question_id: r for r in grade.per_question}
    return render_template(
        "reports/attempt.html",
        attempt=attempt,
        employee=employee,
        lesson=attempt.lesson,
        submission=attempt.submission,
        shown=shown,
        results=results,
        clause_lesson=clause_lessons(c for item in shown for c in item.question.cites),
        is_current=attempt.lesson_hash == attempt.lesson.content_hash,
        back=url_for("reports.employee_detail", user_id=attempt.user_id),
    )


@bp.route("/items")
@hr_required
def item_analysis():
    """Show every question's first-attempt facility, discrimination and option choices."""
    analysis = cached_item_analysis()
    lessons = {lesson.number: lesson for lesson in active_lessons()}
    return render_template(
        "reports/items.html",
        analysis=analysis,
        lessons=lessons,
        min_learners=MIN_LEARNERS,
        easy_above=EASY_ABOVE,
        discrimination_below=DISCRIMINATION_BELOW,
        only_flagged=request.args.get("flagged") == "1",
    )
