"""The lessons in force: installing a version's lessons, listing them, finding a clause's lesson.

``lesson_list`` is the list learners' pages show (every column but the texts), kept per
process: each call reads a version stamp — the id and ``updated_at`` of every lesson in force,
one short indexed query — and rebuilds the list only when the stamp differs from the one it
was built under. Any write to a lessons row sets its ``updated_at`` (``onupdate``), so a sync
or a revision published by another worker or host shows on the next request here; in this
process ``lessons_changed`` drops the list at once as well.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, String, func, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType

from training.course.models import Lesson
from training.course.signals import lessons_changed
from training.db import utcnow
from training.extensions import db


class _BareColumn(ColumnElement[Any]):
    """A boolean column as a bare WHERE term: ``lessons.active``, on every dialect.

    SQLAlchemy writes a boolean column as ``lessons.active = 1`` (or ``IS 1``) on SQLite,
    and SQLite uses a partial index only when the query repeats the index's own WHERE term
    (``active``) word for word: with ``= 1`` the lookup by number scans the table.
    """

    inherit_cache = True
    type = NullType()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: Any) -> None:
        self.column = column


@compiles(_BareColumn)
def _compile_bare(element: _BareColumn, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


def in_force() -> ColumnElement[Any]:
    """WHERE term for lessons in force, in the form the partial index on ``number`` matches."""
    return _BareColumn(Lesson.active)


@dataclass
class SyncReport:
    """What installing a set of lessons did, by lesson number."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    # new lesson number -> id of the lesson row it supersedes
    superseded: dict[str, int] = field(default_factory=dict)
    # lessons whose text changed in place (an editorial revision): nobody retrains
    editorial: list[str] = field(default_factory=list)


def install_lessons(
    incoming: list[dict],
    *,
    version_id: int | None,
    supersedes: Mapping[str, str] | None = None,
    revision_html: Mapping[str, str] | None = None,
    editorial: Collection[str] = (),
    revision_marks: Mapping[str, tuple[str, dict[str, list[str]]]] | None = None,
) -> SyncReport:
    """Make ``incoming`` the lessons in force (the caller commits); idempotent.

    A lesson row is matched by content hash, so a lesson whose content did
    not change keeps its row (and every read and quiz recorded against it)
    even when its number changes. A new content gets a new row; when
    ``supersedes`` maps its number to the number of the lesson it replaces,
    the link is kept so that employees who completed the old one are asked
    to retrain. Rows no longer in force are retired, never deleted.

    A lesson numbered in ``editorial`` (HR judged its change editorial) keeps the row it
    supersedes instead: the new text replaces the old on that row, ``content_hash`` stays,
    so what learners read and passed still counts and nobody retrains.

    ``revision_marks`` maps a lesson number to its text with the revision's changes marked
    (HTML) and the clauses changed and removed; new rows that supersede one keep them.
    """
    revision_html = revision_html or {}
    revision_marks = revision_marks or {}
    active = list(db.session.scalars(select(Lesson).where(Lesson.active.is_(True))))
    by_hash = {lesson.shown_hash: lesson for lesson in active}
    by_number = {lesson.number: lesson for lesson in active}
    # Take every lesson out of force first, so numbers can move between rows
    # without two lessons in force ever sharing a number.
    for row in active:
        row.active = False
    db.session.flush()

    report = SyncReport()
    kept: set[int] = set()
    for values in incoming:
        lesson = by_hash.pop(values["content_hash"], None)
        if lesson is None:
            # Without a revision's own matching, a lesson replaces the one of its number.
            previous = values["number"] if supersedes is None else supersedes.get(values["number"])
            old = by_number.get(previous or "")
            if old is not None and values["number"] in editorial and old.id not in kept:
                by_hash.pop(old.shown_hash, None)
                kept.add(old.id)
                for key, value in values.items():
                    if key != "content_hash":
                        setattr(old, key, value)
                old.text_hash = values["content_hash"]
                old.active = True
                old.version_id = version_id
                old.revision_html = revision_html.get(values["number"])
                old.revision_body_html = old.revised_clauses = None  # nobody retrains on it
                old.updated_at = utcnow()
                report.editorial.append(values["number"])
                continue
            marked, clauses = revision_marks.get(values["number"], (None, None))
            lesson = Lesson(
                **values,
                active=True,
                version_id=version_id,
                supersedes_id=old.id if old is not None else None,
                revision_html=revision_html.get(values["number"]),
                revision_body_html=marked if old is not None else None,
                revised_clauses=clauses if old is not None else None,
                updated_at=utcnow(),
            )
            db.session.add(lesson)
            report.created.append(values["number"])
            if old is not None:
                report.superseded[values["number"]] = old.id
            continue
        kept.add(lesson.id)
        # A row changed editorially matches on the text it shows; its content_hash stays.
        values = {k: v for k, v in values.items() if k != "content_hash" or not lesson.text_hash}
        changed = any(getattr(lesson, key) != value for key, value in values.items()) or (
            version_id is not None and lesson.version_id != version_id
        )
        lesson.active = True
        if supersedes is not None and lesson.revision_body_html is not None:
            # Unchanged by this revision: an earlier revision's marks no longer apply.
            lesson.revision_body_html = lesson.revised_clauses = None
        if changed:
            for key, value in values.items():
                setattr(lesson, key, value)
            if version_id is not None:
                lesson.version_id = version_id
            lesson.updated_at = utcnow()
            report.updated.append(values["number"])
        else:
            report.unchanged.append(values["number"])
    for lesson in active:
        if lesson.id not in kept:
            lesson.updated_at = utcnow()
            report.retired.append(lesson.number)
    db.session.flush()
    lessons_changed.send(None, report=report)
    return report


