"""Taking a quiz in the web app: draw, form, grading, single-write submissions, completion."""

from __future__ import annotations

import re
import shutil
import threading
import zlib
from fractions import Fraction

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from training.course.completion import progress_for
from training.course.models import Certificate, Lesson, QuizAttempt, QuizSubmission, ReadEvent
from training.extensions import db
from training.quizzes.models import QuizAnswer
from training.quizzes.services import (
    attempt_questions,
    lesson_questions,
    pass_mark_for,
    shown_questions,
)
from training.revisions.sync import sync_course


def _submissions(attempt_id: int | None = None) -> int:
    db.session.rollback()
    stmt = select(func.count()).select_from(QuizSubmission)
    if attempt_id is not None:
        stmt = stmt.where(QuizSubmission.attempt_id == attempt_id)
    return db.session.scalar(stmt)


def test_start_stores_draw_of_five_naming_question_versions(client, login_as, lessons, start_quiz):
    user = login_as()
    attempt = start_quiz("3.3")
    assert attempt.user_id == user.id
    drawn = attempt.draw["questions"]
    assert len(drawn) == 5
    assert len({q["id"] for q in drawn}) == 5
    assert set(attempt_questions(attempt)) == {q["id"] for q in drawn}
    assert all(len(q["version"]) == 64 for q in drawn)
    assert attempt.lesson_hash == attempt.lesson.content_hash
    assert attempt.pass_mark == "4/5"


def test_each_retry_is_a_new_draw(client, login_as, lessons, start_quiz):
    login_as()
    seeds = {start_quiz("4.2").seed for _ in range(4)}
    assert len(seeds) == 4


def test_short_bank_draws_every_question(app, client, login_as, lessons, start_quiz):
    app.config["QUIZ_SIZE"] = 50  # more than any bank holds
    login_as()
    attempt = start_quiz("5")
    bank_size = len(lesson_questions(lessons[-1]))
    assert bank_size < 50
    assert len(attempt.draw["questions"]) == bank_size


def test_quiz_page_has_a_fieldset_and_legend_per_question(client, login_as, lessons, start_quiz):
    login_as()
    attempt = start_quiz("4.2")
    page = client.get(f"/quiz/{attempt.id}").get_data(as_text=True)
    assert page.count("<fieldset") == 5
    assert page.count("<legend>") == 5
    # option keys never reach the page: only display positions
    for item in shown_questions(attempt):
        for option in item.options:
            assert f'value="{option.key}"' not in page or option.key.isdigit()


def test_unanswered_questions_return_the_form_keeping_choices(
    client, login_as, lessons, start_quiz, form_for
):
    login_as()
    attempt = start_quiz("4.2")
    data = form_for(attempt)
    first_name, first_value = next(iter(data.items()))
    partial = {first_name: first_value}
    response = client.post(f"/quiz/{attempt.id}", data=partial)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "还有 4 道题没有作答" in page
    assert "checked" in page or "selected" in page
    assert _submissions(attempt.id) == 0


def test_all_correct_passes_and_result_shows_feedback_and_clause_links(
    client, login_as, lessons, start_quiz, form_for
):
    login_as()
    attempt = start_quiz("3.3")
    response = client.post(f"/quiz/{attempt.id}", data=form_for(attempt))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/quiz/{attempt.id}/result"
    page = client.get(f"/quiz/{attempt.id}/result").get_data(as_text=True)
    assert 'data-result="passed"' in page
    assert "得分 100%" in page
    assert 'href="/lessons/3.3#s-3.3' in page
    for item in shown_questions(attempt):
        for option in item.options:
            if item.question.kind != "order":
                assert option.feedback.split("“")[0][:10] in page


def test_one_wrong_of_five_passes_at_the_mark_two_wrong_fail(
    client, login_as, lessons, start_quiz, form_for
):
    login_as()
    first = start_quiz("4.2")
    client.post(f"/quiz/{first.id}", data=form_for(first, correct=[True] * 4 + [False]))
    second = start_quiz("4.2")
    client.post(f"/quiz/{second.id}", data=form_for(second, correct=[True] * 3 + [False] * 2))
    db.session.rollback()
    assert db.session.get(QuizAttempt, first.id).submission.passed is True
    assert db.session.get(QuizAttempt, second.id).submission.passed is False
    assert 'data-result="failed"' in client.get(f"/quiz/{second.id}/result").get_data(as_text=True)


