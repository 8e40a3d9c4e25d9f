"""Helpers for report tests: employees with assignments, reads and attempts built directly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event

from training.assignments.models import Assignment
from training.auth.models import Role, User
from training.course.models import Lesson, QuizAttempt, ReadEvent
from training.course.progress import refresh_user
from training.db import utcnow
from training.extensions import db
from training.quizzes import services as quiz_services
from training.reports.status import company_today


def answers_for(attempt: QuizAttempt, correct: bool | list[bool] = True) -> dict[str, list[str]]:
    """Return stored-form answers (question id -> option keys), each right or wrong."""
    questions = quiz_services.attempt_questions(attempt)
    drawn = quiz_services.attempt_draw(attempt).questions
    # A list gives the first questions' outcomes; the rest are answered right.
    flags = (
        (correct + [True] * len(drawn))[: len(drawn)]
        if isinstance(correct, list)
        else [correct] * len(drawn)
    )
    answers = {}
    for item, right in zip(drawn, flags, strict=True):
        question = questions[item.question_id]
        expected = list(question.correct_keys())
        if right:
            answers[item.question_id] = expected
        elif question.kind == "order":
            answers[item.question_id] = expected[::-1]
        else:
            wrong = [o.key for o in question.options if not o.correct]
            answers[item.question_id] = wrong[:1]
    return answers


class Records:
    """Write an employee's learning history straight into the database."""

    def __init__(self, create_user: Callable[..., User]):
        self.create_user = create_user

    def employee(self, *, due: date | None = None, **fields) -> User:
        user = self.create_user(**fields)
        if due is not None:
            self.assign(user, due)
        return user

    def assign(self, user: User, due: date) -> Assignment:
        row = Assignment(user_id=user.id, due_date=due, assigned_at=utcnow(), reason="individual")
        db.session.add(row)
        db.session.commit()
        return row

    def read(
        self,
        user: User,
        lesson: Lesson,
        *,
        lesson_hash: str | None = None,
        at: datetime | None = None,
    ) -> ReadEvent:
        row = ReadEvent(
            user_id=user.id,
            lesson_id=lesson.id,
            lesson_hash=lesson_hash or lesson.content_hash,
            read_at=at or utcnow(),
        )
        db.session.add(row)
        refresh_user(user.id)  # as record_read does in the same transaction
        db.session.commit()
        return row

    def attempt(
        self, user: User, lesson: Lesson, *, correct: bool | list[bool] = True, submit: bool = True
    ) -> QuizAttempt:
        attempt = quiz_services.start_attempt(user.id, lesson)
        if submit:
            quiz_services.submit_attempt(attempt, answers_for(attempt, correct))
        db.session.commit()
        return attempt

    def complete(self, user: User, lessons: list[Lesson]) -> None:
        for lesson in lessons:
            self.read(user, lesson)
            self.attempt(user, lesson)


@pytest.fixture
def records(create_user) -> Records:
    return Records(create_user)


@pytest.fixture
def hr(login_as) -> User:
    """Log the client in as HR staff."""
    return login_as(Role.HR, employee_no="HR001", name="人事甲", department="人事行政部")


@pytest.fixture
def today(app) -> date:
    return company_today()


@pytest.fixture
def yesterday(today) -> date:
    return today - timedelta(days=1)


@pytest.fixture
def cached_statistics(app) -> Iterator[None]:
    """Turn the quiz statistics' cache on (a minute; a first run is waited for in full).

    Afterwards the refreshes still running are waited for and the cache emptied, so no
    thread outlives the test's database.
    """
    from training.reports import items

    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.config["INSIGHT_WAIT_SECONDS"] = 30
    yield
    items.statistics.wait()
    items.statistics.forget()


@pytest.fixture
def count_queries(app) -> Callable[[], object]:
    """Return a context manager collecting the SQL statements run inside it."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def listener(conn, cursor, statement, parameters, context, executemany):
            # Transaction control (SQLite's explicit BEGIN) is not a query.
            if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)

    return counting
