"""Course outline, lesson pages and read acknowledgements."""

from __future__ import annotations

import shutil
import threading

import pytest
from sqlalchemy import func, select

from training.course.lessons import active_lessons
from training.course.models import Lesson, ReadEvent
from training.extensions import db
from training.revisions.sync import sync_course


def _read_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ReadEvent).where(ReadEvent.user_id == user_id)
    )


def test_sync_loads_every_lesson_and_is_idempotent(app, lessons):
    assert len(lessons) == 14
    assert [lesson.number for lesson in lessons][:3] == ["1.1", "1.2", "2.1"]
    assert lessons[-1].number == "5"
    report = sync_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
    assert report.lessons.created == []
    assert report.lessons.updated == []
    assert report.lessons.retired == []
    assert len(report.lessons.unchanged) == 14
    assert report.questions.created == []
    assert report.questions.updated == []
    assert not report.version_created


def test_sync_command_reports_counts(runner, app):
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert "lessons: 14 created" in result.output
    assert "(new version)" in result.output
    result = runner.invoke(args=["content", "sync"])
    assert "lessons: 0 created, 0 updated, 14 unchanged" in result.output
    assert "questions: 0 created, 0 updated" in result.output


@pytest.fixture
def content_copy(app, tmp_path):
    """Point the app at a copy of content/ and quizzes/ that a test may break."""
    shutil.copytree(app.config["CONTENT_DIR"], tmp_path / "content")
    shutil.copytree(app.config["QUIZ_DIR"], tmp_path / "quizzes")
    app.config["CONTENT_DIR"] = tmp_path / "content"
    app.config["QUIZ_DIR"] = tmp_path / "quizzes"
    return tmp_path


def test_sync_refuses_broken_lesson_file_and_writes_nothing(app, content_copy):
    broken = content_copy / "content" / "lessons" / "9.9-broken.md"
    broken.write_text("---\ntitle: x\n---\nbody\n", "utf-8")
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 1
    assert "9.9-broken.md" in result.output
    assert "Nothing was loaded" in result.output
    assert db.session.scalar(select(func.count()).select_from(Lesson)) == 0


def test_sync_refuses_broken_bank_and_writes_nothing(app, content_copy):
    bank = content_copy / "quizzes" / "3.3.yaml"
    text = bank.read_text("utf-8")
    bank.write_text(text.replace("cites: [", "cites: ['9.9.9', ", 1), "utf-8")
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 1
    assert "3.3.yaml" in result.output
    assert "9.9.9" in result.output
    assert db.session.scalar(select(func.count()).select_from(Lesson)) == 0


def test_sync_retires_lessons_whose_file_is_gone(app, lessons, content_copy):
    for path in (content_copy / "content" / "lessons").glob("5-*.md"):
        path.unlink()
    (content_copy / "quizzes" / "5.yaml").unlink()
    for path in (content_copy / "quizzes" / "generated").glob("5.yaml"):
        path.unlink()
    report = sync_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
    assert report.lessons.retired == ["5"]
    assert db.session.scalar(select(func.count()).select_from(Lesson)) == 14
    assert [lesson.number for lesson in active_lessons()][-1] == "4.2"


def test_home_lists_chapters_with_status(client, login_as, lessons):
    login_as()
    page = client.get("/").get_data(as_text=True)
    assert "服务的概念及公司服务总则" in page
    assert "外部服务的方式" in page
    assert page.count('data-status="not_started"') == 14


def test_lesson_page_renders_markdown_with_clause_anchors(client, login_as, lessons):
    login_as()
    response = client.get("/lessons/4.2")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="s-4.2.1.2"' in page
    assert "标准用语" in page
    assert "我已阅读并理解" in page


def test_unknown_lesson_is_404(client, login_as, lessons):
    login_as()
    assert client.get("/lessons/9.9").status_code == 404


def test_acknowledge_records_read_once(client, login_as, lessons):
    user = login_as()
    lesson = lessons[0]
    for _ in range(3):
        response = client.post(
            f"/lessons/{lesson.number}/read", data={"lesson_hash": lesson.content_hash}
        )
        assert response.status_code == 302
    assert _read_count(user.id) == 1
    event = db.session.scalar(select(ReadEvent).where(ReadEvent.user_id == user.id))
    assert event.lesson_hash == lesson.content_hash
    assert event.read_at.tzinfo is not None
    page = client.get("/").get_data(as_text=True)
    assert page.count('data-status="read"') == 1
    assert page.count('data-status="not_started"') == 13


def test_acknowledge_for_outdated_hash_is_not_recorded(client, login_as, lessons):
    user = login_as()
    response = client.post(f"/lessons/{lessons[0].number}/read", data={"lesson_hash": "0" * 64})
    assert response.status_code == 302
    assert _read_count(user.id) == 0


def test_acknowledge_with_tampered_form_is_400(client, login_as, lessons):
    user = login_as()
    response = client.post(f"/lessons/{lessons[0].number}/read", data={"lesson_hash": "x"})
    assert response.status_code == 400
    assert _read_count(user.id) == 0


def test_reads_are_per_user(client, app, login_as, create_user, lessons):
    other = create_user()
    login_as()
    client.post(f"/lessons/{lessons[0].number}/read", data={"lesson_hash": lessons[0].content_hash})
    assert _read_count(other.id) == 0


def test_concurrent_acknowledgements_record_one_read(make_app, create_user, lessons):
    """Parallel double posts from several browser tabs leave one read event."""
    user = create_user()
    employee_no, user_id = user.employee_no, user.id
    lesson_number, lesson_hash = lessons[1].number, lessons[1].content_hash
    app = make_app()
    clients = []
    for _ in range(8):
        c = app.test_client()
        c.post("/login", data={"employee_no": employee_no, "password": "Correct-Horse-42"})
        clients.append(c)
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def post(c):
        barrier.wait()
        response = c.post(f"/lessons/{lesson_number}/read", data={"lesson_hash": lesson_hash})
        statuses.append((response.status_code, response.headers.get("Location")))

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s for s, _ in statuses] == [302] * len(clients), statuses
    db.session.rollback()  # end this session's snapshot so it sees the threads' commits
    assert _read_count(user_id) == 1


def test_lesson_5_shows_the_versions_effective_date_in_the_norms_blank(client, login_as, lessons):
    from training.course.versions import current_norm_version

    login_as()
    version = current_norm_version()
    day = version.effective_date
    page = client.get("/lessons/5").get_data(as_text=True)
    import re

    article = page.split("<article")[1].split("</article>")[0]
    assert "****年**月**日" not in re.sub(r"<[^>]+>", "", article)  # the visible text
    assert f'<time class="filled-date" datetime="{day.isoformat()}"' in page
    assert f"{day.year}年{day.month}月{day.day}日" in page
    # Other lessons have no blank and are shown as stored.
    other = client.get("/lessons/4.2").get_data(as_text=True)
    assert "filled-date" not in other
