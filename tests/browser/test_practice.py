"""Practice in a real browser (Debian Chromium, phone-sized), with the keyboard alone."""

from __future__ import annotations

import re

import pytest

from training.extensions import db
from training.lessons.services import record_read
from training.quizzes.models import QuizQuestion
from training.quizzes.services import question_from_dict

pytestmark = pytest.mark.browser


def _log_in(page, base: str, employee_no: str) -> None:
    page.goto(f"{base}/")
    t = page.t
    page.get_by_label(t("工号"), exact=True).fill(employee_no)
    page.get_by_label(t("密码"), exact=True).fill("Correct-Horse-42")
    page.get_by_role("button", name=t("登录"), exact=True).click()
    page.wait_for_url(f"{base}/")


def _choose_right_option_with_keys(page) -> None:
    """Choose the right answer with the keyboard alone, from the focused first option: arrow
    keys between radio buttons, Space and Tab through check boxes."""
    question_id = int(re.search(r"/practice/q/(\d+)$", page.url).group(1))
    question = question_from_dict(db.session.get(QuizQuestion, question_id).data)
    assert page.evaluate("document.activeElement.name") == "q0"
    if question.kind == "multiple":
        boxes = page.locator("input[name=q0]")
        labels = page.locator(".option > span").all_inner_texts()
        wanted = {o.text for o in question.options if o.correct}
        for index, label in enumerate(labels):
            if label in wanted:
                page.keyboard.press("Space")
            if index < len(labels) - 1:
                page.keyboard.press("Tab")
        assert [boxes.nth(i).is_checked() for i in range(len(labels))] == [
            label in wanted for label in labels
        ]
        return
    assert question.kind in ("single", "truefalse"), question.kind
    labels = page.locator(".option > span").all_inner_texts()
    right = next(o.text for o in question.options if o.correct)
    target = labels.index(right)
    if target == 0:
        page.keyboard.press("Space")
    for _ in range(target):
        page.keyboard.press("ArrowDown")
    assert page.locator("input[name=q0]").nth(target).is_checked()


def test_learner_practises_with_the_keyboard_and_sees_feedback(
    live_server, page, t, create_user, lessons
):
    user = create_user(name="赵练习")
    record_read(user.id, next(lesson for lesson in lessons if lesson.number == "1.1"))
    db.session.commit()
    _log_in(page, live_server, user.employee_no)

    page.get_by_role("link", name=t("练习"), exact=True).click()
    page.wait_for_url(f"{live_server}/practice/")
    assert page.get_by_role("heading", name=t("今日练习"), exact=True).is_visible()
    page.get_by_role("button", name=t("开始今日练习"), exact=True).click()
    page.wait_for_url(re.compile(r".*/practice/q/\d+$"))
    first_url = page.url
    assert page.locator("fieldset legend").inner_text().startswith(t("第 %(n)s 题", n=1) + " / ")

    _choose_right_option_with_keys(page)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/practice/q/\d+/feedback$"))
    assert page.locator('[data-result="correct"]').is_visible()
    assert page.locator(".verdict").inner_text().strip() == t("✔ 答对了")
    assert page.locator(".reviewed .feedback").first.is_visible()
    cite = page.locator("a.cite").first
    assert re.search(r"/lessons/[\d.]+#s-[\d.]+$", cite.get_attribute("href"))

    # 下一题 has the focus: Enter goes on to the next question, its first option focused.
    assert page.evaluate("document.activeElement.textContent.trim()") == t("下一题")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/practice/q/\d+$"))
    assert page.url != first_url
    assert page.locator("fieldset legend").inner_text().startswith(t("第 %(n)s 题", n=2) + " / ")
    assert page.evaluate("document.activeElement.name") in ("q0", "q0-0")
