"""The course certificate: issued exactly when every lesson in force is read and passed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from training.course.models import Certificate
from training.extensions import db
from training.lessons.services import record_read
from training.quizzes.services import shown_questions, start_attempt, submit_attempt


def _pass(user, lesson, *, right: bool = True):
    attempt = start_attempt(user.id, lesson)
    answers = {}
    for item in shown_questions(attempt):
        keys = list(item.question.correct_keys())
        if not right:
            keys = (
                keys[::-1]
                if item.question.kind == "order"
                else [o.key for o in item.question.options if not o.correct][:1]
            )
        answers[item.question.id] = keys
    submit_attempt(attempt, answers)
    db.session.commit()


def _read(user, lesson):
    record_read(user.id, lesson)
    db.session.commit()


def _certificates(user) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Certificate).where(Certificate.user_id == user.id)
    )


def test_every_lesson_but_one_gives_no_certificate_and_the_last_gives_one(
    app, lessons, create_user
):
    user = create_user()
    *most, last = lessons
    for lesson in most:
        _read(user, lesson)
        _pass(user, lesson)
    assert _certificates(user) == 0
    _read(user, last)
    assert _certificates(user) == 0  # read, not yet passed
    _pass(user, last)
    assert _certificates(user) == 1


@pytest.mark.parametrize("missing", ["read", "pass"])
def test_reading_without_passing_or_passing_without_reading_gives_none(
    app, lessons, create_user, missing
):
    user = create_user()
    for lesson in lessons:
        if missing != "read":
            _read(user, lesson)
        if missing != "pass":
            _pass(user, lesson)
    assert _certificates(user) == 0


def test_a_failed_attempt_does_not_count_as_passing(app, lessons, create_user):
    user = create_user()
    for lesson in lessons:
        _read(user, lesson)
        _pass(user, lesson, right=lesson is not lessons[3])
    assert _certificates(user) == 0
    _pass(user, lessons[3])
    assert _certificates(user) == 1
