"""Dashboard figures: status counts, completion by department, the overdue list."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from training.auth.models import User
from training.course.certificates import lapsed, recertify_days
from training.course.models import ProgressSummary
from training.extensions import db
from training.reports.status import (
    COMPLETED,
    OVERDUE,
    STATUSES,
    Filters,
    status_conditions,
    status_select,
    summary_conditions,
)


@dataclass
class Department:
    """Employees of one department by status."""

    name: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def completed(self) -> int:
        return self.counts[COMPLETED]

    @property
    def percent(self) -> int:
        return round(self.completed * 100 / self.total) if self.total else 0


@dataclass
class Summary:
    """Status counts over active employees, overall and per department."""

    counts: Counter[str]
    departments: list[Department]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def summary(today: date, *, departments: tuple[str, ...] | None = None) -> Summary:
    """Count active employees by department and status (one grouped query).

    ``departments``: only these (a manager's or an API token's scope).

    It reads the progress rows' standing index alone, never users or assignments, in
    department order with one count per status, so no sort is needed: the status is
    computed from the copied due date and validity, compared with today.
    """
    row = ProgressSummary
    conditions = status_conditions(today)
    stmt = (
        select(row.department, *[func.count().filter(conditions[key]) for key in STATUSES])
        .where(*summary_conditions(Filters(departments=departments), today))
        .group_by(row.department)
    )
    counts: Counter[str] = Counter()
    found: dict[str, Department] = {}
    for department, *numbers in db.session.execute(stmt):
        by_status = Counter({key: n for key, n in zip(STATUSES, numbers, strict=True) if n})
        counts.update(by_status)
        found[department] = Department(department, by_status)
    return Summary(counts, sorted(found.values(), key=lambda d: d.name))


def overdue_rows(
    today: date,
    limit: int,
    *,
    department: str | None = None,
    departments: tuple[str, ...] | None = None,
) -> list[Any]:
    """Return the overdue employees (of a department or several), longest overdue first.

    The progress rows whose due date is past are read in due-date order from their index
    until ``limit`` overdue ones are found; only those are joined to users.
    """
    filters = Filters(status=OVERDUE, department=department, departments=departments)
    row = ProgressSummary
    chosen = (
        select(row.user_id)
        .join(User, User.id == row.user_id)
        .where(row.due_date < today, *summary_conditions(filters, today))
        .order_by(row.due_date, User.employee_no, User.id)
        .limit(limit)
    )
    everyone = Filters(include_inactive=True, include_staff=True)
    stmt = status_select(everyone, today=today).where(User.id.in_(chosen.scalar_subquery()))
    return list(db.session.execute(stmt.order_by(row.due_date, User.employee_no, User.id)))


def expiring_count(today: date) -> int | None:
    """Count completed employees whose certificate runs out within RECERTIFY_WARN_DAYS.

    None when recertification is off (one query otherwise).
    """
    days = recertify_days()
    if not days:
        return None
    warn = current_app.config["RECERTIFY_WARN_DAYS"]
    # Still completed (not expired) but within the warning days of the end: 将到期.
    soon = lapsed(ProgressSummary.valid_from, today, warn_days=warn)
    filters = Filters(status=COMPLETED)
    stmt = (
        select(func.count())
        .select_from(ProgressSummary)
        .where(soon, *summary_conditions(filters, today))
    )
    return db.session.scalar(stmt) or 0
