"""What the HR employee page shows: one query per section, whatever the history's length."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, desc, false, select, true
from sqlalchemy.orm import aliased

from training.assignments.models import Assignment
from training.audit.models import AuditEvent
from training.auth.models import PasswordLink, User
from training.course.completion import Progress, on_current_content
from training.course.models import Certificate, Lesson, QuizAttempt, QuizSubmission, ReadEvent
from training.extensions import db
from training.reports.columns import score_percent
from training.reports.status import Filters, status_select

AUDIT_LIMIT = 200


def status_row(user_id: int) -> Any:
    """Return the employee's status row (deactivated employees included)."""
    stmt = status_select(Filters(include_inactive=True), user_id=user_id)
    return db.session.execute(stmt).one_or_none()


def assignments(user_id: int) -> list[Any]:
    """Return every assignment of the employee, newest first, with who made it."""
    actor = aliased(User)
    stmt = (
        select(Assignment, actor.name.label("by_name"))
        .outerjoin(actor, actor.id == Assignment.assigned_by_id)
        .where(Assignment.user_id == user_id)
        .order_by(Assignment.id.desc())
    )
    return list(db.session.execute(stmt))


def _current(event: Any) -> Any:
    """The course's rule as a column: was the event recorded on its lesson's current content."""
    return case((on_current_content(event), true()), else_=false()).label("current")


def read_events(user_id: int) -> list[Any]:
    """Return every read event of the employee with its lesson's number and current hash."""
    stmt = (
        select(
            ReadEvent.lesson_id,
            ReadEvent.lesson_hash,
            ReadEvent.read_at,
            Lesson.number,
            Lesson.title,
            Lesson.content_hash,
            _current(ReadEvent),
        )
        .join(Lesson, Lesson.id == ReadEvent.lesson_id)
        .where(ReadEvent.user_id == user_id)
        .order_by(ReadEvent.read_at)
    )
    return list(db.session.execute(stmt))


def attempts(user_id: int) -> list[Any]:
    """Return every attempt of the employee with its result (the draw itself is not loaded)."""
    stmt = (
        select(
            QuizAttempt.id,
            QuizAttempt.lesson_id,
            QuizAttempt.lesson_hash,
            QuizAttempt.started_at,
            QuizAttempt.pass_mark,
            Lesson.number,
            Lesson.title,
            Lesson.content_hash,
            QuizSubmission.submitted_at,
            QuizSubmission.correct_count,
            QuizSubmission.total,
            QuizSubmission.passed,
            _current(QuizAttempt),
        )
        .join(Lesson, Lesson.id == QuizAttempt.lesson_id)
        .outerjoin(QuizSubmission, QuizSubmission.attempt_id == QuizAttempt.id)
        .where(QuizAttempt.user_id == user_id)
        .order_by(QuizAttempt.id.desc())
    )
    return list(db.session.execute(stmt))


def certificates(user_id: int) -> list[Certificate]:
    """Return the employee's certificates, newest first."""
    stmt = select(Certificate).where(Certificate.user_id == user_id).order_by(desc(Certificate.id))
    return list(db.session.scalars(stmt))


def password_links(user_id: int) -> list[Any]:
    """Return the set-password links issued to the employee (never the token), newest first."""
    creator = aliased(User)
    stmt = (
        select(
            PasswordLink.id,
            PasswordLink.purpose,
            PasswordLink.created_at,
            PasswordLink.expires_at,
            PasswordLink.used_at,
            PasswordLink.revoked_at,
            creator.name.label("by_name"),
        )
        .outerjoin(creator, creator.id == PasswordLink.created_by_id)
        .where(PasswordLink.user_id == user_id)
        .order_by(PasswordLink.id.desc())
    )
    return list(db.session.execute(stmt))


def audit_events(user_id: int, limit: int = AUDIT_LIMIT) -> list[Any]:
    """Return the latest audit events about the employee with the actor's name."""
    actor = aliased(User)
    stmt = (
        select(AuditEvent, actor.name.label("actor_name"), actor.employee_no.label("actor_no"))
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(AuditEvent.target_user_id == user_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(stmt))


@dataclass
class LessonLine:
    """One active lesson on the employee page: reads of each version and quiz results."""

    lesson: Lesson
    state: str = "not_started"  # as the learner sees it: course.completion.Progress.status
    reads: list[Any] = field(default_factory=list)
    attempts: int = 0
    best: int | None = None


def lesson_lines(lessons: list[Lesson], reads: list[Any], tries: list[Any]) -> list[LessonLine]:
    """Combine active lessons with the employee's reads and attempts (pure, no queries)."""
    progress = Progress(
        lessons,
        read_ids={read.lesson_id for read in reads if read.current},
        passed_ids={a.lesson_id for a in tries if a.passed and a.current},
    )
    reads_by: dict[int, list[Any]] = defaultdict(list)
    for read in reads:
        reads_by[read.lesson_id].append(read)
    lines = {
        lesson.id: LessonLine(lesson, progress.status(lesson), reads_by.get(lesson.id, []))
        for lesson in lessons
    }
    for attempt in tries:
        line = lines.get(attempt.lesson_id)
        if line is None or attempt.submitted_at is None:
            continue
        line.attempts += 1
        score = score_percent(attempt.correct_count, attempt.total)
        if score is not None:
            line.best = score if line.best is None else max(line.best, score)
    return list(lines.values())
