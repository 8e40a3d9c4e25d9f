"""Quiz start and submit: read first, then one short write transaction, under concurrency."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from training.course.models import ProgressSummary, QuizAttempt, QuizSubmission
from training.course.progress import rebuild_all
from training.extensions import db
from training.quizzes import grading, services
from training.quizzes.models import QuizAnswer

PASSWORD = "Correct-Horse-42"


def _sqlite_only():
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite write lock")


@contextmanager
def recorded(engine):
    """Collect the statements reaching the driver inside, BEGIN and COMMIT included."""
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _attempt_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _writes(statements: list[str]) -> list[int]:
    return [i for i, s in enumerate(statements) if s.startswith(("INSERT", "UPDATE", "DELETE"))]


def test_start_and_submit_read_then_write_in_one_locked_transaction(
    client, login_as, lessons, form_for
):
    _sqlite_only()
    login_as()
    client.post("/lessons/2.2/quiz")  # warm: nothing below depends on a first request
    for step in ("start", "submit"):
        if step == "start":
            with recorded(db.engine) as seen:
                attempt_id = _attempt_id(client.post("/lessons/2.2/quiz"))
        else:
            db.session.rollback()
            data = form_for(db.session.get(QuizAttempt, attempt_id))
            db.session.rollback()  # the request begins its own transactions
            with recorded(db.engine) as seen:
                response = client.post(f"/quiz/{attempt_id}", data=data)
            assert response.headers["Location"].endswith(f"/quiz/{attempt_id}/result")
        begins = [s for s in seen if s.startswith("BEGIN")]
        assert begins == ["BEGIN", "BEGIN IMMEDIATE"], (step, seen)
        locked = seen.index("BEGIN IMMEDIATE")
        # The read transaction (the session lookup with it) ends before the lock is asked
        # for, having written nothing; every write, the progress summary's too, follows it.
        assert seen[locked - 1] == "COMMIT", (step, seen)
        writes = _writes(seen)
        assert writes, (step, seen)
        assert min(writes) > locked, (step, seen)
        assert any(s.startswith("UPDATE progress_summaries") for s in seen[locked:]), seen


def test_no_write_lock_while_drawing_or_grading_and_no_upgrade_failure(
    client, login_as, lessons, form_for, monkeypatch
):
    """While a start draws and a submit grades, another process takes the write lock and
    commits; the request then writes all the same (its reads were in a transaction of their
    own, so nothing upgrades a stale read transaction: SQLite would refuse that at once)."""
    _sqlite_only()
    user = login_as()
    db.session.rollback()  # the test's session outlives requests: end what the login left
    path = db.engine.url.database
    probes: list[str] = []

    def another_worker_writes():
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if anyone holds the write lock
            other.execute(
                "INSERT INTO login_attempts (employee_no, address, succeeded, at)"
                " VALUES ('X', '10.0.0.9', 0, '2026-01-01 00:00:00.000000')"
            )
            other.execute("COMMIT")
            probes.append("free")
        except sqlite3.OperationalError as exc:
            probes.append(str(exc))
        finally:
            other.close()

    real_draw, real_grade = grading.make_draw, services.grade_answers

    def drawing(*args, **kwargs):
        another_worker_writes()
        return real_draw(*args, **kwargs)

    def grading_answers(*args, **kwargs):
        another_worker_writes()
        return real_grade(*args, **kwargs)

    monkeypatch.setattr(grading, "make_draw", drawing)
    monkeypatch.setattr(services, "grade_answers", grading_answers)
    attempt_id = _attempt_id(client.post("/lessons/3.1/quiz"))
    db.session.rollback()
    data = form_for(db.session.get(QuizAttempt, attempt_id))
    response = client.post(f"/quiz/{attempt_id}", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/result")
    assert probes == ["free", "free"]
    db.session.rollback()
    submitted = select(func.count()).select_from(QuizSubmission)
    assert db.session.scalar(submitted.where(QuizSubmission.attempt_id == attempt_id)) == 1
    summary = db.session.get(ProgressSummary, user.id)
    assert summary.passed_count == 1


def _logged_in(app, employee_no: str):
    client = app.test_client()
    response = client.post("/login", data={"employee_no": employee_no, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _run_together(jobs) -> list:
    """Run the callables at once (a barrier releases them together); return their results."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        barrier.wait()
        results[index] = job()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_starts_and_submits_of_different_learners_all_succeed(
    make_app, create_user, lessons, form_for
):
    app = make_app()
    users = [create_user() for _ in range(8)]
    clients = [_logged_in(app, user.employee_no) for user in users]
    started = [_attempt_id(c.post("/lessons/4.1/quiz")) for c in clients]
    db.session.rollback()
    forms = [form_for(db.session.get(QuizAttempt, attempt_id)) for attempt_id in started]

    def submit(client, attempt_id, data):
        return lambda: client.post(f"/quiz/{attempt_id}", data=data)

    def start(client):
        return lambda: client.post("/lessons/4.2/quiz")

    jobs = [submit(c, a, f) for c, a, f in zip(clients, started, forms, strict=True)]
    jobs += [start(c) for c in clients]
    responses = _run_together(jobs)
    assert [r.status_code for r in responses] == [302] * 16
    for response, attempt_id in zip(responses[:8], started, strict=True):
        assert response.headers["Location"].endswith(f"/quiz/{attempt_id}/result")
    new = [_attempt_id(r) for r in responses[8:]]
    db.session.rollback()
    assert len(set(new)) == 8
    count = select(func.count()).select_from(QuizSubmission)
    assert db.session.scalar(count.where(QuizSubmission.attempt_id.in_(started))) == 8
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 16
    answers = select(func.count(func.distinct(QuizAnswer.submission_id)))
    assert db.session.scalar(answers) == 8
    user_ids = [user.id for user in users]
    summaries = db.session.scalars(
        select(ProgressSummary).where(ProgressSummary.user_id.in_(user_ids))
    ).all()
    assert sorted((s.user_id, s.started, s.passed_count) for s in summaries) == [
        (user_id, 1, 1) for user_id in sorted(user_ids)
    ]


