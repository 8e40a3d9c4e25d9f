"""Sorting and paging the employee status rows: a fixed number of queries per page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Subquery, case, func, select

from training.auth.models import User
from training.extensions import db
from training.reports.status import Filters, employee_rows

SORTS = ("employee_no", "name", "department", "hire_date", "progress", "due_date")
DEFAULT_SORT = "employee_no"
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Ordering:
    """A sort key and direction, checked against the known keys."""

    key: str = DEFAULT_SORT
    descending: bool = False

    @classmethod
    def parse(cls, key: str | None, direction: str | None) -> Ordering:
        """Return the ordering for query-string values, falling back to the default."""
        return cls(key if key in SORTS else DEFAULT_SORT, direction == "desc")


def _keys(rows: Subquery, key: str) -> list[ColumnElement[Any]]:
    c = rows.c
    if key == "progress":
        return [c.completed_count, c.passed_count + c.read_count]
    return [
        {
            "employee_no": c.employee_no,
            "name": c.name,
            "department": c.department,
            "hire_date": c.hire_date,
            "due_date": c.due_date,
        }[key]
    ]


def ordered(rows: Subquery, ordering: Ordering) -> Select:
    """Return the rows in the ordering; empty values last either way, 工号 breaks ties."""
    clauses: list[ColumnElement[Any]] = []
    for column in _keys(rows, ordering.key):
        # "IS NULL" first: SQLite and PostgreSQL place NULLs differently by default.
        clauses.append(case((column.is_(None), 1), else_=0))
        clauses.append(column.desc() if ordering.descending else column.asc())
    clauses += [rows.c.employee_no.asc(), rows.c.user_id.asc()]
    return select(rows).order_by(*clauses)


@dataclass(frozen=True)
class Page:
    """One page of status rows."""

    rows: Sequence[Row[Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def clamp_per_page(value: Any) -> int:
    """Return a page size between 1 and MAX_PER_PAGE (the default when unreadable)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PER_PAGE
    return min(max(number, 1), MAX_PER_PAGE)


def page_of(
    filters: Filters, ordering: Ordering, page: int, per_page: int, *, today: date | None = None
) -> Page:
    """Return one page of employees in two queries (count and rows) whatever the page size."""
    rows = employee_rows(filters, today=today)
    total = db.session.scalar(select(func.count()).select_from(rows)) or 0
    last_page = max(1, -(-total // per_page))
    page = min(page, last_page)
    stmt = ordered(rows, ordering).limit(per_page).offset((page - 1) * per_page)
    return Page(db.session.execute(stmt).all(), total, page, per_page)


def departments() -> list[str]:
    """Return the departments employees belong to, in order (one query)."""
    stmt = select(User.department).where(User.department != "").distinct().order_by(User.department)
    return list(db.session.scalars(stmt))