def test_double_submit_and_replay_leave_one_submission(
    client, login_as, lessons, start_quiz, form_for
):
    login_as()
    attempt = start_quiz("3.2")
    data = form_for(attempt)
    wrong = form_for(attempt, correct=False)
    assert client.post(f"/quiz/{attempt.id}", data=data).status_code == 302
    # a replayed POST, even with other answers, changes nothing
    response = client.post(f"/quiz/{attempt.id}", data=wrong)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/result")
    assert _submissions(attempt.id) == 1
    assert db.session.get(QuizAttempt, attempt.id).submission.passed is True
    # the back button shows the result, not the form
    assert client.get(f"/quiz/{attempt.id}").headers["Location"].endswith("/result")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data: data | {"q99": ["0"]},
        lambda data: data | {"hack": ["1"]},
        lambda data: {k: (["9"] if k == "q0" else v) for k, v in data.items()},
        lambda data: {k: (["x"] if k == "q0" else v) for k, v in data.items()},
        lambda data: {k: (["0", "0"] if k == "q0" else v) for k, v in data.items()},
    ],
    ids=["unknown-question", "unknown-field", "option-out-of-range", "not-a-number", "repeated"],
)
def test_tampered_form_is_400_and_records_nothing(
    client, login_as, lessons, start_quiz, form_for, tamper
):
    login_as()
    attempt = start_quiz("3.3")
    data = form_for(attempt)
    if "q0" not in data:  # question 0 is an ordering item in this draw; tamper with its step
        data["q0"] = ["0"]
    response = client.post(f"/quiz/{attempt.id}", data=tamper(data))
    assert response.status_code == 400
    assert _submissions() == 0


def test_two_answers_to_a_single_choice_question_is_400(
    app, client, login_as, lessons, start_quiz, form_for
):
    app.config["QUIZ_SIZE"] = 50  # the whole bank, so its single-choice items are drawn
    login_as()
    attempt = start_quiz("4.2")
    item = next(i for i in shown_questions(attempt) if i.question.kind == "single")
    data = form_for(attempt) | {f"q{item.index}": ["0", "1"]}
    assert client.post(f"/quiz/{attempt.id}", data=data).status_code == 400
    assert _submissions() == 0


def test_other_learners_attempt_is_not_found(
    client, app, login_as, create_user, lessons, start_quiz, form_for
):
    login_as()
    attempt = start_quiz("3.3")
    data = form_for(attempt)
    intruder = create_user()
    other = app.test_client()
    other.post("/login", data={"employee_no": intruder.employee_no, "password": "Correct-Horse-42"})
    assert other.get(f"/quiz/{attempt.id}").status_code == 404
    assert other.post(f"/quiz/{attempt.id}", data=data).status_code == 404
    assert other.get(f"/quiz/{attempt.id}/result").status_code == 404
    assert _submissions() == 0


def test_anonymous_cannot_start_or_submit(client, lessons):
    assert client.post("/lessons/3.3/quiz").status_code == 302
    assert client.get("/quiz/1").headers["Location"].startswith("/login")


def test_concurrent_submissions_of_one_attempt_record_one(make_app, create_user, lessons, form_for):
    """Twenty simultaneous posts of the same attempt (double clicks, tabs) leave one row."""
    user = create_user()
    app = make_app()
    clients = []
    for _ in range(20):
        c = app.test_client()
        c.post("/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"})
        clients.append(c)
    response = clients[0].post("/lessons/4.2/quiz")
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    db.session.rollback()
    data = form_for(db.session.get(QuizAttempt, attempt_id))
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def post(c):
        barrier.wait()
        statuses.append(c.post(f"/quiz/{attempt_id}", data=data).status_code)

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * 20
    assert _submissions(attempt_id) == 1


def test_submissions_and_attempts_cannot_be_altered(
    client, login_as, lessons, start_quiz, form_for
):
    login_as()
    attempt = start_quiz("3.3")
    client.post(f"/quiz/{attempt.id}", data=form_for(attempt, correct=False))
    db.session.rollback()
    for stmt in (
        update(QuizSubmission).values(passed=True),
        update(QuizAttempt).values(pass_mark="0"),
        QuizSubmission.__table__.delete(),
        update(QuizAnswer).values(correct=True),
        QuizAnswer.__table__.delete(),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(stmt)
        db.session.rollback()
    assert db.session.get(QuizAttempt, attempt.id).submission.passed is False


def test_read_events_cannot_be_deleted(client, login_as, lessons):
    login_as()
    client.post("/lessons/1.1/read", data={"lesson_hash": lessons[0].content_hash})
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(ReadEvent.__table__.delete())
    db.session.rollback()


def test_attempt_limit_when_configured(make_app, create_user, lessons, form_for):
    app = make_app(QUIZ_MAX_ATTEMPTS=1)
    user = create_user()
    client = app.test_client()
    client.post("/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"})
    response = client.post("/lessons/3.3/quiz")
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    db.session.rollback()
    client.post(
        f"/quiz/{attempt_id}", data=form_for(db.session.get(QuizAttempt, attempt_id), correct=False)
    )
    response = client.post("/lessons/3.3/quiz")
    assert response.headers["Location"] == "/lessons/3.3/quiz"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 1


