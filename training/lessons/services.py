"""Loading lessons from content/ and reading a learner's progress."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
from sqlalchemy import and_, select

from training.db import insert_ignoring_duplicates, utcnow
from training.extensions import db
from training.lessons.markdown import render_lesson_html
from training.lessons.models import Lesson, ReadEvent
from training.progress.services import refresh_user

REQUIRED_KEYS = ("number", "title", "chapter", "order", "hash", "source_sha256")


class LessonFileError(ValueError):
    """A lesson file cannot be loaded; the message names the file and what is missing."""


@dataclass
class SyncReport:
    """What installing a set of lessons did, by lesson number."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    # new lesson number -> id of the lesson row it supersedes
    superseded: dict[str, int] = field(default_factory=dict)


def lesson_values(name: str, text: str) -> dict:
    """Return the column values of a generated lesson file (name and text); raise LessonFileError."""
    post = frontmatter.loads(text)
    meta, body = post.metadata, post.content
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        raise LessonFileError(f"{name}: front matter lacks {', '.join(missing)}")
    chapter = meta["chapter"]
    if not isinstance(chapter, dict) or "number" not in chapter or "title" not in chapter:
        raise LessonFileError(f"{name}: front matter 'chapter' needs number and title")
    return {
        "number": str(meta["number"]),
        "slug": Path(name).stem,
        "title": str(meta["title"]),
        "chapter_number": str(chapter["number"]),
        "chapter_title": str(chapter["title"]),
        "position": int(meta["order"]),
        "content_hash": str(meta["hash"]),
        "source_sha256": str(meta["source_sha256"]),
        "body_markdown": body,
        "body_html": render_lesson_html(body),
    }


def read_lesson_files(content_dir: Path) -> list[dict]:
    """Read and check every content/lessons/*.md; raise LessonFileError naming the bad file."""
    folder = content_dir / "lessons"
    files = sorted(folder.glob("*.md"))
    if not files:
        raise LessonFileError(f"{folder}: no lesson files; run `flask content build`")
    incoming = []
    for path in files:
        try:
            incoming.append(lesson_values(str(path), path.read_text("utf-8")))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            if isinstance(error, LessonFileError):
                raise
            raise LessonFileError(f"{path}: {error}") from error
    numbers = [values["number"] for values in incoming]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise LessonFileError(f"{folder}: duplicate lesson numbers {duplicates}")
    return incoming


def install_lessons(
    incoming: list[dict],
    *,
    version_id: int | None,
    supersedes: Mapping[str, str] | None = None,
    revision_html: Mapping[str, str] | None = None,
) -> SyncReport:
    """Make ``incoming`` the lessons in force (the caller commits); idempotent.

    A lesson row is matched by content hash, so a lesson whose content did
    not change keeps its row (and every read and quiz recorded against it)
    even when its number changes. A new content gets a new row; when
    ``supersedes`` maps its number to the number of the lesson it replaces,
    the link is kept so that employees who completed the old one are asked
    to retrain. Rows no longer in force are retired, never deleted.
    """
    revision_html = revision_html or {}
    active = list(db.session.scalars(select(Lesson).where(Lesson.active.is_(True))))
    by_hash = {lesson.content_hash: lesson for lesson in active}
    by_number = {lesson.number: lesson for lesson in active}
    # Take every lesson out of force first, so numbers can move between rows
    # without two lessons in force ever sharing a number.
    for lesson in active:
        lesson.active = False
    db.session.flush()

    report = SyncReport()
    kept: set[int] = set()
    for values in incoming:
        lesson = by_hash.pop(values["content_hash"], None)
        if lesson is None:
            # Without a revision's own matching, a lesson replaces the one of its number.
            previous = values["number"] if supersedes is None else supersedes.get(values["number"])
            old = by_number.get(previous or "")
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
    return report


def sync_lessons(content_dir: Path, *, version_id: int | None = None) -> SyncReport:
    """Load content/lessons/*.md into the session (the caller commits); idempotent.

    Every file is read and checked before anything is changed, so a broken
    file leaves the database as it was. Lessons whose file is gone are
    retired, never deleted: read events and attempts refer to them.
    """
    return install_lessons(read_lesson_files(content_dir), version_id=version_id)


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
    if inserted:
        refresh_user(user_id)
        # Imported here: quizzes build on lessons. A completing read issues the
        # certificate in the same transaction.
        from training.quizzes.services import issue_certificate_if_complete

        issue_certificate_if_complete(user_id)
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
