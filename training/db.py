"""Database helpers shared by features: the transaction rule, UTC timestamps, SQLite tuning.

The transaction rule, followed everywhere: **services flush, the request commits once.**
A service (``record_read``, ``start_attempt``, ``publish_revision``, …) adds and flushes rows
but never commits or rolls back; the view or CLI command that called it commits once at the
end, and anything that raises leaves the transaction to be rolled back (the error handlers
and the app context teardown do). A reader never has to open a service to learn whether it
commits.

On SQLite a request that may write takes the write lock when its transaction begins
(``BEGIN IMMEDIATE``): every POST, and the GET views marked ``@writes`` (exports, which
record an audit event). A transaction that began as a reader cannot always upgrade to a
writer once another connection has committed (SQLite then fails at once with "database is
locked"), so writing requests never start as readers.

A busy POST whose reads and computing take longer than its writes (quiz start and submit)
is marked ``@reads_first`` instead: it begins as a reader — the session lookup included —
and writes inside ``write_phase()``, which ends the read transaction and begins a new one
with the write lock, where the view checks again what its writes depend on. No
transaction ever upgrades; the lock is held only for the writes and the commit.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import functools
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context, request
from sqlalchemy import CheckConstraint, CursorResult, DateTime, Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from training.extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def one_of(column: str, states: type[enum.StrEnum]) -> CheckConstraint:
    """A CHECK constraint keeping a string column to the values of a StrEnum.

    Named after the column (``ck_<table>_<column>``), so a migration can replace it when
    the enum gains a value.
    """
    values = ", ".join(f"'{state.value}'" for state in states)
    return CheckConstraint(f"{column} IN ({values})", name=column)


def company_zone() -> ZoneInfo:
    """Return the company's time zone (BABEL_DEFAULT_TIMEZONE)."""
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")


def company_today() -> date:
    """Return today's date in the company's time zone (due dates are local dates)."""
    return datetime.now(company_zone()).date()


def local_day_start(day: date) -> datetime:
    """Return the UTC instant at which a local calendar day (the company's time zone) begins."""
    return datetime.combine(day, time.min, tzinfo=company_zone()).astimezone(UTC)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as UTC and always hand back aware UTC datetimes.

    SQLite has no time zone type, so values are normalised to UTC on the way in
    and tagged as UTC on the way out; PostgreSQL gets ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def configure_sqlite(engine: Engine, busy_timeout_ms: int = 10_000) -> None:
    """Tune a SQLite engine for several server processes writing one file.

    WAL lets readers run beside one writer; ``synchronous=FULL`` makes each
    commit durable; the busy timeout makes a second writer wait instead of
    failing. pysqlite's own transaction handling is switched off so that
    write transactions can start with ``BEGIN IMMEDIATE``: taking the write
    lock up front avoids the deadlock where two deferred transactions both
    read and then both try to upgrade to a write lock (SQLite then fails one
    at once instead of waiting).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # INSERT OR REPLACE deletes the row it replaces; with recursive triggers that delete
        # fires the append-only DELETE triggers, so evidence cannot be replaced either.
        cursor.execute("PRAGMA recursive_triggers = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Requests that may change state (POST and friends) take the write
        # lock at once; page views and CLI reads begin deferred so that they
        # never hold the write lock while idle.
        if _READING.get():
            connection.exec_driver_sql("BEGIN")
        elif _WRITING.get() or (has_request_context() and _request_writes()):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _request_writes() -> bool:
    """Whether this request's transactions begin with the write lock (outside the blocks)."""
    if request.method in READ_ONLY_METHODS:
        return bool(g.get("writes", False))
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "reads_first", False)


def _insert(model: type, *, returning_id: bool = False) -> Any:
    """INSERT … ON CONFLICT DO NOTHING with its values bound at execution (compiled once)."""
    return _insert_statement(model, db.session.get_bind().dialect.name, returning_id)


@functools.cache
def _insert_statement(model: type, dialect: str, returning_id: bool) -> Any:
    # Built once per model: a statement object reused keeps its cache key, which SQLAlchemy
    # would otherwise work out again on every execution.
    module = postgresql if dialect == "postgresql" else sqlite
    # The model's Table, not the entity: a Core statement, whose result has the rowcount.
    table = cast(Any, model).__table__
    statement = module.insert(table).on_conflict_do_nothing()
    return statement.returning(table.c.id) if returning_id else statement


