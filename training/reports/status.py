"""Each employee's standing in the course, for any filtered set of employees, in one statement.

Everything is computed in SQL from each employee's maintained progress row
(``ProgressSummary``: counts from ``course.progress``, and the department, active flag,
trainee flag, due date in force and certificate validity that ``reports.standing`` copies
there), with a CASE for the status that compares the due date and the validity with today.
So the dashboard counts read one index, the list takes its page of users before joining
anything (``reports.listing``), and the employee page, the exports and the API share the
same rules, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    false,
    func,
    or_,
    select,
    true,
)

from training.auth.models import User
from training.course.certificates import lapsed
from training.course.models import Certificate, Lesson, ProgressSummary
from training.db import company_today
from training.reports.standing import current_version_digest

NOT_STARTED, IN_PROGRESS, COMPLETED, OVERDUE = "not_started", "in_progress", "completed", "overdue"
# With periodic recertification on: completed, but the certificate's validity has run out.
EXPIRED = "expired"
STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETED, OVERDUE, EXPIRED)
# HR staff and managers who were never assigned the course: listed only when asked for,
# and never counted in completion figures.
EXEMPT = "exempt"
STATUS_LABELS = {
    NOT_STARTED: _l("未开始"),
    IN_PROGRESS: _l("进行中"),
    COMPLETED: _l("已完成"),
    OVERDUE: _l("已逾期"),
    EXEMPT: _l("未分配培训"),
    EXPIRED: _l("证书已过期"),
}


def parse_status(value: str | None) -> str | None:
    """Return the status key for a key or its Chinese label; None when empty or unknown."""
    if not value:
        return None
    if value in STATUSES:
        return value
    return next((key for key, label in STATUS_LABELS.items() if str(label) == value), None)


@dataclass(frozen=True)
class Filters:
    """Which employees a report covers; shared by the list, the exports and the CLI."""

    department: str | None = None
    status: str | None = None
    hired_from: date | None = None
    hired_to: date | None = None
    search: str | None = None
    include_inactive: bool = False
    # Also list HR staff and managers who were not assigned the course (status "exempt").
    include_staff: bool = False
    # A manager's scope: only these departments (None: everyone; HR's view).
    departments: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the filters that are set, JSON-ready (for audit details)."""
        values = {}
        for key, value in dataclasses.asdict(self).items():
            if value in (None, "", False):
                continue
            values[key] = value.isoformat() if isinstance(value, date) else value
        return values


def user_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """Return WHERE conditions on users for the filters that do not need progress."""
    conditions: list[ColumnElement[bool]] = []
    if not filters.include_inactive:
        conditions.append(User.active.is_(True))
    if filters.department:
        conditions.append(User.department == filters.department)
    if filters.departments is not None:
        conditions.append(User.department.in_(filters.departments))
    if filters.hired_from:
        conditions.append(User.hire_date >= filters.hired_from)
    if filters.hired_to:
        conditions.append(User.hire_date <= filters.hired_to)
    if filters.search:
        term = filters.search.strip()
        conditions.append(
            or_(
                User.name.icontains(term, autoescape=True),
                User.employee_no.icontains(term, autoescape=True),
            )
        )
    return conditions


def needs_users(filters: Filters) -> bool:
    """Return whether a filter reads columns only ``users`` has (hire dates, name, 工号)."""
    return bool(filters.hired_from or filters.hired_to or filters.search)


def lessons_in_force() -> Any:
    """Return a scalar subquery: how many lessons are in force (the course's length)."""
    return select(func.count(Lesson.id)).where(Lesson.active.is_(True)).scalar_subquery()


def status_conditions(today: date, total: Any = None) -> dict[str, ColumnElement[bool]]:
    """SQL: for a trainee's progress row, the condition of each status today (exclusive).

    The rules, in order: expired (complete, and the certificate's validity is over),
    completed (every lesson in force read and passed on its current content), overdue (the
    due date of the assignment in force is past), not started (no read, no submitted quiz),
    in progress. Each condition excludes the ones before it, so they can be counted side
    by side (``dashboard.summary``) as well as chosen between (``status_case``).
    ``total`` is the number of lessons in force (a scalar subquery by default).
    """
    total = lessons_in_force() if total is None else total
    row = ProgressSummary
    complete = and_(total > 0, row.completed_count >= total)
    # Never NULL (a NOT of it must hold for a completion without a certificate).
    expired = and_(complete, row.valid_from.is_not(None), lapsed(row.valid_from, today))
    incomplete = or_(total == 0, row.completed_count < total)
    late = row.due_date < today
    not_late = or_(row.due_date.is_(None), row.due_date >= today)
    return {
        EXPIRED: expired,
        COMPLETED: and_(complete, ~expired),
        OVERDUE: and_(incomplete, late),
        NOT_STARTED: and_(incomplete, not_late, row.started == 0),
        IN_PROGRESS: and_(incomplete, not_late, row.started != 0),
    }