def test_lesson_pass_mark_comes_from_its_bank(app, tmp_path, client, login_as, start_quiz):
    shutil.copytree(app.config["QUIZ_DIR"], tmp_path / "quizzes")
    bank = tmp_path / "quizzes" / "3.3.yaml"
    bank.write_text("pass_mark: 0.6\n" + bank.read_text("utf-8"), "utf-8")
    sync_course(app.config["CONTENT_DIR"], tmp_path / "quizzes")
    db.session.commit()
    lesson = db.session.scalar(select(Lesson).where(Lesson.number == "3.3"))
    assert pass_mark_for(lesson) == Fraction(3, 5)
    other = db.session.scalar(select(Lesson).where(Lesson.number == "3.4"))
    assert pass_mark_for(other) == Fraction(4, 5)
    login_as()
    assert start_quiz("3.3").pass_mark == "3/5"


def _complete(client, lesson, start_quiz, form_for):
    client.post(f"/lessons/{lesson.number}/read", data={"lesson_hash": lesson.content_hash})
    attempt = start_quiz(lesson.number)
    client.post(f"/quiz/{attempt.id}", data=form_for(attempt))


def test_lesson_completed_needs_read_and_pass_on_current_content(
    client, login_as, lessons, start_quiz, form_for
):
    user = login_as()
    lesson = lessons[3]
    attempt = start_quiz(lesson.number)
    client.post(f"/quiz/{attempt.id}", data=form_for(attempt))
    assert progress_for(user.id).status(lesson) == "quiz_passed"
    client.post(f"/lessons/{lesson.number}/read", data={"lesson_hash": lesson.content_hash})
    db.session.rollback()
    assert progress_for(user.id).status(lesson) == "completed"
    # a new version of the lesson's text makes the old read and pass stale
    db.session.execute(update(Lesson).where(Lesson.id == lesson.id).values(content_hash="f" * 64))
    db.session.commit()
    assert progress_for(user.id).status(lesson) == "not_started"


def _pdf_pages(data: bytes) -> int:
    """Count the pages of a PDF whose objects may sit in compressed object streams."""
    text = data
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            text += zlib.decompress(stream)
        except zlib.error:
            continue
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", text))


