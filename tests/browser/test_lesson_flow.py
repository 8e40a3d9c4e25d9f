"""New hires in a real browser (Debian Chromium, phone-sized): read, quiz, retry, complete."""

from __future__ import annotations

import re

import pytest

from training.course.models import QuizAttempt
from training.extensions import db
from training.quizzes.services import shown_questions

pytestmark = pytest.mark.browser


def _log_in(page, base: str, employee_no: str) -> None:
    page.goto(f"{base}/")
    assert "/login" in page.url
    t = page.t
    page.get_by_label(t("工号"), exact=True).fill(employee_no)
    page.get_by_label(t("密码"), exact=True).fill("Correct-Horse-42")
    page.get_by_role("button", name=t("登录"), exact=True).click()
    page.wait_for_url(f"{base}/")


def test_login_read_lesson_and_status_changes(live_server, page, t, create_user, lessons):
    user = create_user(name="李新")
    _log_in(page, live_server, user.employee_no)
    assert page.get_by_text("李新").is_visible()

    item = page.locator(".lesson-item", has_text="服务的重大意义")
    assert item.locator(".status").inner_text().strip() == t("未开始")
    item.get_by_role("link").click()
    page.wait_for_url(f"{live_server}/lessons/2.1")
    assert page.locator("#s-2\\.1").count() == 1

    page.get_by_role("button", name=t("我已阅读并理解"), exact=True).click()
    page.wait_for_url(f"{live_server}/lessons/2.1")
    assert page.locator('[data-status="read"]').is_visible()

    page.get_by_role("link", name=t("我的课程"), exact=True).first.click()
    item = page.locator(".lesson-item", has_text="服务的重大意义")
    assert item.locator(".status").inner_text().strip() == t("已阅读，待测验")


def _answer(page, attempt_id: int, *, correct: bool) -> None:
    """Fill the quiz form with all-correct or all-wrong answers, read from the stored draw."""
    db.session.rollback()  # a new snapshot sees what the server committed
    attempt = db.session.get(QuizAttempt, attempt_id)
    for item in shown_questions(attempt):
        fieldset = page.locator(f"#question-{item.index + 1}")
        kind = item.question.kind
        if kind == "order":
            expected = list(item.question.correct_keys())
            ranks = [expected.index(option.key) + 1 for option in item.options]
            if not correct:
                ranks = [len(ranks) + 1 - r for r in ranks]
            for position, rank in enumerate(ranks):
                fieldset.locator(f"select[name=q{item.index}-{position}]").select_option(str(rank))
            continue
        positions = [i for i, option in enumerate(item.options) if option.correct == correct]
        if kind != "multiple" or not correct:
            positions = positions[:1]
        for position in positions:
            fieldset.locator(f"input[value='{position}']").check()


def test_new_hire_fails_quiz_sees_feedback_retries_and_completes(
    live_server, page, t, create_user, lessons
):
    user = create_user(name="王小明")
    _log_in(page, live_server, user.employee_no)
    page.goto(f"{live_server}/lessons/1.1")
    page.get_by_role("button", name=t("我已阅读并理解"), exact=True).click()
    page.get_by_role("link", name=t("参加本课测验"), exact=True).click()
    page.get_by_role("button", name=t("开始测验"), exact=True).click()
    page.wait_for_url(re.compile(r".*/quiz/\d+$"))

    # Submitting with nothing chosen keeps the learner on the form with a message.
    page.get_by_role("button", name=t("提交答案"), exact=True).click()
    assert page.locator("#form-errors").is_visible()

    attempt_id = int(page.url.rsplit("/", 1)[1])
    _answer(page, attempt_id, correct=False)
    page.get_by_role("button", name=t("提交答案"), exact=True).click()
    page.wait_for_url(re.compile(r".*/result$"))
    assert page.locator('[data-result="failed"]').is_visible()
    assert page.locator(".question-result .feedback").first.is_visible()
    cite = page.locator("a.cite").first
    assert re.search(r"/lessons/[\d.]+#s-[\d.]+$", cite.get_attribute("href"))

    page.get_by_role("button", name=t("重新测验"), exact=True).click()
    page.wait_for_url(re.compile(r".*/quiz/\d+$"))
    retry_id = int(page.url.rsplit("/", 1)[1])
    assert retry_id != attempt_id
    # The page counts the questions answered as the learner goes (static/js/page.js writes
    # the count in Chinese, whatever the page's language).
    counter = page.locator("#answered-count")
    total = page.locator("fieldset.question").count()
    assert counter.inner_text() == t("已答 %(answered)s / %(total)s 题", answered=0, total=total)
    _answer(page, retry_id, correct=True)
    assert counter.inner_text() == t(
        "已答 %(answered)s / %(total)s 题", answered=total, total=total
    )
    page.get_by_role("button", name=t("提交答案"), exact=True).click()
    page.wait_for_url(re.compile(r".*/result$"))
    assert page.locator('[data-result="passed"]').is_visible()
    # After a pass, the next lesson is one tap away.
    next_lesson = t.pattern("下一课：%(number)s %(title)s", number="1.2")
    assert next_lesson.fullmatch(page.locator("a[data-next]").inner_text().strip())

    page.get_by_role("link", name=t("我的课程"), exact=True).first.click()
    item = page.locator(".lesson-item", has_text="服务的概念")
    assert item.locator(".status").inner_text().strip() == t("已完成")
    assert (
        t("已完成 %(done)s / %(total)s 课", done=1, total=14) in page.locator("main").inner_text()
    )
