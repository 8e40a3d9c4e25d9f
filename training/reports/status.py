"""Each employee's standing in the course, for any filtered set of employees, in one statement.

Everything is computed in SQL from the maintained progress summary
(``course.progress``), the current assignment and the certificate of the version in force,
with a CASE for the status, so the same statement serves the dashboard counts, the
paginated list, the employee page and the exports, on SQLite and PostgreSQL alike.
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
    func,
    or_,
    select,
)

from training.assignments.models import Assignment
from training.assignments.services import current_assignment_ids
from training.auth.models import Role, User
from training.course.certificates import lapsed, latest_renewals
from training.course.models import Certificate, Lesson, NormVersion, ProgressSummary
from training.db import company_today

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


def current_version_digest():
    """Return a scalar subquery of the digest of the norm version in force.

    The same rule as ``course.versions.current_norm_version``: the latest published.
    """
    return (
        select(NormVersion.source_sha256)
        .where(NormVersion.status == "published")
        .order_by(NormVersion.published_at.desc(), NormVersion.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def status_select(
    filters: Filters, *, today: date | None = None, user_id: int | None = None
) -> Select:
    """Return the statement giving one row per matching employee with progress and status.

    Columns: user_id, employee_no, name, department, position, email, hire_date,
    active, read_count, passed_count, completed_count, total, last_activity,
    completed_at, certificate_code, due_date, status.
    """
    today = today or company_today()
    # The summary is kept up to date by the learning events (training.course.progress).
    progress = ProgressSummary.__table__
    latest = current_assignment_ids()
    total = select(func.count(Lesson.id)).where(Lesson.active.is_(True)).scalar_subquery()
    digest = current_version_digest()
    completed = func.coalesce(progress.c.completed_count, 0)
    trainee = or_(User.role == Role.LEARNER, Assignment.id.is_not(None))
    renewals = latest_renewals()
    valid_from = func.coalesce(renewals.c.renewed_at, Certificate.issued_at)
    is_complete = and_(total > 0, completed >= total)
    status = case(
        (~trainee, EXEMPT),
        (and_(is_complete, lapsed(valid_from, today)), EXPIRED),
        (is_complete, COMPLETED),
        (Assignment.due_date < today, OVERDUE),
        (func.coalesce(progress.c.started, 0) == 0, NOT_STARTED),
        else_=IN_PROGRESS,
    )
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
            func.coalesce(progress.c.read_count, 0).label("read_count"),
            func.coalesce(progress.c.passed_count, 0).label("passed_count"),
            completed.label("completed_count"),
            total.label("total"),
            progress.c.last_activity,
            Certificate.issued_at.label("completed_at"),
            Certificate.code.label("certificate_code"),
            valid_from.label("certificate_valid_from"),
            Assignment.due_date,
            status.label("status"),
        )
        .outerjoin(progress, progress.c.user_id == User.id)
        .outerjoin(latest, latest.c.user_id == User.id)
        .outerjoin(Assignment, Assignment.id == latest.c.id)
        .outerjoin(
            Certificate,
            and_(Certificate.user_id == User.id, Certificate.source_sha256 == digest),
        )
        .outerjoin(renewals, renewals.c.certificate_id == Certificate.id)
        .where(*user_conditions(filters))
    )
    if not filters.include_staff and user_id is None:
        stmt = stmt.where(trainee)
    if user_id is not None:
        stmt = stmt.where(User.id == user_id)
    return stmt


def employee_rows(filters: Filters, *, today: date | None = None) -> Subquery:
    """Return the filtered status rows (status filter included) as a subquery to select from."""
    rows = status_select(filters, today=today).subquery("rows")
    if filters.status:
        return select(rows).where(rows.c.status == filters.status).subquery("filtered")
    return rows


def days_overdue(due: date | None, today: date) -> int:
    """Return how many days past the due date today is (0 when not past)."""
    if due is None:
        return 0
    return max(0, (today - due).days)
