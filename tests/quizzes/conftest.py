"""Helpers for taking quizzes through the web app in tests."""

from __future__ import annotations

import pytest

from training.course.models import QuizAttempt
from training.extensions import db
from training.quizzes.services import shown_questions


def form_for(attempt: QuizAttempt, *, correct: bool | list[bool] = True) -> dict[str, list[str]]:
    """Return form data answering each question right or wrong, as a learner would post it."""
    return form_for_items(shown_questions(attempt), correct=correct)


def form_for_items(items, *, correct: bool | list[bool] = True) -> dict[str, list[str]]:
    """Return form data for shown questions (a lesson quiz's or the refresher's)."""
    data: dict[str, list[str]] = {}
    flags = correct if isinstance(correct, list) else [correct] * len(items)
    for item, right in zip(items, flags, strict=True):
        if item.question.kind == "order":
            expected = list(item.question.correct_keys())
            ranks = [expected.index(option.key) + 1 for option in item.options]
            if not right:
                ranks = [len(ranks) + 1 - r for r in ranks]
            for position, rank in enumerate(ranks):
                data[f"q{item.index}-{position}"] = [str(rank)]
            continue
        positions = [str(i) for i, o in enumerate(item.options) if o.correct == right]
        if item.question.kind != "multiple" or not right:
            positions = positions[:1]
        data[f"q{item.index}"] = positions
    return data


@pytest.fixture
def start_quiz(client):
    """Start a quiz for a lesson as the logged-in client; return the attempt."""

    def start(number: str) -> QuizAttempt:
        response = client.post(f"/lessons/{number}/quiz")
        assert response.status_code == 302, response.get_data(as_text=True)
        attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
        db.session.rollback()
        return db.session.get(QuizAttempt, attempt_id)

    return start


@pytest.fixture(name="form_for")
def form_for_fixture():
    return form_for
