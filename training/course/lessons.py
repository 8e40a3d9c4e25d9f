"""The lessons in force: installing a version's lessons, listing them, finding a clause's lesson."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from training.course.models import Lesson
from training.course.signals import lessons_changed
from training.db import utcnow
from training.extensions import db


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
    """
    revision_html = revision_html or {}
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
                old.updated_at = utcnow()
                report.editorial.append(values["number"])
                continue
            lesson = Lesson(
                **values,
                active=True,
                version_id=version_id,
                supersedes_id=old.id if old is not None else None,
                revision_html=revision_html.get(values["number"]),
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
    """Return the lesson in force with this number, if any."""
    return db.session.scalar(select(Lesson).where(Lesson.number == number, Lesson.active.is_(True)))


def lesson_for_clause(clause: str, lesson_numbers: Iterable[str]) -> str | None:
    """Return the number of the lesson covering a clause (the longest matching prefix)."""
    matches = [n for n in lesson_numbers if clause == n or clause.startswith(n + ".")]
    return max(matches, key=len, default=None)


def clause_lessons(clauses: Iterable[str]) -> dict[str, str | None]:
    """Return, for each clause, the number of the lesson in force covering it (one query)."""
    numbers = list(db.session.scalars(select(Lesson.number).where(Lesson.active.is_(True))))
    return {clause: lesson_for_clause(clause, numbers) for clause in clauses}
