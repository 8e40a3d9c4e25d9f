"""HR's practice statistics are counted in the database: the same figures as counting every
review in Python, a fixed number of statements however many reviews there are, and a cache."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, insert, select

from training.auth.models import Role
from training.db import utcnow
from training.extensions import db
from training.practice import services, store
from training.practice.models import PracticeReview
from training.practice.views import STATS_WEEKS
from training.quizzes.models import QuizQuestion
from training.quizzes.services import question_from_dict


def streamed_clause_accuracy() -> list[services.ClauseScore]:
    """What the page computed before: every review ever written, counted in Python."""
    rows = db.session.execute(select(PracticeReview.cites, PracticeReview.correct))
    return services.clause_scores((tuple(cites), correct) for cites, correct in rows)


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


@pytest.fixture
def write_reviews(app, lessons, create_user) -> Callable[..., int]:
    """Return a function adding ``n`` reviews as employees practise: real questions with their
    cites, right seven times in ten, over the last 20 weeks; return the total written."""
    rng = random.Random(13)  # noqa: S311 - reproducible test data
    rows = list(db.session.scalars(select(QuizQuestion).where(QuizQuestion.drawable())))
    questions = [(row, question_from_dict(row.data)) for row in rows]
    users = [create_user().id for _ in range(25)]
    written = 0

    def write(n: int, *, cites: Callable[[list[str]], list[str]] = list) -> int:
        nonlocal written
        now = utcnow()
        batch = []
        for _ in range(n):
            row, question = rng.choice(questions)
            correct = rng.random() < 0.7
            batch.append(
                {
                    "user_id": rng.choice(users),
                    "question_id": row.id,
                    "lesson_id": row.lesson_id,
                    "correct": correct,
                    "rating": int(services.rating_for(correct)),
                    "answer": list(question.correct_keys()),
                    "cites": cites(list(question.cites)),
                    "reviewed_at": now - timedelta(minutes=rng.randrange(20 * 7 * 24 * 60)),
                    "duration_ms": rng.randint(3_000, 90_000),
                }
            )
        db.session.execute(insert(PracticeReview), batch)
        db.session.commit()
        written += n
        return written

    return write


def test_clause_figures_are_those_counted_review_by_review(app, write_reviews) -> None:
    write_reviews(3_000)
    # A clause cited twice by one question counts once per review; a review citing nothing,
    # or citing clauses no question cites, is counted as before too.
    write_reviews(40, cites=lambda c: c + c[:1])
    write_reviews(10, cites=lambda c: [])
    write_reviews(10, cites=lambda c: ["9.9.10", "9.9.9", *c])
    expected = streamed_clause_accuracy()
    assert len(expected) > 20
    assert store.clause_accuracy() == expected
    assert any(s.clause == "9.9.10" for s in expected)


def test_ties_are_ordered_as_before(app, lessons, create_user) -> None:
    """Same miss rate: more misses first; then clause order, 3.2.10 after 3.2.9."""
    user = create_user()
    row = db.session.scalars(select(QuizQuestion).where(QuizQuestion.drawable())).first()
    assert row is not None
    base = {"user_id": user.id, "question_id": row.id, "lesson_id": row.lesson_id}
    base |= {"rating": 1, "answer": [], "reviewed_at": utcnow(), "duration_ms": None}
    reviews = [
        (["3.2.10"], False),
        (["3.2.9"], False),
        (["1.1", "1.1"], False),
        (["1.1"], True),
        (["2.1"], False),
        (["2.1"], True),
        (["2.1"], False),
        (["2.1"], True),
        (["10.1"], True),
    ]
    db.session.execute(
        insert(PracticeReview), [base | {"cites": c, "correct": ok} for c, ok in reviews]
    )
    db.session.commit()
    scores = store.clause_accuracy()
    assert scores == streamed_clause_accuracy()
    assert [(s.clause, s.reviews, s.misses) for s in scores] == [
        ("3.2.9", 1, 1),
        ("3.2.10", 1, 1),
        ("2.1", 4, 2),
        ("1.1", 2, 1),
        ("10.1", 1, 0),
    ]


def test_no_reviews_no_clauses(app) -> None:
    assert store.clause_accuracy() == []
    stats = store.practice_stats(utcnow(), ZoneInfo("Asia/Shanghai"), STATS_WEEKS)
    assert len(stats.weeks) == STATS_WEEKS
    assert stats.clauses == []


def test_the_page_runs_the_same_statements_for_any_number_of_reviews(
    client, login_as, write_reviews
) -> None:
    login_as(Role.HR)
    counts = []
    pages = []
    for more in (50, 1_950):  # 50 reviews, then 2,000
        write_reviews(more)
        client.get("/practice/stats")  # any first-request work out of the way
        with counting_statements() as statements:
            response = client.get("/practice/stats")
        assert response.status_code == 200
        counts.append(len(statements))
        pages.append(response.get_data(as_text=True))
    assert counts[0] == counts[1]
    # The statements that read the reviews: one per figure, whatever their number.
    with counting_statements() as statements:
        store.practice_stats(utcnow(), ZoneInfo("Asia/Shanghai"), STATS_WEEKS)
    assert len(statements) == 2
    assert all("practice_reviews" in s for s in statements)
    # The page shows the figures of every review.
    shown = re.findall(r"<td>(\d+)</td>\s*</tr>", pages[1].split('id="clause-accuracy"')[1])
    assert shown == [str(s.reviews) for s in streamed_clause_accuracy()]


def test_the_statistics_are_cached_like_the_dashboard_insight(app, write_reviews) -> None:
    zone = ZoneInfo("Asia/Shanghai")
    write_reviews(100)
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    first = store.cached_practice_stats(utcnow(), zone, STATS_WEEKS)
    write_reviews(100)
    with counting_statements() as statements:
        again = store.cached_practice_stats(utcnow(), zone, STATS_WEEKS)
    assert again is first
    assert statements == []
    app.config["INSIGHT_CACHE_SECONDS"] = 0
    fresh = store.cached_practice_stats(utcnow(), zone, STATS_WEEKS)
    assert sum(s.reviews for s in fresh.clauses) > sum(s.reviews for s in first.clauses)
    assert fresh.clauses == streamed_clause_accuracy()
