"""The benchmark's populated database works with the app: a quiz starts and is submitted,
on SQLite and on PostgreSQL, whose id sequences populate.py bypasses."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from tests.conftest import FAST_ARGON2
from tests.quizzes.conftest import form_for
from training.app import create_app
from training.course.models import QuizAttempt, QuizSubmission
from training.extensions import db
from training.practice import services, store
from training.practice.models import PracticeReview

POPULATE = Path(__file__).resolve().parents[2] / "benchmarks" / "populate.py"
LESSON = "3.3"


def _load_populate():
    spec = importlib.util.spec_from_file_location("bench_populate", POPULATE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


populate = _load_populate()


@pytest.fixture(params=["sqlite", "postgresql"])
def populated_app(request, templates, tmp_path) -> Iterator[Flask]:
    """An app on a fresh database filled by populate.py with a few employees."""
    server = templates.server or ""
    if request.param == "postgresql":
        if not server.startswith("postgresql"):
            pytest.skip("TEST_DATABASE_URL is not PostgreSQL")
        url = templates.copy(False, tmp_path)
    elif server:
        url = f"sqlite:///{tmp_path / 'populated.sqlite'}"  # the run's templates are PostgreSQL
    else:
        url = templates.copy(False, tmp_path)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "ARGON2_PARAMS": FAST_ARGON2,
            "JOBS_RUN": "inline",
        }
    )
    populate.migrate_and_sync(app)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if request.param == "postgresql" or not server:
            templates.drop(url)


def _take_quiz(app: Flask) -> int:
    """Log in as a benchmark learner, start and submit a quiz; return the attempt id."""
    client = app.test_client()
    login = {"employee_no": populate.LEARNER_NOS[0], "password": populate.PASSWORD}
    assert client.post("/login", data=login).status_code == 302
    started = client.post(f"/lessons/{LESSON}/quiz")
    assert started.status_code == 302, started.get_data(as_text=True)
    location = started.headers["Location"]
    assert location.startswith("/quiz/")
    attempt_id = int(location.rsplit("/", 1)[1])
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt is not None
        form = form_for(attempt)
    submitted = client.post(location, data=form)
    assert submitted.status_code == 302, submitted.get_data(as_text=True)
    assert submitted.headers["Location"] == f"{location}/result"
    assert client.get(submitted.headers["Location"]).status_code == 200
    return attempt_id


def _max_ids(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.max(QuizAttempt.id))) or 0,
            db.session.scalar(select(func.max(QuizSubmission.id))) or 0,
        )


def test_quiz_starts_and_submits_on_a_populated_database(populated_app: Flask) -> None:
    population = populate.Population(populated_app)
    population.add(12)
    attempts_before, _ = _max_ids(populated_app)
    assert attempts_before > 12  # populate wrote attempts with ids of its own

    attempt_id = _take_quiz(populated_app)
    assert attempt_id == attempts_before + 1

    # More employees after the app wrote an attempt: populate starts past the app's ids,
    # and the app's next attempt past populate's.
    population.add(5)
    attempts, submissions = _max_ids(populated_app)
    assert _take_quiz(populated_app) == attempts + 1
    assert _max_ids(populated_app) == (attempts + 1, submissions + 1)


def test_every_sequence_is_past_its_table_after_populating(populated_app: Flask) -> None:
    populate.Population(populated_app).add(4)
    with populated_app.app_context():
        if db.engine.dialect.name != "postgresql":
            assert populate.advance_sequences() == []
            return
        behind = db.session.execute(
            text(
                "SELECT c.table_name FROM information_schema.columns AS c"
                " WHERE c.table_schema = current_schema() AND c.column_default LIKE 'nextval(%'"
            )
        ).scalars()
        for table in behind:
            top = db.session.scalar(text(f'SELECT max(id) FROM "{table}"'))  # noqa: S608 - catalog names
            last = db.session.scalar(
                text("SELECT pg_sequence_last_value(pg_get_serial_sequence(:t, 'id')::regclass)"),
                {"t": f'"{table}"'},
            )
            if top is not None:
                assert (last or 0) >= top, table
        assert populate.advance_sequences() == []  # nothing left to move


def test_populated_practice_is_counted_as_review_by_review(populated_app: Flask) -> None:
    populate.Population(populated_app).add(40)
    with populated_app.app_context():
        rows = db.session.execute(select(PracticeReview.cites, PracticeReview.correct)).all()
        assert len(rows) > 50  # about three in ten employees practise, a few sessions each
        streamed = services.clause_scores((tuple(cites), correct) for cites, correct in rows)
        assert store.clause_accuracy() == streamed