def active_lessons() -> list[Lesson]:
    """Return the course's lessons in order."""
    return list(
        db.session.scalars(
            select(Lesson).where(Lesson.active.is_(True)).order_by(Lesson.position, Lesson.number)
        )
    )


def lesson_in_force(number: str) -> Lesson | None:
    """Return the lesson in force with this number, if any (by the partial index)."""
    return db.session.scalar(select(Lesson).where(Lesson.number == number, in_force()))


@dataclass(frozen=True, slots=True)
class LessonItem:
    """A lesson in force as lists and progress show it: every column but its texts."""

    id: int
    number: str
    title: str
    chapter_number: str
    chapter_title: str
    position: int
    content_hash: str
    supersedes_id: int | None
    # What changed against the superseded lesson (the home page shows it to retrain).
    revision_html: str | None


_ITEM_COLUMNS = [getattr(Lesson, item.name) for item in fields(LessonItem)]
_CACHE_KEY = "training.lesson_list"


def stamp_columns() -> list[Any]:
    """What tells whether the lessons in force changed, as three scalar subqueries: how many
    there are, their latest ``updated_at`` (as stored: it is only compared) and the sum of
    their ids. A sync bumps ``updated_at`` of every lesson it changes or retires and adds new
    ones with a new id, so any change moves one of them. Other statements add these columns
    to save the list a query of its own (``lesson_list(stamp=…)``)."""
    return [
        select(func.count(Lesson.id)).where(in_force()).scalar_subquery().label("stamp_count"),
        select(func.max(type_coerce(Lesson.updated_at, String)))
        .where(in_force())
        .scalar_subquery()
        .label("stamp_updated"),
        select(func.sum(Lesson.id)).where(in_force()).scalar_subquery().label("stamp_ids"),
    ]


@functools.cache
def _stamp_statement() -> Select:
    return select(*stamp_columns())


def stamp_of(row: Any) -> tuple[Any, ...]:
    """The stamp in a row that selected ``stamp_columns()``."""
    return (row.stamp_count, row.stamp_updated, row.stamp_ids)


@functools.cache
def _list_statement() -> Select:
    return select(*_ITEM_COLUMNS).where(in_force()).order_by(Lesson.position, Lesson.number)


def lesson_list(stamp: tuple[Any, ...] | None = None) -> list[LessonItem]:
    """Return the lessons in force in order, without their texts (cached per process).

    Costs one short query while the lessons are unchanged, or none when the caller read the
    stamp with its own query (``stamp_columns``). Read in the caller's transaction, so a sync
    that has not committed yet shows only to itself; a list built from it is kept under a
    stamp no committed state has.
    """
    if stamp is None:
        stamp = stamp_of(db.session.execute(_stamp_statement()).one())
    cache = current_app.extensions.get(_CACHE_KEY)
    if cache is not None and cache[0] == stamp:
        return cache[1]
    items = [LessonItem(*row) for row in db.session.execute(_list_statement())]
    current_app.extensions[_CACHE_KEY] = (stamp, items)
    return items


@lessons_changed.connect
def _forget_lesson_list(sender: object, **extra: object) -> None:
    """Drop this process's list at once: the lessons in force changed (other processes see
    the new stamp on their next request)."""
    current_app.extensions.pop(_CACHE_KEY, None)


def lesson_for_clause(clause: str, lesson_numbers: Iterable[str]) -> str | None:
    """Return the number of the lesson covering a clause (the longest matching prefix)."""
    matches = [n for n in lesson_numbers if clause == n or clause.startswith(n + ".")]
    return max(matches, key=len, default=None)


def clause_lessons(clauses: Iterable[str]) -> dict[str, str | None]:
    """Return, for each clause, the number of the lesson in force covering it (one query)."""
    numbers = list(db.session.scalars(select(Lesson.number).where(Lesson.active.is_(True))))
    return {clause: lesson_for_clause(clause, numbers) for clause in clauses}
