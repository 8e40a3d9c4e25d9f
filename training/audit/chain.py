"""Tamper evidence: every evidence row is chained to the previous row of its table.

The evidence tables refuse UPDATE and DELETE through triggers, but whoever owns the database
can drop a trigger, edit a row and put the trigger back. So each row also gets a link in
``evidence_chain``: ``hash = sha256(previous hash, table, row)``. Rewriting a row breaks its
link; rewriting the links as well changes the chain's head, which HR's weekly digest and the
audit page print, so it shows against any earlier copy of the heads.

How rows get their links: the first INSERT of a transaction into an evidence table, through
the ORM or Core, is noticed on its connection (``before_execute``), which notes the table's
highest committed id at that moment; every row the transaction inserts lies above it. When
the session commits, the rows above that mark that have no link yet are linked in id order,
in the same transaction. The chain's order is the order of the links, not of the row ids: on
PostgreSQL ids are handed out at insert time, so a row can commit after a row with a higher
id, and is then linked after it. On PostgreSQL one advisory lock, taken only at commit time,
makes linking one transaction at a time (it is never held while waiting for anything else,
so it cannot deadlock); on SQLite the write lock does the same. A row inserted some other way
(``psql``, an old backup) has no link: ``verify`` reports it and fails until someone adopts
it on purpose with ``flask audit link``, which is itself audited. (On SQLite, where the next
write of the app links every row above the head, such a row is adopted by that write unless
``verify`` ran first; run ``verify`` from cron and keep the fingerprints.)

Which columns a link hashed is versioned: ``evidence_columns`` keeps each column list an
evidence table has had (its sorted names and their short hash, the version), and each link
records the version it was hashed with (``columns_version``; links made before versions
existed have none and use the table's first recorded list). So a migration that adds a
column, even one with a default that fills old rows, leaves old links valid: ``verify``
recomputes each link over its own version's columns. A column that a version names but the
table no longer has (removed or renamed) is reported as such, not as tampering. At commit the
version costs nothing: it is computed from the model's columns, and each process records a
list it has not seen (one INSERT … ON CONFLICT DO NOTHING per table and database, the first
time it links that table).

``flask audit verify`` walks every chain from the start and names the first broken link.
"""

from __future__ import annotations

import functools
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Engine,
    Index,
    Insert,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.orm import Mapped, Session, mapped_column

from training.db import UTCDateTime, utcnow
from training.extensions import Model, db

# Every append-only table whose rows are evidence (the migrations' triggers guard the same).
EVIDENCE = (
    "audit_events",
    "assignments",
    "read_events",
    "quiz_attempts",
    "quiz_submissions",
    "quiz_answers",
    "certificates",
    "certificate_renewals",
    "question_holds",
    "question_reviews",
    "practice_reviews",
    "notifications",
    "notification_deliveries",
    "refresher_attempts",
    "refresher_submissions",
    "bank_publications",
)
_EVIDENCE = frozenset(EVIDENCE)
GENESIS = "0" * 64  # the "previous hash" of each table's first row
_TOUCHED = "evidence_tables_written"  # key in Connection.info: tables inserted into
BATCH = 2000  # rows read per query while linking or verifying