def test_one_learners_concurrent_submits_keep_the_summary_exact(
    make_app, create_user, lessons, form_for
):
    """Tabs of one learner submitting passes of six lessons at once: each recomputation of
    the summary sees the others' commits (on PostgreSQL, the row lock orders them)."""
    app = make_app()
    user = create_user()
    numbers = [lesson.number for lesson in lessons[:6]]
    tabs = [_logged_in(app, user.employee_no) for _ in numbers]
    for tab, lesson in zip(tabs, lessons[:6], strict=True):
        tab.post(f"/lessons/{lesson.number}/read", data={"lesson_hash": lesson.content_hash})
    started = [
        _attempt_id(t.post(f"/lessons/{n}/quiz")) for t, n in zip(tabs, numbers, strict=True)
    ]
    db.session.rollback()
    forms = [form_for(db.session.get(QuizAttempt, attempt_id)) for attempt_id in started]

    def submit(tab, attempt_id, data):
        return lambda: tab.post(f"/quiz/{attempt_id}", data=data)

    responses = _run_together(
        [submit(t, a, f) for t, a, f in zip(tabs, started, forms, strict=True)]
    )
    assert [r.status_code for r in responses] == [302] * 6
    db.session.rollback()
    kept = db.session.get(ProgressSummary, user.id)
    assert (kept.read_count, kept.passed_count, kept.completed_count) == (6, 6, 6)
    figures = (kept.read_count, kept.passed_count, kept.completed_count, kept.last_activity)
    rebuild_all()
    db.session.flush()
    db.session.expire_all()
    rebuilt = db.session.get(ProgressSummary, user.id)
    assert (
        rebuilt.read_count,
        rebuilt.passed_count,
        rebuilt.completed_count,
        rebuilt.last_activity,
    ) == figures
    db.session.rollback()
