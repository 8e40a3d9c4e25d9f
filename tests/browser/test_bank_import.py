"""HR replaces a lesson's bank from an Excel file in a real browser; learners then get it."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import log_out, open_from_menu
from tests.browser.test_revision_flow import _log_in
from training.auth.models import Role
from training.banks import formats, services
from training.quizzes import schema
from training.quizzes.items import question_to_dict

pytestmark = pytest.mark.browser

MARK = "(二〇二七年版)"


def _edited_workbook(path) -> None:
    lesson = next(item for item in services.active_lessons() if item.number == "1.1")
    [(number, title, questions, mark)] = services.export_banks([lesson], include_withdrawn=True)
    edited = []
    for index, question in enumerate(questions):
        raw = formats.raw_of(question) | {"prompt": question.prompt + MARK}
        found: list = []
        new = schema.parse_question(
            raw,
            index=index,
            lesson="1.1",
            clause_numbers=None,
            report=lambda p, m, f=found: f.append(m),
        )
        assert new is not None, found
        edited.append(new)
    assert question_to_dict(edited[0]) != question_to_dict(questions[0])
    path.write_bytes(formats.write("xlsx", [(number, title, edited, mark)]))


def test_upload_preview_publish_then_the_quiz_shows_it(
    live_server, page, t, create_user, lessons, tmp_path
):
    hr = create_user(role=Role.HR, name="人事")
    learner = create_user(name="新员工")
    workbook = tmp_path / "1.1-revised.xlsx"
    _edited_workbook(workbook)

    for size in ({"width": 1366, "height": 900}, {"width": 390, "height": 844}):
        page.set_viewport_size(size)
        _log_in(page, live_server, hr.employee_no)
        page.goto(f"{live_server}/hr/content/banks/")
        assert page.locator("tr[data-lesson]").count() == len(lessons)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], width
        page.screenshot(path=str(tmp_path / f"banks-{size['width']}.png"), full_page=True)
        log_out(page)

    _log_in(page, live_server, hr.employee_no)
    open_from_menu(page, "内容", "题库")
    page.get_by_label(t("课程"), exact=True).select_option("1.1")
    page.get_by_label(t("题库文件"), exact=True).set_input_files(str(workbook))
    page.get_by_role("button", name=t("上传并预览"), exact=True).click()
    page.wait_for_url(re.compile(r".*/hr/content/banks/drafts/.+"))
    summary = page.locator("[data-summary]").inner_text()
    changed = t.pattern("新增 %(a)d 题，修改 %(c)d 题，不变 %(u)d 题，停用 %(r)d 题。", c=10)
    assert changed.search(summary), summary
    page.screenshot(path=str(tmp_path / "preview-390.png"), full_page=True)
    page.get_by_role("button", name=t("发布题库"), exact=True).click()
    page.wait_for_url(re.compile(r".*/hr/content/banks/$"))
    published = t.pattern(
        "已发布第 %(lesson)s 课题库：新增 %(added)d 题，修改 %(changed)d 题，停用 %(retired)d 题。",
        lesson="1.1",
        changed=10,
    )
    assert published.search(page.locator(".flashes").inner_text())
    assert page.locator('tr[data-lesson="1.1"] [data-source="upload"]').count() == 1
    log_out(page)

    _log_in(page, live_server, learner.employee_no)
    page.goto(f"{live_server}/lessons/1.1/quiz")
    page.get_by_role("button", name=t("开始测验"), exact=True).click()
    page.wait_for_url(re.compile(r".*/quiz/\d+$"))
    assert page.locator("main").inner_text().count(MARK) >= 5