def test_course_completion_issues_one_certificate(client, login_as, lessons, start_quiz, form_for):
    user = login_as(name="赵六", department="销售部")
    page = client.get("/certificate").get_data(as_text=True)
    assert "目前已完成 0 / 14 课" in page
    for lesson in lessons:
        _complete(client, lesson, start_quiz, form_for)
    db.session.rollback()
    assert progress_for(user.id).completed
    certificates = db.session.scalars(
        select(Certificate).where(Certificate.user_id == user.id)
    ).all()
    assert len(certificates) == 1
    certificate = certificates[0]
    page = client.get("/certificate").get_data(as_text=True)
    assert "赵六" in page
    assert user.employee_no in page
    assert "销售部" in page
    assert certificate.code in page
    # The version is named by its label, not by a hash.
    assert certificate.source_sha256[:12] not in page
    assert "公司服务规范 · 初始版本" in page
    assert "打印" in page
    assert "盖章" in page
    # The same certificate as a one-page A4 PDF.
    pdf = client.get("/certificate.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert certificate.code in pdf.headers["Content-Disposition"]
    assert pdf.data.startswith(b"%PDF")
    assert _pdf_pages(pdf.data) == 1
    home = client.get("/").get_data(as_text=True)
    assert "查看结业证书" in home
    # completing more (a retake) issues no second certificate
    _complete(client, lessons[0], start_quiz, form_for)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_hr_verifies_a_certificate_code(make_app, create_user, lessons):
    from training.auth.models import Role

    learner = create_user(name="钱七")
    version_sha = lessons[0].source_sha256
    db.session.add(
        Certificate(
            user_id=learner.id,
            source_sha256=version_sha,
            norm_title="公司服务规范",
            code="ABCD-EFGH-JKLM",
        )
    )
    db.session.commit()
    hr = create_user(role=Role.HR)
    app = make_app()
    client = app.test_client()
    client.post("/login", data={"employee_no": hr.employee_no, "password": "Correct-Horse-42"})
    page = client.get("/hr/certificates/verify", query_string={"code": "abcd-efgh-jklm"})
    body = page.get_data(as_text=True)
    assert 'data-verified="yes"' in body
    assert "钱七" in body
    # As people type or paste it: no dashes, spaces, full-width letters or dashes.
    for typed in (
        "abcdefghjklm",
        " ABCD EFGH JKLM ",
        "ＡＢＣＤ－ＥＦＧＨ－ＪＫＬＭ",
        "ABCD—EFGH—JKLM",
    ):
        page = client.get("/hr/certificates/verify", query_string={"code": typed})
        assert 'data-verified="yes"' in page.get_data(as_text=True), typed
    missing = client.get("/hr/certificates/verify", query_string={"code": "NOPE"})
    assert 'data-verified="no"' in missing.get_data(as_text=True)


def test_there_is_no_pdf_before_the_course_is_complete(client, login_as, lessons):
    login_as()
    assert client.get("/certificate.pdf").status_code == 404


def test_learner_cannot_verify_certificates(client, login_as):
    login_as()
    assert client.get("/hr/certificates/verify").status_code == 403


def test_attempt_limit_cannot_be_bypassed_with_several_open_attempts(
    make_app, create_user, lessons, form_for
):
    from training.quizzes.services import AttemptLimitReached, start_attempt, submit_attempt

    app = make_app(QUIZ_MAX_ATTEMPTS=1)
    user = create_user()
    client = app.test_client()
    client.post("/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"})
    first = client.post("/lessons/3.3/quiz").headers["Location"]
    second = client.post("/lessons/3.3/quiz").headers["Location"]
    assert first == second  # one open attempt at a time under a limit
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.number == "3.3"))
        extra = start_attempt(user.id, lesson)  # e.g. opened before the limit was set
        db.session.commit()
        attempt_id = int(first.rsplit("/", 1)[1])
        opened = db.session.get(QuizAttempt, attempt_id)
        client.post(f"/quiz/{attempt_id}", data=form_for(opened, correct=False))
        extra = db.session.get(QuizAttempt, extra.id)
        with pytest.raises(AttemptLimitReached):
            submit_attempt(extra, {})
        assert _submissions() == 1


def test_result_states_the_pass_mark_in_questions_for_four_of_five(
    client, login_as, lessons, start_quiz, form_for
):
    login_as()
    attempt = start_quiz("4.2")
    client.post(f"/quiz/{attempt.id}", data=form_for(attempt, correct=[True] * 4 + [False]))
    page = client.get(f"/quiz/{attempt.id}/result").get_data(as_text=True)
    assert "得分 80%（答对 4 / 5 题）" in page
    assert "通过：需答对 5 题中的 4 题（80%）" in page
    assert "合格线 0%" not in page


def test_result_states_the_pass_mark_in_questions_for_three_of_four(
    make_app, create_user, form_for
):
    app = make_app(QUIZ_SIZE=4)
    with app.app_context():
        sync_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
        db.session.commit()
        user = create_user()
        client = app.test_client()
        client.post(
            "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
        )
        response = client.post("/lessons/4.2/quiz")
        attempt = db.session.get(QuizAttempt, int(response.headers["Location"].rsplit("/", 1)[1]))
        assert len(attempt.draw["questions"]) == 4
        client.post(f"/quiz/{attempt.id}", data=form_for(attempt, correct=[True] * 3 + [False]))
        page = client.get(f"/quiz/{attempt.id}/result").get_data(as_text=True)
        assert "得分 75%（答对 3 / 4 题）" in page
        assert "未通过：需答对 4 题中的 4 题（80%）" in page


def test_start_page_states_the_pass_mark_in_questions(client, login_as, lessons):
    login_as()
    page = client.get("/lessons/4.2/quiz").get_data(as_text=True)
    assert "需答对 5 题中的 4 题（80%）即为通过" in page


def test_a_submission_records_each_answer_once_with_its_version(
    client, login_as, lessons, start_quiz, form_for
):
    login_as()
    attempt = start_quiz("4.2")
    data = form_for(attempt, correct=[True, False, True, True, True])
    client.post(f"/quiz/{attempt.id}", data=data)
    client.post(f"/quiz/{attempt.id}", data=form_for(attempt, correct=False))  # a replay
    db.session.rollback()
    rows = db.session.scalars(select(QuizAnswer).order_by(QuizAnswer.position)).all()
    drawn = attempt.draw["questions"]
    assert [(r.qid, r.version) for r in rows] == [(q["id"], q["version"]) for q in drawn]
    assert [r.correct for r in rows] == [True, False, True, True, True]
    assert {r.submission_id for r in rows} == {attempt.submission.id}
    assert rows[1].chosen == attempt.submission.answers[rows[1].qid]


