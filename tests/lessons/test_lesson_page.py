"""The lesson page's work: its statements and their plans, the cached lesson list, CSRF."""

from __future__ import annotations

import shutil
from contextlib import contextmanager

from sqlalchemy import event, func, select

from training.course.lessons import lesson_in_force, lesson_list
from training.course.models import ReadEvent
from training.extensions import db
from training.revisions.sync import sync_course

CACHE_KEY = "training.lesson_list"


@contextmanager
def recorded(engine):
    """Collect (statement, parameters) of the queries run inside (transaction control left out)."""
    seen: list[tuple[str, object]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def plan(statement: str, parameters) -> str:
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    return " / ".join(row[-1] for row in rows)


def test_lesson_page_is_two_statements_once_the_list_is_cached(app, client, login_as, lessons):
    login_as()
    assert client.get("/lessons/3.3").status_code == 200  # builds the lesson list
    with recorded(db.engine) as seen:
        response = client.get("/lessons/3.3")
    assert response.status_code == 200
    # The session and user; the lesson with the learner's read and pass and the list's stamp.
    assert len(seen) == 2, [s for s, _ in seen]
    page = response.get_data(as_text=True)
    assert 'rel="prev" href="/lessons/3.2"' in page
    assert 'rel="next" href="/lessons/3.4"' in page


def test_lesson_lookups_use_the_partial_index_on_sqlite(app, client, login_as, lessons):
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL matches `active` against `WHERE active` in any spelling
    login_as()
    with recorded(db.engine) as seen:
        assert client.get("/lessons/3.3").status_code == 200
        assert lesson_in_force("3.3") is not None
    by_number = [(s, p) for s, p in seen if "lessons.number = ?" in s]
    assert len(by_number) == 2, [s for s, _ in seen]
    for statement, parameters in by_number:
        found = plan(statement, parameters)
        assert "SEARCH lessons USING INDEX uq_lessons_active_number (number=?)" in found, found
        # The lesson list's stamp (in the page's statement) reads the lessons in force: the
        # partial index, never the table with every retired version.
        scans = [step for step in found.split(" / ") if step.startswith("SCAN")]
        assert all(s == "SCAN lessons USING INDEX uq_lessons_active_number" for s in scans), found


def test_the_list_is_cached_and_dropped_when_lessons_change(app, client, login_as, lessons):
    login_as()
    first = lesson_list()
    assert [item.number for item in first] == [lesson.number for lesson in lessons]
    with recorded(db.engine) as seen:
        assert lesson_list() is first
    assert len(seen) == 1  # the stamp only
    sync_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])  # lessons_changed is sent
    assert CACHE_KEY not in app.extensions
    db.session.commit()
    assert [item.number for item in lesson_list()] == [item.number for item in first]


def test_another_instance_sees_a_sync_and_an_edit(make_app, create_user, lessons, tmp_path):
    """Two app instances on one database stand for two worker processes: the lessons_changed
    signal of one never reaches the other's list, the version stamp does."""
    user = create_user()
    reader, writer = make_app(), make_app()
    browser = reader.test_client()
    browser.post("/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"})
    home = browser.get("/").get_data(as_text=True)
    assert home.count('data-status="not_started"') == 14
    assert CACHE_KEY in reader.extensions

    # An edit without the signal (as by hand): any write to a lessons row moves the stamp.
    with writer.app_context():
        lesson_in_force("3.4").title = "改过的标题"
        db.session.commit()
    page = browser.get("/lessons/3.3").get_data(as_text=True)
    assert "3.4 改过的标题" in page

    # A sync in the other instance retiring lesson 5.
    shutil.copytree(writer.config["CONTENT_DIR"], tmp_path / "content")
    shutil.copytree(writer.config["QUIZ_DIR"], tmp_path / "quizzes")
    for path in (tmp_path / "content" / "lessons").glob("5-*.md"):
        path.unlink()
    (tmp_path / "quizzes" / "5.yaml").unlink()
    for path in (tmp_path / "quizzes" / "generated").glob("5.yaml"):
        path.unlink()
    with writer.app_context():
        report = sync_course(tmp_path / "content", tmp_path / "quizzes")
        assert report.lessons.retired == ["5"]
        db.session.commit()
    assert CACHE_KEY in reader.extensions  # the signal went to the writer only
    home = browser.get("/").get_data(as_text=True)
    assert home.count('data-status="not_started"') == 13
    assert browser.get("/lessons/5").status_code == 404
    page = browser.get("/lessons/4.2").get_data(as_text=True)
    assert 'rel="next"' not in page


def test_acknowledge_form_carries_a_csrf_token_and_the_post_needs_it(
    make_app, create_user, lessons, csrf_token_from
):
    user = create_user()
    lesson_hash = lesson_in_force("2.1").content_hash
    count = select(func.count()).select_from(ReadEvent).where(ReadEvent.user_id == user.id)
    # Requests push their own app context (an outer one would share `g`, and the CSRF token
    # cached in it, between requests).
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    data = {"employee_no": user.employee_no, "password": "Correct-Horse-42", "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    page = client.get("/lessons/2.1").get_data(as_text=True)
    assert f'name="lesson_hash" value="{lesson_hash}"' in page
    refused = client.post("/lessons/2.1/read", data={"lesson_hash": lesson_hash})
    assert refused.status_code == 400
    forged = {"lesson_hash": lesson_hash, "csrf_token": "x" * 40}
    assert client.post("/lessons/2.1/read", data=forged).status_code == 400
    db.session.rollback()
    assert db.session.scalar(count) == 0
    signed = {"lesson_hash": lesson_hash, "csrf_token": csrf_token_from(page)}
    assert client.post("/lessons/2.1/read", data=signed).status_code == 302
    db.session.rollback()
    assert db.session.scalar(count) == 1
    assert 'data-status="read"' in client.get("/lessons/2.1").get_data(as_text=True)


def test_the_course_home_reads_the_learners_assignment_by_index(app, client, login_as, lessons):
    """The learner's assignment in force is grouped from their own rows, not the company's."""
    if db.engine.dialect.name != "sqlite":
        return  # the plan's wording is SQLite's; PostgreSQL pushes the filter down itself
    login_as()
    with recorded(db.engine) as seen:
        assert client.get("/").status_code == 200
    (statement, parameters), *_ = [(s, p) for s, p in seen if "FROM assignments" in s]
    found = plan(statement, parameters)
    assert "SCAN assignments" not in found, found
    assert "SEARCH assignments USING" in found, found
