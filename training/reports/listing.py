"""Sorting and paging the employee status rows: a fixed number of queries per page."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Subquery, case, func, select

from training.auth.models import User
from training.course.models import ProgressSummary
from training.db import company_today
from training.extensions import db
from training.reports.status import (
    Filters,
    count_select,
    standing_conditions,
    status_select,
    user_conditions,
)

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


# Keys whose columns are never NULL: no "empty values last" term, so an index can give the order.
NOT_NULL = frozenset({"employee_no", "name", "department", "progress"})


def _keys(columns: Any, key: str) -> list[ColumnElement[Any]]:
    """Return the sort columns of ``key`` from ``columns`` (a subquery's ``c``, or ``Source``)."""
    c = columns
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


def _clauses(columns: Any, ordering: Ordering) -> list[ColumnElement[Any]]:
    clauses: list[ColumnElement[Any]] = []
    for column in _keys(columns, ordering.key):
        if ordering.key not in NOT_NULL:
            # "IS NULL" first: SQLite and PostgreSQL place NULLs differently by default.
            clauses.append(case((column.is_(None), 1), else_=0))
        clauses.append(column.desc() if ordering.descending else column.asc())
    if ordering.key != "employee_no":
        clauses.append(columns.employee_no.asc())
    return clauses + [columns.user_id.asc()]


def ordered(rows: Subquery, ordering: Ordering) -> Select:
    """Return the rows in the ordering; empty values last either way, 工号 breaks ties."""
    return select(rows).order_by(*_clauses(rows.c, ordering))


class Source:
    """The sort columns on the tables themselves (users and the progress row)."""

    employee_no = User.employee_no
    name = User.name
    department = User.department
    hire_date = User.hire_date
    user_id = User.id
    completed_count = ProgressSummary.completed_count
    passed_count = ProgressSummary.passed_count
    read_count = ProgressSummary.read_count
    due_date = ProgressSummary.due_date


def page_ids(filters: Filters, ordering: Ordering, *, today: date | None = None) -> Select:
    """Return the statement choosing the matching users' ids in the ordering (add the page).

    Only ``users`` and each one's progress row, joined by primary key: ordered by 工号 (the
    default) or by name, the database walks that index and stops at the page's last row.
    """
    today = today or company_today()
    return (
        select(User.id)
        .join(ProgressSummary, ProgressSummary.user_id == User.id)
        .where(*user_conditions(filters), *standing_conditions(filters, today))
        .order_by(*_clauses(Source, ordering))
    )


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
    """Return one page of employees in two queries (count and rows) whatever the page size.

    The count reads the progress rows' index alone when the filters allow; the page of
    users is chosen first (``page_ids``) and only its rows are joined to their progress and
    certificate.
    """
    today = today or company_today()
    total = db.session.scalar(count_select(filters, today=today)) or 0
    last_page = max(1, -(-total // per_page))
    page = min(page, last_page)
    stmt = page_select(filters, ordering, per_page, (page - 1) * per_page, today=today)
    return Page(db.session.execute(stmt).all(), total, page, per_page)


def page_select(
    filters: Filters, ordering: Ordering, limit: int, offset: int, *, today: date | None = None
) -> Select:
    """Return the statement of one page's rows: its users chosen first, then joined."""
    chosen = page_ids(filters, ordering, today=today).limit(limit).offset(offset)
    return rows_of(chosen, filters, today=today).order_by(*_clauses(Source, ordering))


def rows_of(chosen: Select, filters: Filters, *, today: date | None = None) -> Select:
    """Return the status rows of the users whose ids ``chosen`` selects (a page of them).

    The filters' own conditions on users stay, so a manager's scope holds whatever
    ``chosen`` says; the status and the trainee condition were ``chosen``'s to apply.
    """
    everyone = dataclasses.replace(filters, include_inactive=True, include_staff=True, status=None)
    page = chosen.subquery("page")
    return status_select(everyone, today=today).join(page, page.c.id == User.id)


def keyset_page(filters: Filters, after: int, limit: int, *, today: date | None = None) -> Select:
    """Return the status rows of the next ``limit`` matching users with an id above ``after``.

    The API's cursor pages: the primary key's index gives the order, so every page costs
    the same however far the client has read.
    """
    today = today or company_today()
    chosen = (
        select(User.id)
        .join(ProgressSummary, ProgressSummary.user_id == User.id)
        .where(User.id > after, *user_conditions(filters), *standing_conditions(filters, today))
        .order_by(User.id)
        .limit(limit)
    )
    return rows_of(chosen, filters, today=today).order_by(User.id)


def departments() -> list[str]:
    """Return the departments employees belong to, in order (one query).

    A loose index scan: each step of the recursive query seeks the next name in the
    department index, so it costs one seek per department, not a pass over every employee.
    """
    found = (
        select(func.min(User.department).label("name"))
        .where(User.department != "")
        .cte("found", recursive=True)
    )
    following = select(func.min(User.department)).where(User.department > found.c.name)
    found = found.union_all(select(following.scalar_subquery()).where(found.c.name.is_not(None)))
    return list(db.session.scalars(select(found.c.name).where(found.c.name.is_not(None))))