def status_case(today: date, total: Any = None) -> ColumnElement[str]:
    """SQL: an employee's status today, from their progress row (``ProgressSummary``).

    Exempt (not a trainee), else the first of ``status_conditions`` that holds.
    """
    conditions = status_conditions(today, total)
    return case(
        (ProgressSummary.trainee == false(), EXEMPT),
        *[(conditions[key], key) for key in (EXPIRED, COMPLETED, OVERDUE, NOT_STARTED)],
        else_=IN_PROGRESS,
    )


def standing_conditions(filters: Filters, today: date) -> list[ColumnElement[bool]]:
    """Return WHERE conditions on the progress row: trainees only, and the status filter."""
    conditions: list[ColumnElement[bool]] = []
    if not filters.include_staff:
        conditions.append(ProgressSummary.trainee == true())
    if filters.status:
        conditions.append(status_case(today) == filters.status)
    return conditions


def summary_conditions(filters: Filters, today: date) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions of ``filters`` on the progress row alone.

    For counts, which then read one index of ``progress_summaries`` and never ``users``.
    Only for filters that ``needs_users`` says nothing of.
    """
    row = ProgressSummary
    conditions: list[ColumnElement[bool]] = []
    if not filters.include_inactive:
        conditions.append(row.active == true())
    if filters.department:
        conditions.append(row.department == filters.department)
    if filters.departments is not None:
        conditions.append(row.department.in_(filters.departments))
    return conditions + standing_conditions(filters, today)


def count_select(filters: Filters, *, today: date | None = None) -> Select:
    """Return the statement counting the employees that match ``filters``."""
    today = today or company_today()
    if needs_users(filters):
        return (
            select(func.count())
            .select_from(User)
            .join(ProgressSummary, ProgressSummary.user_id == User.id)
            .where(*user_conditions(filters), *standing_conditions(filters, today))
        )
    return (
        select(func.count()).select_from(ProgressSummary).where(*summary_conditions(filters, today))
    )


def status_select(
    filters: Filters, *, today: date | None = None, user_id: int | None = None
) -> Select:
    """Return the statement giving one row per matching employee with progress and status.

    Columns: user_id, employee_no, name, department, position, email, hire_date,
    active, read_count, passed_count, completed_count, total, last_activity,
    completed_at, certificate_code, certificate_valid_from, due_date, status.
    The status filter is applied too.
    """
    today = today or company_today()
    # The row is kept up to date by whatever changes it (training.reports.standing).
    row = ProgressSummary
    total = lessons_in_force()
    stmt = (
        select(
            User.id.label("user_id"),
            User.employee_no,
            User.name,
            User.department,
            User.position,
            User.email,
            User.hire_date,
            User.active,
            row.read_count,
            row.passed_count,
            row.completed_count,
            total.label("total"),
            row.last_activity,
            Certificate.issued_at.label("completed_at"),
            Certificate.code.label("certificate_code"),
            row.valid_from.label("certificate_valid_from"),
            row.due_date,
            status_case(today, total).label("status"),
        )
        .join(row, row.user_id == User.id)
        .outerjoin(
            Certificate,
            and_(
                Certificate.user_id == User.id,
                Certificate.source_sha256 == current_version_digest(),
            ),
        )
    )
    if user_id is not None:
        return stmt.where(User.id == user_id, *user_conditions(filters))
    return stmt.where(*user_conditions(filters), *standing_conditions(filters, today))


def employee_rows(filters: Filters, *, today: date | None = None) -> Subquery:
    """Return the filtered status rows (status filter included) as a subquery to select from."""
    return status_select(filters, today=today).subquery("rows")


def days_overdue(due: date | None, today: date) -> int:
    """Return how many days past the due date today is (0 when not past)."""
    if due is None:
        return 0
    return max(0, (today - due).days)
