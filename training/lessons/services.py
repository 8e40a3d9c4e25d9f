"""Loading lessons from content/ and reading a learner's progress."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, select

from training.db import insert_ignoring_duplicates, utcnow
from training.extensions import db
from training.lessons.markdown import load_lesson_file, render_lesson_html
from training.lessons.models import Lesson, ReadEvent

REQUIRED_KEYS = ("number", "title", "chapter", "order", "hash", "source_sha256")


class LessonFileError(ValueError):
    """A lesson file cannot be loaded; the message names the file and what is missing."""


@dataclass
class SyncReport:
    """What `sync_lessons` did."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def _lesson_values(path: Path) -> dict:
    meta, body = load_lesson_file(path)
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        raise LessonFileError(f"{path}: front matter lacks {', '.join(missing)}")
    chapter = meta["chapter"]
    if not isinstance(chapter, dict) or "number" not in chapter or "title" not in chapter:
        raise LessonFileError(f"{path}: front matter 'chapter' needs number and title")
    return {
        "number": str(meta["number"]),
        "slug": path.stem,
        "title": str(meta["title"]),
        "chapter_number": str(chapter["number"]),
        "chapter_title": str(chapter["title"]),
        "position": int(meta["order"]),
        "content_hash": str(meta["hash"]),
        "source_sha256": str(meta["source_sha256"]),
        "body_markdown": body,
        "body_html": render_lesson_html(body),
    }


def sync_lessons(content_dir: Path) -> SyncReport:
    """Load content/lessons/*.md into the session (the caller commits); idempotent.

    Every file is read and checked before anything is changed, so a broken
    file leaves the database as it was. Lessons whose file is gone are
    retired, never deleted: read events and attempts refer to them.
    """
    files = sorted((content_dir / "lessons").glob("*.md"))
    if not files:
        raise LessonFileError(
            f"{content_dir / 'lessons'}: no lesson files; run `flask content build`"
        )
    incoming = [_lesson_values(path) for path in files]
    numbers = [values["number"] for values in incoming]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise LessonFileError(f"{content_dir / 'lessons'}: duplicate lesson numbers {duplicates}")

    existing = {lesson.number: lesson for lesson in db.session.scalars(select(Lesson))}
    report = SyncReport()
    for values in incoming:
        lesson = existing.pop(values["number"], None)
        if lesson is None:
            db.session.add(Lesson(**values, active=True, updated_at=utcnow()))
            report.created.append(values["number"])
            continue
        changed = not lesson.active or any(
            getattr(lesson, key) != value for key, value in values.items()
        )
        if changed:
            for key, value in values.items():
                setattr(lesson, key, value)
            lesson.active = True
            lesson.updated_at = utcnow()
            report.updated.append(values["number"])
        else:
            report.unchanged.append(values["number"])
    for lesson in existing.values():
        if lesson.active:
            lesson.active = False
            lesson.updated_at = utcnow()
            report.retired.append(lesson.number)
    db.session.flush()
    return report


def active_lessons() -> list[Lesson]:
    """Return the course's lessons in order."""
    return list(
        db.session.scalars(
            select(Lesson).where(Lesson.active.is_(True)).order_by(Lesson.position, Lesson.number)
        )
    )


def read_lesson_ids(user_id: int, lessons: Iterable[Lesson] | None = None) -> set[int]:
    """Return the ids of lessons the user has read in their current version (one query)."""
    stmt = (
        select(ReadEvent.lesson_id)
        .join(
            Lesson,
            and_(Lesson.id == ReadEvent.lesson_id, Lesson.content_hash == ReadEvent.lesson_hash),
        )
        .where(ReadEvent.user_id == user_id)
    )
    if lessons is not None:
        stmt = stmt.where(ReadEvent.lesson_id.in_([lesson.id for lesson in lessons]))
    return set(db.session.scalars(stmt))


def read_event(user_id: int, lesson: Lesson) -> ReadEvent | None:
    """Return the user's read event for the lesson's current content, if any."""
    return db.session.scalar(
        select(ReadEvent).where(
            ReadEvent.user_id == user_id,
            ReadEvent.lesson_id == lesson.id,
            ReadEvent.lesson_hash == lesson.content_hash,
        )
    )


def record_read(user_id: int, lesson: Lesson) -> bool:
    """Record that the user read the lesson's current content; True if this was the first time."""
    inserted = insert_ignoring_duplicates(
        ReadEvent,
        user_id=user_id,
        lesson_id=lesson.id,
        lesson_hash=lesson.content_hash,
        read_at=utcnow(),
    )
    db.session.commit()
    return inserted


def group_by_chapter(lessons: list[Lesson]) -> list[tuple[str, str, list[Lesson]]]:
    """Group ordered lessons into (chapter number, chapter title, lessons)."""
    chapters: list[tuple[str, str, list[Lesson]]] = []
    for lesson in lessons:
        if not chapters or chapters[-1][0] != lesson.chapter_number:
            chapters.append((lesson.chapter_number, lesson.chapter_title, []))
        chapters[-1][2].append(lesson)
    return chapters


def lesson_for_clause(clause: str, lesson_numbers: Iterable[str]) -> str | None:
    """Return the number of the lesson covering a clause (the longest matching prefix)."""
    matches = [n for n in lesson_numbers if clause == n or clause.startswith(n + ".")]
    return max(matches, key=len, default=None)
