"""The progress summary always equals a recomputation from the learning events."""

from __future__ import annotations

from sqlalchemy import select

from training.course.models import ProgressSummary
from training.course.progress import rebuild_all
from training.extensions import db
from training.lessons.services import record_read
from training.quizzes.services import shown_questions, start_attempt, submit_attempt


def _snapshot():
    db.session.expire_all()
    return {
        row.user_id: (
            row.read_count,
            row.passed_count,
            row.completed_count,
            row.started,
            row.last_activity,
        )
        for row in db.session.scalars(select(ProgressSummary))
    }


def _right_answers(attempt):
    return {
        item.question.id: list(item.question.correct_keys()) for item in shown_questions(attempt)
    }


def test_summary_kept_by_events_equals_a_rebuild(app, lessons, create_user):
    first, second, idle = create_user(), create_user(), create_user()
    record_read(first.id, lessons[0])
    passed = start_attempt(first.id, lessons[0])
    submit_attempt(passed, _right_answers(passed))
    record_read(second.id, lessons[1])
    start_attempt(second.id, lessons[2])  # started, never submitted
    db.session.commit()
    kept = _snapshot()
    assert kept[first.id][:4] == (1, 1, 1, 1)
    assert kept[second.id][:4] == (1, 0, 0, 1)
    assert kept[idle.id] == (0, 0, 0, 0, None)  # everyone has a row (HR's standing is on it)
    rebuild_all()
    db.session.commit()
    assert _snapshot() == kept
