"""Lesson files from content/, and recording that a learner read a lesson."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import frontmatter
from sqlalchemy import Integer, Row, Select, and_, bindparam, case, exists, select

from training.course.completion import retraining_on
from training.course.lessons import LessonItem, in_force, stamp_columns
from training.course.models import Lesson, QuizAttempt, QuizSubmission, ReadEvent
from training.course.services import learning_recorded
from training.db import insert_ignoring_duplicates, utcnow
from training.extensions import db
from training.lessons.markdown import render_lesson_html

REQUIRED_KEYS = ("number", "title", "chapter", "order", "hash", "source_sha256")


class LessonFileError(ValueError):
    """A lesson file cannot be loaded; the message names the file and what is missing."""


def lesson_values(name: str, text: str) -> dict:
    """Return the column values of a generated lesson file (name and text); raise LessonFileError."""
    post = frontmatter.loads(text)
    # Values are whatever the YAML held; str() and int() below make them column values.
    meta: dict[str, Any] = post.metadata
    body = post.content
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
        learning_recorded(user_id, may_complete=True)
    return inserted


@functools.cache
def _page_statement() -> Select:
    """The lesson in force with a number (by the partial index), with the learner's read of
    its current content, whether they passed its quiz on it, and the lesson list's stamp (so
    the page needs no other query); built once.

    A learner retraining on the lesson (they completed the one it supersedes) gets its text
    with the revision's changes marked (``revision_marked``); everyone else the plain text.
    """
    user_id = bindparam("user_id", type_=Integer())
    read_at = (
        select(ReadEvent.read_at)
        .where(
            ReadEvent.user_id == user_id,
            ReadEvent.lesson_id == Lesson.id,
            ReadEvent.lesson_hash == Lesson.content_hash,
        )
        .scalar_subquery()
    )
    passed = exists().where(
        QuizAttempt.user_id == user_id,
        QuizAttempt.lesson_id == Lesson.id,
        QuizAttempt.lesson_hash == Lesson.content_hash,
        QuizSubmission.attempt_id == QuizAttempt.id,
        QuizSubmission.passed.is_(True),
    )
    marked = and_(
        Lesson.revision_body_html.is_not(None), retraining_on(user_id, Lesson.supersedes_id)
    )
    return select(
        Lesson.id,
        Lesson.number,
        Lesson.title,
        Lesson.chapter_number,
        Lesson.chapter_title,
        Lesson.content_hash,
        case((marked, Lesson.revision_body_html), else_=Lesson.body_html).label("body_html"),
        case((marked, Lesson.revised_clauses), else_=None).label("revised_clauses"),
        Lesson.version_id,
        read_at.label("read_at"),
        passed.label("passed"),
        *stamp_columns(),
    ).where(Lesson.number == bindparam("number"), in_force())


def lesson_page(user_id: int, number: str) -> Row[Any] | None:
    """Return what the lesson page shows of a lesson in force and the learner, in one query:
    its columns, ``read_at`` (None if not read on this content), ``passed`` and
    ``revised_clauses`` (the clauses changed and removed, for a learner retraining on it)."""
    return db.session.execute(_page_statement(), {"user_id": user_id, "number": number}).first()


def group_by_chapter(lessons: list[LessonItem]) -> list[tuple[str, str, list[LessonItem]]]:
    """Group ordered lessons into (chapter number, chapter title, lessons)."""
    chapters: list[tuple[str, str, list[LessonItem]]] = []
    for lesson in lessons:
        if not chapters or chapters[-1][0] != lesson.chapter_number:
            chapters.append((lesson.chapter_number, lesson.chapter_title, []))
        chapters[-1][2].append(lesson)
    return chapters
