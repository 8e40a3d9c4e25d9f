"""The employee list's page 1 reads an index, not every employee (EXPLAIN, SQLite and PostgreSQL).

Two thousand employees are written in bulk and the progress rows rebuilt; the database's
own planner then says how it would run the list's statements. On PostgreSQL the tables are
analysed first, as autovacuum does on a live server; SQLite runs as the app leaves it (no
ANALYZE). The count reads one index of the progress rows, which is O(employees) but narrow;
the page's rows never touch more users than the page shows.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Select, insert, select, text

from training.assignments.models import Assignment
from training.auth.models import Role, User
from training.course.progress import rebuild_all
from training.db import utcnow
from training.extensions import db
from training.reports.listing import Ordering, page_select
from training.reports.status import Filters, count_select

EMPLOYEES = 2000


@pytest.fixture
def many(app, today):
    users = [
        {
            "employee_no": f"P{n:05d}",
            "name": f"员工{n % 97:02d}{n}",
            "department": f"部门{n % 12}",
            "role": Role.LEARNER,
            "active": n % 50 != 0,
            "hire_date": today - timedelta(days=n % 400),
        }
        for n in range(EMPLOYEES)
    ]
    ids = db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users)
    db.session.execute(
        insert(Assignment),
        [
            {
                "user_id": user_id,
                "due_date": today + timedelta(days=n % 60 - 30),
                "assigned_at": utcnow(),
                "reason": "hire",
            }
            for n, user_id in enumerate(ids)
        ],
    )
    rebuild_all()  # bulk inserts bypass the services: every progress row, as populate does
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def _sql(stmt: Select) -> str:
    return str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))


def _plan(stmt: Select) -> list[str]:
    """Return the plan's steps: SQLite's EXPLAIN QUERY PLAN lines, PostgreSQL's node list."""
    if db.engine.dialect.name == "postgresql":
        raw = db.session.execute(text("EXPLAIN (FORMAT JSON) " + _sql(stmt))).scalar()
        document = raw if isinstance(raw, list) else json.loads(raw)
        steps: list[str] = []

        def walk(node: dict[str, Any]) -> None:
            steps.append(f"{node['Node Type']} {node.get('Relation Name', '')}".strip())
            for child in node.get("Plans", []):
                walk(child)

        walk(document[0]["Plan"])
        return steps
    return [row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + _sql(stmt)))]


def _full_scans(steps: list[str], table: str) -> list[str]:
    """Return the steps that read every row of ``table`` (an index walk in order is not one
    when the query stops at the page's end; a bare scan of the table is)."""
    if db.engine.dialect.name == "postgresql":
        return [s for s in steps if s == f"Seq Scan {table}"]
    return [s for s in steps if s == f"SCAN {table}" or s.startswith(f"SCAN {table} USING COVER")]


@pytest.mark.parametrize("key", ["employee_no", "name"])
def test_page_one_takes_its_users_from_an_index(app, many, today, key):
    stmt = page_select(Filters(), Ordering(key), 50, 0, today=today)

    steps = _plan(stmt)

    assert _full_scans(steps, "users") == [], steps
    assert not any("assignments" in step for step in steps), steps
    if db.engine.dialect.name == "sqlite":
        assert _full_scans(steps, "progress_summaries") == [], steps
        # The index gives the order: the walk stops at the page's last row.
        index = "sqlite_autoindex_users_1" if key == "employee_no" else "ix_users_name"
        walk = steps.index(f"SCAN users USING INDEX {index}")
        assert "USE TEMP B-TREE FOR ORDER BY" not in steps[walk : walk + 3], steps
    else:
        # An index scan of users under a Limit, and the page's users by primary key. (Of
        # the 2,000 progress rows PostgreSQL may read all rather than 50 by key: on a table
        # this small that is its cheaper plan; at 10,000 it looks them up.)
        assert steps.count("Index Scan users") == 2, steps
        assert "Limit" in steps, steps
    rows = db.session.execute(stmt).all()
    assert len(rows) == 50


def test_the_count_reads_the_progress_rows_alone(app, many, today):
    steps = _plan(count_select(Filters(), today=today))

    assert not any("users" in step for step in steps), steps
    assert not any("assignments" in step for step in steps), steps
    count = db.session.scalar(count_select(Filters(), today=today))
    assert count == db.session.scalar(
        select(db.func.count()).select_from(User).where(User.active.is_(True))
    )
