"""Dashboard figures: status counts, completion by department, the overdue list."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from training.course.certificates import lapsed, recertify_days
from training.extensions import db
from training.reports.listing import Ordering, ordered
from training.reports.status import COMPLETED, OVERDUE, Filters, employee_rows


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


def summary(today: date) -> Summary:
    """Count active employees by department and status (one grouped query)."""
    rows = employee_rows(Filters(), today=today)
    stmt = select(rows.c.department, rows.c.status, func.count()).group_by(
        rows.c.department, rows.c.status
    )
    counts: Counter[str] = Counter()
    departments: dict[str, Department] = {}
    for department, status, number in db.session.execute(stmt):
        counts[status] += number
        departments.setdefault(department, Department(department)).counts[status] += number
    return Summary(counts, sorted(departments.values(), key=lambda d: d.name))


def overdue_rows(
    today: date,
    limit: int,
    *,
    department: str | None = None,
    departments: tuple[str, ...] | None = None,
) -> list[Any]:
    """Return the overdue employees (of a department or several), longest overdue first."""
    rows = employee_rows(
        Filters(status=OVERDUE, department=department, departments=departments), today=today
    )
    stmt = ordered(rows, Ordering("due_date")).limit(limit)
    return list(db.session.execute(stmt))


def expiring_count(today: date) -> int | None:
    """Count completed employees whose certificate runs out within RECERTIFY_WARN_DAYS.

    None when recertification is off (one query otherwise).
    """
    days = recertify_days()
    if not days:
        return None
    warn = current_app.config["RECERTIFY_WARN_DAYS"]
    rows = employee_rows(Filters(status=COMPLETED), today=today)
    # Still completed (not expired) but within the warning days of the end: 将到期.
    soon = lapsed(rows.c.certificate_valid_from, today, warn_days=warn)
    stmt = select(func.count()).select_from(rows).where(soon)
    return db.session.scalar(stmt) or 0
