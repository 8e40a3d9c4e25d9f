"""The status core: one statement gives every employee's progress and status."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from training.extensions import db
from training.reports.status import Filters, employee_rows, status_select


def _rows(filters: Filters | None = None, **kwargs):
    return {
        row.employee_no: row
        for row in db.session.execute(status_select(filters or Filters(), **kwargs))
    }


def test_each_status_from_reads_attempts_and_due_dates(app, lessons, records, today, yesterday):
    records.employee(employee_no="N1", due=today + timedelta(days=5))
    started = records.employee(employee_no="P1", due=today)  # due today is not overdue
    records.read(started, lessons[0])
    done = records.employee(employee_no="C1", due=yesterday)  # completed wins over overdue
    records.complete(done, lessons)
    late = records.employee(employee_no="O1", due=yesterday)
    records.read(late, lessons[0])
    records.employee(employee_no="O2", due=yesterday)  # not started and late: overdue

    rows = _rows()

    assert rows["N1"].status == "not_started"
    assert rows["P1"].status == "in_progress"
    assert rows["C1"].status == "completed"
    assert rows["O1"].status == "overdue"
    assert rows["O2"].status == "overdue"
    assert rows["C1"].completed_count == rows["C1"].total == len(lessons) == 14
    assert rows["C1"].completed_at is not None
    assert rows["C1"].certificate_code
    assert rows["P1"].read_count == 1
    assert rows["P1"].passed_count == 0
    assert rows["P1"].completed_count == 0
    assert rows["P1"].due_date == today
    assert rows["N1"].last_activity is None
    assert rows["P1"].last_activity is not None


def test_only_current_hash_counts_and_unsubmitted_attempt_is_not_a_start(app, lessons, records):
    old = records.employee(employee_no="H1")
    records.read(old, lessons[0], lesson_hash="0" * 64)
    opened = records.employee(employee_no="U1")
    records.attempt(opened, lessons[0], submit=False)
    passed_only = records.employee(employee_no="Q1")
    records.attempt(passed_only, lessons[1])
    failed = records.employee(employee_no="F1")
    records.read(failed, lessons[2])
    records.attempt(failed, lessons[2], correct=False)

    rows = _rows()

    assert rows["H1"].read_count == 0
    assert rows["H1"].status == "in_progress"  # read an earlier version: started
    assert rows["U1"].status == "not_started"
    assert rows["U1"].last_activity is not None
    assert (rows["Q1"].read_count, rows["Q1"].passed_count, rows["Q1"].completed_count) == (0, 1, 0)
    assert (rows["F1"].read_count, rows["F1"].passed_count, rows["F1"].completed_count) == (1, 0, 0)


def test_the_newest_assignment_sets_the_due_date(app, lessons, records, today, yesterday):
    user = records.employee(employee_no="A1", due=yesterday)
    records.assign(user, today + timedelta(days=3))

    row = _rows()["A1"]

    assert row.due_date == today + timedelta(days=3)
    assert row.status == "not_started"


def test_retired_lesson_leaves_the_course(app, lessons, records):
    user = records.employee(employee_no="R1")
    records.complete(user, lessons[1:])
    lessons[0].active = False
    db.session.commit()

    row = _rows()["R1"]

    assert row.total == 13
    assert row.status == "completed"


def test_deactivated_employees_are_excluded_unless_asked_for(app, lessons, records):
    records.employee(employee_no="X1", active=False)
    records.employee(employee_no="Y1")

    assert set(_rows()) == {"Y1"}
    assert set(_rows(Filters(include_inactive=True))) == {"X1", "Y1"}


def test_filters_combine_department_hire_dates_search_and_status(app, lessons, records):
    from datetime import date

    records.employee(
        employee_no="S001", name="张三", department="销售部", hire_date=date(2026, 1, 5)
    )
    records.employee(
        employee_no="S002", name="李四", department="销售部", hire_date=date(2026, 3, 1)
    )
    records.employee(
        employee_no="T001", name="Zhang Wei", department="技术部", hire_date=date(2026, 1, 9)
    )

    def numbers(**kwargs):
        rows = employee_rows(Filters(**kwargs))
        return set(db.session.scalars(select(rows.c.employee_no)))

    assert numbers(department="销售部") == {"S001", "S002"}
    assert numbers(hired_from=date(2026, 1, 6)) == {"S002", "T001"}
    assert numbers(hired_to=date(2026, 1, 31)) == {"S001", "T001"}
    assert numbers(search="zhang") == {"T001"}
    assert numbers(search="s00") == {"S001", "S002"}
    assert numbers(search="张") == {"S001"}
    assert numbers(search="%") == set()
    assert numbers(status="not_started", department="技术部") == {"T001"}
    assert numbers(status="completed") == set()
