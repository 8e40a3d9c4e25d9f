"""What "completed" means, written once: a lesson in force, read and passed on its current content.

``on_current_content`` is the rule's SQL: an event (a read or an attempt) counts for a lesson
only if it was recorded against the lesson's present content hash. Every query about
completion — a learner's progress, HR's lists, the certificate, retraining after a revision,
the progress summary — builds on ``read_current`` and ``passed_current`` below.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from training.course.lessons import LessonItem, lesson_list
from training.course.models import Lesson, QuizAttempt, QuizSubmission, ReadEvent
from training.extensions import db


def on_current_content(event: Any) -> Any:
    """Join condition: the event (ReadEvent or QuizAttempt) is for its lesson's current content."""
    return and_(Lesson.id == event.lesson_id, Lesson.content_hash == event.lesson_hash)


def read_current(user_id: int | None = None, *, in_force: bool = True) -> Select:
    """Select (user_id, lesson_id) of lessons read on their own content.

    ``in_force=False`` keeps retired lessons too: a learner who completed the lesson a
    revision superseded must retrain, and that is how one tells.
    """
    stmt = select(ReadEvent.user_id, ReadEvent.lesson_id).join(
        Lesson, on_current_content(ReadEvent)
    )
    if in_force:
        stmt = stmt.where(Lesson.active.is_(True))
    return stmt if user_id is None else stmt.where(ReadEvent.user_id == user_id)


def passed_current(user_id: int | None = None, *, in_force: bool = True) -> Select:
    """Select (user_id, lesson_id) of lessons whose quiz was passed on their own content."""
    stmt = (
        select(QuizAttempt.user_id, QuizAttempt.lesson_id)
        .join(QuizSubmission, QuizSubmission.attempt_id == QuizAttempt.id)
        .join(Lesson, on_current_content(QuizAttempt))
        .where(QuizSubmission.passed.is_(True))
    )
    if in_force:
        stmt = stmt.where(Lesson.active.is_(True))
    return stmt if user_id is None else stmt.where(QuizAttempt.user_id == user_id)


def completed_current(user_id: int | None = None) -> CompoundSelect:
    """Select (user_id, lesson_id) of lessons in force both read and passed on their content."""
    return read_current(user_id).intersect(passed_current(user_id))


def retraining_on(user_id: Any, superseded_id: Any) -> ColumnElement[bool]:
    """SQL truth: the user completed the superseded lesson, on that lesson's content.

    That is who retrains on a lesson after a revision (status "retrain" until they complete
    it again); a new hire, who never completed the old lesson, is not. ``user_id`` is a
    value or a bind parameter; ``superseded_id`` a value or the outer query's
    ``Lesson.supersedes_id``.
    """
    old = aliased(Lesson)
    read = exists().where(
        ReadEvent.user_id == user_id,
        ReadEvent.lesson_id == old.id,
        ReadEvent.lesson_hash == old.content_hash,
    )
    passed = exists().where(
        QuizAttempt.user_id == user_id,
        QuizAttempt.lesson_id == old.id,
        QuizAttempt.lesson_hash == old.content_hash,
        QuizSubmission.attempt_id == QuizAttempt.id,
        QuizSubmission.passed.is_(True),
    )
    return exists().where(old.id == superseded_id, read, passed)


def completed_pairs() -> set[tuple[int, int]]:
    """Return (user id, lesson id) for every lesson in force completed on its content."""
    return {(row[0], row[1]) for row in db.session.execute(completed_current())}


def complete_user_ids() -> set[int]:
    """Return everyone who has completed every lesson in force (two queries)."""
    total = db.session.scalar(
        select(func.count()).select_from(Lesson).where(Lesson.active.is_(True))
    )
    if not total:
        return set()
    done = completed_current().subquery()
    stmt = select(done.c.user_id).group_by(done.c.user_id).having(func.count() == total)
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


class LessonLike(Protocol):
    """What progress needs of a lesson: a ``Lesson`` row or a cached ``LessonItem``."""

    @property
    def id(self) -> int: ...

    @property
    def supersedes_id(self) -> int | None: ...


L = TypeVar("L", bound=LessonLike)


@dataclass(frozen=True)
class Progress(Generic[L]):
    """A learner's standing in the course: the lessons in force, read and passed."""

    lessons: list[L]
    read_ids: set[int]
    passed_ids: set[int]

    @property
    def completed_ids(self) -> set[int]:
        return self.read_ids & self.passed_ids

    @property
    def completed_count(self) -> int:
        """Return how many of the lessons in force are completed."""
        return sum(1 for lesson in self.lessons if lesson.id in self.completed_ids)

    @property
    def retrain(self) -> list[L]:
        """Return the lessons in force the learner must study again after a revision."""
        return [lesson for lesson in self.lessons if self.status(lesson) == "retrain"]

    @property
    def completed(self) -> bool:
        return bool(self.lessons) and all(
            lesson.id in self.completed_ids for lesson in self.lessons
        )

    def status(self, lesson: LessonLike, *, completed_previous: bool | None = None) -> str:
        """Return one of not_started, read, quiz_passed, completed, retrain.

        ``completed_previous`` says whether the learner completed the lesson this one
        supersedes; by default that is looked up in ``completed_ids``.
        """
        read, passed = lesson.id in self.read_ids, lesson.id in self.passed_ids
        if read and passed:
            return "completed"
        if completed_previous is None:
            completed_previous = (
                lesson.supersedes_id is not None and lesson.supersedes_id in self.completed_ids
            )
        if completed_previous:
            return "retrain"  # completed the previous version of this lesson
        if passed:
            return "quiz_passed"
        return "read" if read else "not_started"

    def next_lesson(self) -> L | None:
        return next(
            (lesson for lesson in self.lessons if lesson.id not in self.completed_ids), None
        )


@functools.cache
def _learner_events() -> CompoundSelect:
    """(0, lesson id) per lesson read and (1, lesson id) per lesson passed, each on its own
    content, in force or retired, for one learner: the two halves of ``Progress`` in one
    statement, built once."""
    user_id = bindparam("user_id", type_=Integer())
    reads = read_current(in_force=False).where(ReadEvent.user_id == user_id)
    passes = passed_current(in_force=False).where(QuizAttempt.user_id == user_id)
    return union_all(
        select(literal(0).label("passed"), reads.subquery().c.lesson_id),
        select(literal(1).label("passed"), passes.subquery().c.lesson_id),
    )


def progress_for(user_id: int) -> Progress[LessonItem]:
    """Return the learner's progress: one query, and the cached lesson list (``lesson_list``)."""
    read_ids: set[int] = set()
    passed_ids: set[int] = set()
    for passed, lesson_id in db.session.execute(_learner_events(), {"user_id": user_id}):
        (passed_ids if passed else read_ids).add(lesson_id)
    return Progress(lesson_list(), read_ids, passed_ids)