# Set while a command's transaction must take the SQLite write lock when it begins.
_WRITING: contextvars.ContextVar[bool] = contextvars.ContextVar("writing", default=False)
# Set while a writing request does slow work first (password hashing) and must not hold it.
_READING: contextvars.ContextVar[bool] = contextvars.ContextVar("reading", default=False)


@contextlib.contextmanager
def reads_first() -> Iterator[None]:
    """Run the slow, read-only part of a writing request without the SQLite write lock.

    A POST's transaction normally begins with ``BEGIN IMMEDIATE``; inside this block it begins
    deferred, so hashing a password (tens of milliseconds of CPU) never makes other writers
    wait. The block ends its read transaction; what the request writes afterwards begins
    with the write lock as usual. Nothing may be written inside the block.
    """
    db.session.commit()  # only reads so far (the session lookup): ends that transaction
    token = _READING.set(True)
    try:
        yield
    finally:
        db.session.rollback()  # a read transaction: nothing to keep
        _READING.reset(token)


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """Run a command's unit of work in one transaction that holds the write lock from its start.

    Outside a request (``flask notify send``, a job runner) a transaction begins deferred;
    inside this block it begins with ``BEGIN IMMEDIATE`` on SQLite, so a claim that reads and
    then writes cannot lose the lock to another process in between. It commits at the end and
    rolls back if the block raises. On PostgreSQL row locks (``FOR UPDATE SKIP LOCKED``) do
    the same job.
    """
    db.session.commit()  # end whatever read transaction came before
    token = _WRITING.set(True)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _WRITING.reset(token)


def reads_first_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a POST view that reads first and writes only inside ``write_phase()``.

    Its transaction begins deferred (``BEGIN`` on SQLite), so the session lookup, the view's
    reads and its computing hold no lock other writers wait for. Apply it below the route
    decorator (the function registered is the one marked).
    """
    cast(Any, view).reads_first = True
    return view


@contextlib.contextmanager
def write_phase() -> Iterator[None]:
    """The writes of a ``@reads_first_view``: one transaction with the write lock, one commit.

    Ends the read transaction first, keeping what it loaded (nothing is expired, so using
    those objects costs no query under the lock), and begins the next with the write lock.
    What the writes depend on must be checked again inside the block: another request may
    have committed in between. Commits at the end (a ``return`` inside the block commits
    too), rolls back if the block raises.

    On SQLite the switch happens on the connection the session holds, under the session's
    own transaction (the app issues BEGIN itself: pysqlite's transaction handling is off):
    ``COMMIT`` of the read, ``BEGIN IMMEDIATE``, waiting up to the busy timeout for the lock.
    Elsewhere the read transaction is committed without expiring anything and the next one
    begins on the first statement of the block.
    """
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a reads-first view changed rows before its write phase")
    if session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        connection = session.connection()
        connection.exec_driver_sql("COMMIT")  # a read transaction: nothing written, no fsync
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        expire = session.expire_on_commit
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    token = _WRITING.set(True)  # a transaction begun inside the block takes the lock at once
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _WRITING.reset(token)


def writes(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a GET view that writes (an audited export): its transaction takes the write lock.

    The read transaction the login check began is ended first, so the view's own reads and
    its write share one ``BEGIN IMMEDIATE`` transaction.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        db.session.commit()  # only reads so far: ends the deferred transaction
        g.writes = True
        return view(*args, **kwargs)

    return wrapper


def insert_returning_id(model: Any, **values: Any) -> int | None:
    """Insert one row unless it violates a unique constraint; return its id, or None if not.

    Like ``insert_ignoring_duplicates``, in one statement that also hands back the new id.
    """
    return db.session.scalar(_insert(model, returning_id=True), values)


def insert_ignoring_duplicates(model: type, **values: Any) -> bool:
    """Insert one row unless it violates a unique constraint; return True if inserted.

    Uses the database's own ``ON CONFLICT DO NOTHING`` so two concurrent
    requests cannot both insert, and neither sees an error.
    """
    # An INSERT's result is a CursorResult, which has the row count.
    result = cast(CursorResult[Any], db.session.execute(_insert(model), values))
    return bool(result.rowcount)


MAX_PAGE = 1_000_000  # far past any real listing; keeps OFFSET inside a 64-bit integer


def page_number(value: Any) -> int:
    """Return a ``?page=`` value as a page number in 1 … MAX_PAGE (1 when it is not a number)."""
    try:
        return min(max(int(value), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return 1