def test_a_multiple_choice_hint_is_never_said_twice(app):
    from flask import render_template_string

    from training.quizzes.items import question_from_dict

    def head(prompt: str) -> str:
        question = question_from_dict(
            {
                "id": "x",
                "lesson": "1.1",
                "kind": "multiple",
                "cites": ["1.1"],
                "scenario": "",
                "answer": None,
                "feedback": "",
                "generated": False,
                "prompt": prompt,
                "options": [
                    {"key": "a", "text": "甲", "correct": True, "feedback": "对"},
                    {"key": "b", "text": "乙", "correct": True, "feedback": "对"},
                    {"key": "c", "text": "丙", "correct": False, "feedback": "错"},
                ],
            }
        )

        class Item:
            pass

        item = Item()
        item.question = question
        with app.test_request_context():
            return render_template_string(
                '{% from "quizzes/_question.html" import question_head %}{{ question_head(item) }}',
                item=item,
            )

    assert head("哪些做法符合规范?(选出所有符合规范的)").count("多选") == 1
    assert "选出所有正确的做法" not in head("哪些做法符合规范?(选出所有符合规范的)")
    assert head("哪些做法符合规范?(多选)").count("多选") == 1
    assert "（多选，选出所有正确的做法）" in head("哪些做法符合规范?")


def test_the_start_page_counts_the_questions_a_quiz_draws_from(client, login_as, lessons):
    from training.quizzes.services import graded_question_count

    for lesson in lessons:
        assert graded_question_count(lesson) == len(lesson_questions(lesson)), lesson.number
    login_as()
    page = client.get("/lessons/3.3/quiz").get_data(as_text=True)
    assert "开始测验" in page


def test_earlier_draws_are_unnested_in_sql_oldest_first(app, create_user, lessons):
    from training.quizzes.services import _drawn_before, start_attempt

    user, other = create_user(), create_user()
    attempts = [start_attempt(user.id, lessons[3]) for _ in range(4)]
    start_attempt(other.id, lessons[3])
    start_attempt(user.id, lessons[4])
    expected = [sorted(str(entry["id"]) for entry in a.draw["questions"]) for a in attempts]
    assert [sorted(draw) for draw in _drawn_before(user.id, lessons[3])] == expected
    assert _drawn_before(create_user().id, lessons[3]) == []


def test_a_new_draw_is_ranked_against_the_latest_draws_only(app, create_user, lessons, monkeypatch):
    from training.quizzes import services
    from training.quizzes.services import _drawn_before, start_attempt

    monkeypatch.setattr(services, "HISTORY_DRAWS", 3)
    services._drawn_before_statement.cache_clear()
    try:
        user = create_user()
        attempts = [start_attempt(user.id, lessons[3]) for _ in range(5)]
        expected = [sorted(str(e["id"]) for e in a.draw["questions"]) for a in attempts[-3:]]
        assert [sorted(draw) for draw in _drawn_before(user.id, lessons[3])] == expected
    finally:
        services._drawn_before_statement.cache_clear()


def test_wrapped_bank_text_shows_without_stray_spaces(client, login_as, lessons, start_quiz):
    """A bank's scenario wrapped over lines in YAML reads as one sentence in Chinese (a browser
    shows a line break as a space: “座机响了。 他瞄了一眼”)."""
    from training.content.text import unwrap
    from training.quizzes.services import shown_questions

    login_as()
    wrapped = []
    for _ in range(6):  # 4.2 has many wrapped scenarios; a few draws show some
        attempt = start_quiz("4.2")
        page = client.get(f"/quiz/{attempt.id}").get_data(as_text=True)
        for item in shown_questions(attempt):
            if "\n" in item.question.scenario.strip():
                wrapped.append(item.question.scenario)
                assert unwrap(item.question.scenario) in page
                assert item.question.scenario.strip() not in page
        client.post(f"/quiz/{attempt.id}", data={})  # leave it; the next start draws anew
    assert wrapped
    assert unwrap("座机响了。\n他瞄了一眼") == "座机响了。他瞄了一眼"
    assert unwrap("the CRM\nsystem") == "the CRM system"
    assert unwrap("甲\n\n乙") == "甲\n\n乙"