class ChainLink(Model):
    """The link of one evidence row: its hash, chained to the previous row of its table."""

    __tablename__ = "evidence_chain"
    __table_args__ = (
        UniqueConstraint("table_name", "row_id"),
        Index("ix_evidence_chain_table_id", "table_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The ColumnList.version the row was hashed with; None: linked before lists had versions
    # (hashed with every column the table had then, its first recorded list).
    columns_version: Mapped[str | None] = mapped_column(String(16))


class ColumnList(Model):
    """One column list an evidence table has had: the columns its links hash, by version."""

    __tablename__ = "evidence_columns"
    __table_args__ = (UniqueConstraint("table_name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(16))  # ``columns_version`` of the names
    columns: Mapped[str] = mapped_column(Text)  # the sorted column names, JSON
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def columns_version(names: Iterable[str]) -> str:
    """The version of a column list: a short hash of its sorted names (the migration that
    introduced versions computes the same)."""
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    """Turn a column value into JSON the same way whenever it is read back."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    return value


_AS_IS = frozenset({str, int, float, bool, dict, list})  # what _plain hands back unchanged


def row_hash(
    prev: str, table: str, row: RowMapping | Mapping[str, Any], columns: Iterable[str] | None = None
) -> str:
    """Return the link hash of ``row``: its ``columns`` (all of them if None) as the
    database hands them back.

    NULL columns are left out (as before versions existed, so old links keep their hashes).
    """
    keys = row.keys() if columns is None else columns
    body = json.dumps(
        {
            # Most values are JSON as they are: only the other types go through _plain
            # (linking an import's 300,000 rows spends its time here).
            key: value if type(value) in _AS_IS else _plain(value)
            for key in keys
            if (value := row[key]) is not None
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(f"{prev}\n{table}\n{body}".encode()).hexdigest()


_LOCK_KEY = zlib.crc32(b"evidence_chain")  # one advisory lock for every chain (PostgreSQL)


@functools.cache
def _head_statement() -> Any:
    # Built once: linking runs in every evidence-writing commit, under the write lock.
    return (
        select(ChainLink.row_id, ChainLink.hash)
        .where(ChainLink.table_name == bindparam("table_name"))
        .order_by(ChainLink.id.desc())
        .limit(1)
    )


def _head(conn: Connection, table: str) -> tuple[int, str]:
    """Return (row id, hash) of a table's last link; (0, GENESIS) when the chain is empty."""
    head = conn.execute(_head_statement(), {"table_name": table}).first()
    return (head.row_id, head.hash) if head else (0, GENESIS)


def _unlinked(table: Table, name: str, after: Any) -> Any:
    """Rows of ``table`` with an id past ``after`` that have no link yet."""
    linked = select(ChainLink.id).where(
        ChainLink.table_name == name, ChainLink.row_id == table.c.id
    )
    return select(table).where(table.c.id > after, ~linked.exists())


@functools.cache
def _unlinked_batch(name: str) -> Any:
    """The next batch of a table's unlinked rows past ``:after``, in id order (built once)."""
    table = db.metadata.tables[name]
    return (
        _unlinked(table, name, bindparam("after", type_=Integer()))
        .order_by(table.c.id)
        .limit(BATCH)
    )


@functools.cache
def _link_insert() -> Any:
    return insert(ChainLink)


@functools.cache
def _model_columns(name: str) -> tuple[tuple[str, ...], str]:
    """The columns the app reads of an evidence table (its model's), and their version."""
    names = tuple(column.name for column in db.metadata.tables[name].columns)
    return names, columns_version(names)


# Per process: the column-list versions known to be recorded, per database (engine URL).
_RECORDED: set[tuple[str, str, str]] = set()


def _current_version(conn: Connection, name: str) -> str:
    """Return the version of the table's column list, recording the list the first time."""
    names, version = _model_columns(name)
    key = (conn.engine.url.render_as_string(hide_password=True), name, version)
    if key not in _RECORDED:
        values = {
            "table_name": name,
            "version": version,
            "columns": json.dumps(sorted(names)),
            "recorded_at": utcnow(),
        }
        if conn.dialect.name == "postgresql":
            stmt: Any = pg_insert(ColumnList).values(values).on_conflict_do_nothing()
        else:
            stmt = sqlite_insert(ColumnList).values(values).on_conflict_do_nothing()
        conn.execute(stmt)
        _RECORDED.add(key)
    return version


def link_rows(conn: Connection, floors: Mapping[str, int | None]) -> int:
    """Link the rows of each table above its floor that have no link yet, in id order.

    At a commit the floor is the table's highest id before the transaction's first insert
    into it (None on SQLite: the chain's head); ``flask audit link`` passes 0 (the whole
    table). Returns the rows linked.
    """
    if conn.dialect.name == "postgresql":
        # Held until the transaction ends, which follows at once: links are appended one
        # transaction at a time. Taken only here, at commit, so it never waits on a row lock.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    linked = 0
    for name in sorted(floors):
        head_row, prev = _head(conn, name)
        names, _ = _model_columns(name)
        version = _current_version(conn, name)  # a statement only the first time
        floor = floors[name]
        after = head_row if floor is None else floor
        while True:
            rows = conn.execute(_unlinked_batch(name), {"after": after}).mappings().all()
            if not rows:
                break
            links = []
            for row in rows:
                digest = row_hash(prev, name, row, names)
                links.append(
                    {
                        "table_name": name,
                        "row_id": row["id"],
                        "prev_hash": prev,
                        "hash": digest,
                        "linked_at": utcnow(),
                        "columns_version": version,
                    }
                )
                prev = digest
            conn.execute(_link_insert(), links)
            linked += len(links)
            if len(rows) < BATCH:
                break  # a short batch was the last: no need to ask again
            after = rows[-1]["id"]
    return linked


def _note_insert(conn: Connection, clauseelement: Any, *_args: Any) -> None:
    """Before a transaction's first insert into an evidence table, note the table's top id."""
    if not isinstance(clauseelement, Insert):
        return
    name = getattr(clauseelement.table, "name", None)
    if name not in _EVIDENCE:
        return
    floors = conn.info.setdefault(_TOUCHED, {})
    if name in floors:
        return
    if conn.dialect.name != "postgresql":
        # One writer at a time holds a SQLite database from its first write to its commit,
        # so every row above the chain's head is this transaction's (and a read here would
        # make the transaction a reader that cannot always become a writer).
        floors[name] = None
        return
    table = db.metadata.tables[name]
    floors[name] = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()


def _forget(conn: Connection) -> None:
    conn.info.pop(_TOUCHED, None)


def _link_before_commit(session: Session) -> None:
    # A savepoint's commit is not the transaction's: link once, when the real commit comes.
    if not session.in_transaction() or session.in_nested_transaction():
        return
    session.flush()  # rows still pending get their ids (commit would flush after this event)
    conn = session.connection()
    floors = conn.info.get(_TOUCHED)
    if floors:
        link_rows(conn, floors)
        floors.clear()


def configure(engine: Engine) -> None:
    """Link evidence rows on every commit of the app's session on ``engine``."""
    event.listen(engine, "before_execute", _note_insert)
    event.listen(engine, "commit", _forget)
    event.listen(engine, "rollback", _forget)
    if not event.contains(Session, "before_commit", _link_before_commit):
        event.listen(Session, "before_commit", _link_before_commit)


@dataclass(frozen=True)
class Head:
    """Where one table's chain ends: the last linked row's id and its hash."""

    table: str
    last_row_id: int
    hash: str


@dataclass(frozen=True)
class Break:
    """The first link of a table that does not hold, and why."""

    table: str
    row_id: int
    reason: str


@dataclass(frozen=True)
class Unverifiable:
    """Links that cannot be recomputed because the table changed shape, and why.

    Not tampering: a migration removed or renamed a column that these links hashed (or the
    column list of their version was never recorded). Their order is still checked.
    """

    table: str
    version: str
    links: int
    first_row_id: int
    reason: str


@dataclass
class Verification:
    """What ``verify`` found: every chain's head, the first break, rows not linked yet, and
    links the table's present columns can no longer check."""

    heads: list[Head] = field(default_factory=list)
    breaks: list[Break] = field(default_factory=list)
    unlinked: dict[str, int] = field(default_factory=dict)
    unverifiable: list[Unverifiable] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every chain holds, every evidence row has its link (one without was not written
        by the app, or was written behind its back) and every link could be recomputed."""
        return not self.breaks and not self.unlinked and not self.unverifiable


def _batches(conn: Connection, stmt: Any, key: Any) -> Iterator[Any]:
    """Yield rows of ``stmt`` in ``key`` order, a batch at a time (bounded memory)."""
    last = None
    while True:
        page = stmt if last is None else stmt.where(key > last)
        rows = conn.execute(page.order_by(key).limit(BATCH)).mappings().all()
        if not rows:
            return
        yield from rows
        last = rows[-1][key.key]


def _column_lists(conn: Connection, name: str) -> dict[str | None, list[str]]:
    """The table's recorded column lists by version; None (links made before versions) is
    the first one recorded."""
    found: dict[str | None, list[str]] = {}
    for row in conn.execute(
        select(ColumnList.version, ColumnList.columns)
        .where(ColumnList.table_name == name)
        .order_by(ColumnList.id)
    ):
        found.setdefault(None, json.loads(row.columns))
        found[row.version] = json.loads(row.columns)
    names, version = _model_columns(name)
    found.setdefault(version, list(names))  # linked by a process whose record was lost
    found.setdefault(None, list(names))
    return found


def verify_table(
    conn: Connection, name: str, unverifiable: list[Unverifiable] | None = None
) -> tuple[Head, Break | None, int]:
    """Walk one table's chain in link order; return its head, first break and unlinked rows.

    Each link is recomputed over the column list of its version. Links whose list names a
    column the table no longer has are counted into ``unverifiable`` (their order is still
    checked), not reported as breaks.
    """
    table = db.metadata.tables[name]
    present = set(table.columns.keys())
    lists = _column_lists(conn, name)
    shapeless: dict[str | None, list[int]] = {}  # version -> [links, first row id]
    links = _batches(
        conn,
        select(
            ChainLink.id,
            ChainLink.row_id,
            ChainLink.prev_hash,
            ChainLink.hash,
            ChainLink.columns_version,
        ).where(ChainLink.table_name == name),
        ChainLink.id,
    )
    walked = _walk(conn, name, table, links, lists, present, shapeless)
    for version, (count, first) in shapeless.items():
        columns = lists.get(version)
        if columns is None:
            reason = f"column list version {version} was never recorded in evidence_columns"
        else:
            gone = ", ".join(sorted(set(columns) - present))
            reason = (
                f"hashed with column(s) {gone} that the table no longer has (removed or "
                "renamed by a migration): the rows cannot be recomputed; their order holds"
            )
        if unverifiable is not None:
            unverifiable.append(
                Unverifiable(name, version or "(before versions)", count, first, reason)
            )
    if isinstance(walked, tuple):
        return walked
    unlinked = conn.execute(
        select(func.count()).select_from(_unlinked(table, name, 0).subquery())
    ).scalar_one()
    return walked, None, unlinked


def _walk(
    conn: Connection,
    name: str,
    table: Table,
    links: Iterator[Any],
    lists: dict[str | None, list[str]],
    present: set[str],
    shapeless: dict[str | None, list[int]],
) -> Head | tuple[Head, Break, int]:
    """Follow the links; return the head, or (head, first break, 0)."""
    prev, last_row = GENESIS, 0
    for batch in _chunks(links, BATCH):
        ids = [link["row_id"] for link in batch]
        rows = {
            row["id"]: row
            for row in conn.execute(select(table).where(table.c.id.in_(ids))).mappings()
        }
        for link in batch:
            head = Head(name, last_row, prev)
            row = rows.get(link["row_id"])
            if link["prev_hash"] != prev:
                return (
                    head,
                    Break(name, link["row_id"], "the link does not follow the one before"),
                    0,
                )
            if row is None:
                return head, Break(name, link["row_id"], "a linked row is missing (deleted)"), 0
            version = link["columns_version"]
            columns = lists.get(version)
            if columns is None or not present.issuperset(columns):
                seen = shapeless.setdefault(version, [0, link["row_id"]])
                seen[0] += 1
            elif row_hash(prev, name, row, columns) != link["hash"]:
                return head, Break(name, row["id"], "the row was changed after it was linked"), 0
            prev, last_row = link["hash"], link["row_id"]
    return Head(name, last_row, prev)


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def verify(conn: Connection | None = None) -> Verification:
    """Recompute every evidence chain; report each table's head and the first broken link."""
    conn = conn or db.session.connection()
    found = Verification()
    for name in EVIDENCE:
        head, broken, unlinked = verify_table(conn, name, found.unverifiable)
        found.heads.append(head)
        if broken:
            found.breaks.append(broken)
        if unlinked:
            found.unlinked[name] = unlinked
    return found


def heads(conn: Connection | None = None) -> list[Head]:
    """Return each evidence table's current chain head, in one statement of indexed lookups."""
    conn = conn or db.session.connection()
    last = [
        select(ChainLink.table_name, ChainLink.row_id, ChainLink.hash)
        .where(ChainLink.table_name == name)
        .order_by(ChainLink.id.desc())
        .limit(1)
        .subquery()
        .select()
        for name in EVIDENCE
    ]
    found = {row.table_name: row for row in conn.execute(union_all(*last))}
    return [
        Head(name, found[name].row_id, found[name].hash)
        if name in found
        else Head(name, 0, GENESIS)
        for name in EVIDENCE
    ]


def fingerprint(found: Iterable[Head]) -> str:
    """One hash over every head: a short value HR can copy and compare later."""
    joined = "\n".join(f"{head.table}:{head.last_row_id}:{head.hash}" for head in found)
    return hashlib.sha256(joined.encode()).hexdigest()
