"""Each employee's progress summary: counts of lessons read, passed and completed, kept current."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnClause,
    CursorResult,
    Integer,
    Subquery,
    Table,
    Update,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    select,
    union_all,
    update,
)

from training.course.completion import on_current_content
from training.course.models import Lesson, ProgressSummary, QuizAttempt, QuizSubmission, ReadEvent
from training.course.signals import progress_changed
from training.db import UTCDateTime, insert_ignoring_duplicates, utcnow
from training.extensions import db

COLUMNS = ("read_count", "passed_count", "completed_count", "started", "last_activity")


def _progress_subquery(user_id: BindParameter[int] | None = None) -> Subquery:
    """Return per-user counts of lessons read, passed and completed, and the last activity.

    Read events and attempts are gathered in one UNION ALL with flags, reduced per
    (user, lesson) and then per user, so each table is scanned once. "Current"
    means an active lesson at its present content hash; ``started`` is any read
    or submitted attempt, of any version.
    """
    zero: ColumnClause[int] = literal_column("0")
    one: ColumnClause[int] = literal_column("1")
    read_current = and_(Lesson.active.is_(True), on_current_content(ReadEvent))
    reads = select(
        ReadEvent.user_id.label("user_id"),
        ReadEvent.lesson_id.label("lesson_id"),
        ReadEvent.read_at.label("at"),
        case((read_current, one), else_=zero).label("is_read"),
        zero.label("is_passed"),
        one.label("started"),
    ).join(Lesson, Lesson.id == ReadEvent.lesson_id)
    passed_current = and_(
        QuizSubmission.passed.is_(True),
        Lesson.active.is_(True),
        on_current_content(QuizAttempt),
    )
    attempts = (
        select(
            QuizAttempt.user_id,
            QuizAttempt.lesson_id,
            func.coalesce(QuizSubmission.submitted_at, QuizAttempt.started_at),
            zero,
            case((passed_current, one), else_=zero),
            case((QuizSubmission.id.is_not(None), one), else_=zero),
        )
        .join(Lesson, Lesson.id == QuizAttempt.lesson_id)
        .outerjoin(QuizSubmission, QuizSubmission.attempt_id == QuizAttempt.id)
    )
    if user_id is not None:
        reads = reads.where(ReadEvent.user_id == user_id)
        attempts = attempts.where(QuizAttempt.user_id == user_id)
    events = union_all(reads, attempts).subquery("events")
    per_lesson = (
        select(
            events.c.user_id,
            func.max(events.c.at).label("at"),
            func.max(events.c.is_read).label("is_read"),
            func.max(events.c.is_passed).label("is_passed"),
            func.max(events.c.started).label("started"),
        )
        .group_by(events.c.user_id, events.c.lesson_id)
        .subquery("per_lesson")
    )
    done = and_(per_lesson.c.is_read == 1, per_lesson.c.is_passed == 1)
    return (
        select(
            per_lesson.c.user_id,
            func.sum(per_lesson.c.is_read).label("read_count"),
            func.sum(per_lesson.c.is_passed).label("passed_count"),
            func.sum(case((done, 1), else_=0)).label("completed_count"),
            func.max(per_lesson.c.at).label("last_activity"),
            func.max(per_lesson.c.started).label("started"),
        )
        .group_by(per_lesson.c.user_id)
        .subquery("progress")
    )


@functools.cache
def _refresh_statement() -> Update:
    """UPDATE one employee's summary row from their events, built once per process.

    The 5-level UNION ALL of ``_progress_subquery`` took longer to build in Python on every
    call than to run; built once, each call only binds ``user_id`` and ``now``.
    """
    progress = _progress_subquery(bindparam("employee", type_=Integer()))
    table = cast(Table, ProgressSummary.__table__)
    values: dict[str, Any] = {name: progress.c[name] for name in COLUMNS}
    values["updated_at"] = bindparam("now", type_=UTCDateTime())
    return update(table).where(table.c.user_id == progress.c.user_id).values(values)


@functools.cache
def _lock_statement() -> Any:
    table = cast(Table, ProgressSummary.__table__)
    return (
        select(table.c.user_id)
        .where(table.c.user_id == bindparam("user_id", type_=Integer()))
        .with_for_update()
    )


def refresh_user(user_id: int) -> None:
    """Recompute one employee's summary from their events (the caller commits).

    The row is created if missing (tolerating a concurrent creator) and then locked (on
    PostgreSQL) before the recomputation reads the events, so two requests of the same
    employee cannot interleave: the UPDATE, a statement of its own, sees what a transaction
    that held the lock committed. SQLite writers are serialised already. An employee without
    events keeps the zeros of the new row.
    """
    db.session.flush()
    now = utcnow()
    if insert_ignoring_duplicates(ProgressSummary, user_id=user_id, updated_at=now):
        progress_changed.send(user_ids=[user_id])  # a row this late: its standing too
    # On the session's connection, as Core: through the ORM the prebuilt statement would be
    # annotated anew on each call and lose its memoised cache key (1.3 ms to recompute).
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_lock_statement(), {"user_id": user_id})
    connection.execute(_refresh_statement(), {"employee": user_id, "now": now})


def rebuild_all() -> int:
    """Recompute every employee's summary in one statement (after lessons change); return rows.

    Then ``progress_changed`` lets HR's standing columns (``reports.standing``) fill in
    every row again, adding one for each employee without events.
    """
    db.session.execute(delete(ProgressSummary))
    progress = _progress_subquery()
    # A declarative model's __table__ is a Table; an INSERT's result is a CursorResult.
    table = cast(Table, ProgressSummary.__table__)
    result = cast(
        CursorResult[Any],
        db.session.execute(
            table.insert().from_select(
                ["user_id", *COLUMNS, "updated_at"],
                select(
                    progress.c.user_id,
                    *[progress.c[name] for name in COLUMNS],
                    literal_column("CURRENT_TIMESTAMP"),
                ),
            )
        ),
    )
    progress_changed.send(user_ids=None)
    return result.rowcount
