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
    UniqueConstraint,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
    union_all,
)
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


def row_hash(prev: str, table: str, row: RowMapping) -> str:
    """Return the link hash of ``row``: every column as the database hands it back.

    NULL columns are left out, so a column added to the table later (NULL in old rows)
    does not change the old rows' hashes.
    """
    body = json.dumps(
        {
            # Most values are JSON as they are: only the other types go through _plain
            # (linking an import's 300,000 rows spends its time here).
            key: value if type(value) in _AS_IS else _plain(value)
            for key, value in row.items()
            if value is not None
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
        floor = floors[name]
        after = head_row if floor is None else floor
        while True:
            rows = conn.execute(_unlinked_batch(name), {"after": after}).mappings().all()
            if not rows:
                break
            links = []
            for row in rows:
                digest = row_hash(prev, name, row)
                links.append(
                    {
                        "table_name": name,
                        "row_id": row["id"],
                        "prev_hash": prev,
                        "hash": digest,
                        "linked_at": utcnow(),
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


@dataclass
class Verification:
    """What ``verify`` found: every chain's head, the first break, rows not linked yet."""

    heads: list[Head] = field(default_factory=list)
    breaks: list[Break] = field(default_factory=list)
    unlinked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every chain holds and every evidence row has its link (one without was not
        written by the app, or was written behind its back)."""
        return not self.breaks and not self.unlinked


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


def verify_table(conn: Connection, name: str) -> tuple[Head, Break | None, int]:
    """Walk one table's chain in link order; return its head, first break and unlinked rows."""
    table = db.metadata.tables[name]
    links = _batches(
        conn,
        select(ChainLink.id, ChainLink.row_id, ChainLink.prev_hash, ChainLink.hash).where(
            ChainLink.table_name == name
        ),
        ChainLink.id,
    )
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
            if row_hash(prev, name, row) != link["hash"]:
                return head, Break(name, row["id"], "the row was changed after it was linked"), 0
            prev, last_row = link["hash"], link["row_id"]
    unlinked = conn.execute(
        select(func.count()).select_from(_unlinked(table, name, 0).subquery())
    ).scalar_one()
    return Head(name, last_row, prev), None, unlinked


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
        head, broken, unlinked = verify_table(conn, name)
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
