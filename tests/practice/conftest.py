"""Helpers for practising through the web app in tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from training.course.models import Lesson
from training.extensions import db
from training.lessons.services import record_read
from training.practice.rounds import Round
from training.practice.views import SESSION_KEY
from training.quizzes.models import QuizQuestion
from training.quizzes.services import ShownQuestion, question_from_dict


def current_round(client: FlaskClient) -> Round:
    """Return the practice round kept in the client's session."""
    with client.session_transaction() as session:
        practice_round = Round.from_dict(session.get(SESSION_KEY))
    assert practice_round is not None, "no practice round in the session"
    return practice_round


def shown_for(client: FlaskClient, question_id: int) -> ShownQuestion:
    """Return the question as the round displays it."""
    row = db.session.get(QuizQuestion, question_id)
    return current_round(client).shown(question_id, question_from_dict(row.data))


def answer_form(client: FlaskClient, question_id: int, *, correct: bool = True, **extra) -> dict:
    """Return the form a learner posts to answer the question right or wrong."""
    practice_round = current_round(client)
    item = shown_for(client, question_id)
    data: dict[str, list[str] | str] = {"round": practice_round.token}
    if item.question.kind == "order":
        expected = list(item.question.correct_keys())
        ranks = [expected.index(option.key) + 1 for option in item.options]
        if not correct:
            ranks = [len(ranks) + 1 - r for r in ranks]
        for position, rank in enumerate(ranks):
            data[f"q0-{position}"] = [str(rank)]
    else:
        positions = [str(i) for i, o in enumerate(item.options) if o.correct == correct]
        if item.question.kind != "multiple" or not correct:
            positions = positions[:1]
        data["q0"] = positions
    return data | extra


@pytest.fixture
def read_lessons(lessons) -> Callable[..., list[Lesson]]:
    """Return a function recording that a user read the lessons with the given numbers."""
    by_number = {lesson.number: lesson for lesson in lessons}

    def read(user, *numbers: str) -> list[Lesson]:
        picked = [by_number[n] for n in numbers]
        for lesson in picked:
            record_read(user.id, lesson)
        db.session.commit()
        return picked

    return read


@pytest.fixture
def start_round(client: FlaskClient) -> Callable[..., Round]:
    """Start a practice round as the logged-in client; return it."""

    def start(path: str = "/practice/today") -> Round:
        response = client.post(path)
        assert response.status_code == 302, response.get_data(as_text=True)
        assert "/practice/q/" in response.headers["Location"], response.headers["Location"]
        return current_round(client)

    return start


@pytest.fixture
def answer(client: FlaskClient):
    """Answer one question of the round right or wrong; return the response."""

    def post(question_id: int, *, correct: bool = True, **extra):
        return client.post(
            f"/practice/q/{question_id}",
            data=answer_form(client, question_id, correct=correct, **extra),
        )

    return post
