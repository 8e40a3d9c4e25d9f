"""HR publishes a revised norm in a real browser; an employee then sees 需复训."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.conftest import log_out, open_from_menu
from tests.revisions.conftest import EFFECTIVE as TODAY
from training.auth.models import Role
from training.course.models import Lesson, QuizAttempt, QuizSubmission, ReadEvent
from training.db import utcnow
from training.extensions import db

pytestmark = pytest.mark.browser

SEED = Path(__file__).resolve().parents[2] / "content" / "source" / "service-norm.txt"


def _complete_everything(user) -> None:
    for lesson in db.session.scalars(select(Lesson).where(Lesson.active.is_(True))):
        db.session.add(
            ReadEvent(
                user_id=user.id,
                lesson_id=lesson.id,
                lesson_hash=lesson.content_hash,
                read_at=utcnow(),
            )
        )
        attempt = QuizAttempt(
            user_id=user.id,
            lesson_id=lesson.id,
            lesson_hash=lesson.content_hash,
            seed=1,
            draw={"seed": 1, "questions": [], "snapshot": {}},
            pass_mark="4/5",
            started_at=utcnow(),
        )
        db.session.add(attempt)
        db.session.flush()
        db.session.add(
            QuizSubmission(
                attempt_id=attempt.id,
                answers={},
                correct_count=5,
                total=5,
                passed=True,
                submitted_at=utcnow(),
            )
        )
    db.session.commit()


def _log_in(page, base, employee_no):
    t = page.t
    page.goto(f"{base}/login")
    page.get_by_label(t("工号"), exact=True).fill(employee_no)
    page.get_by_label(t("密码"), exact=True).fill("Correct-Horse-42")
    page.get_by_role("button", name=t("登录"), exact=True).click()
    # HR lands on the dashboard, learners on their course.
    page.wait_for_url(re.compile(rf"{re.escape(base)}/(hr/)?$"))


def test_upload_preview_publish_then_employee_must_retrain(
    live_server, page, t, create_user, lessons, tmp_path
):
    employee = create_user(name="老员工")
    _complete_everything(employee)
    hr = create_user(role=Role.HR, name="人事")
    revised = tmp_path / "service-norm-2027.txt"
    revised.write_text(
        SEED.read_text("utf-8").replace("一般不得超过三声", "一般不得超过两声"), "utf-8"
    )

    _log_in(page, live_server, hr.employee_no)
    open_from_menu(page, "内容", "规范版本")
    page.get_by_role("link", name=t("导入修订版规范"), exact=True).click()
    page.get_by_label(t("规范文件"), exact=True).set_input_files(str(revised))
    page.get_by_label(t("版本名称"), exact=True).fill("2027 年修订版")
    page.get_by_label(t("生效日期"), exact=True).fill(TODAY)
    page.get_by_role("button", name=t("上传并预览"), exact=True).click()
    page.wait_for_url("**/hr/norm/import/**")
    row = page.locator('tr[data-kind="changed"]')
    assert row.count() == 1
    assert "4.2.1.2" in row.inner_text()
    assert page.locator("del", has_text="三").count() >= 1
    page.get_by_role("button", name=t("确认发布"), exact=True).click()
    page.wait_for_url(f"{live_server}/hr/norm/")
    published = t.pattern(
        "已发布「%(label)s」：%(lessons)s 课内容有变化，%(editorial)s 课仅措辞修改，"
        "%(users)s 人需复训。",
        label="2027 年修订版",
        users=1,
    )
    assert published.search(page.locator(".flashes").inner_text())
    log_out(page)

    _log_in(page, live_server, employee.employee_no)
    notice = page.locator("#revision")
    assert notice.is_visible()
    assert "4.2 外部服务的方式" in notice.inner_text()
    assert notice.locator("ins", has_text="两").count() >= 1
    item = page.locator(".lesson-item", has_text="外部服务的方式")
    assert item.locator(".status").inner_text().strip() == t("需复训")
    other = page.locator(".lesson-item", has_text="良好的服务标准")
    assert other.locator(".status").inner_text().strip() == t("已完成")


def test_a_held_question_is_reviewed_in_the_browser_and_drawn_again(
    live_server, page, t, create_user, lessons, tmp_path
):
    from training.quizzes.models import QuestionHold, QuizQuestion
    from training.quizzes.services import start_attempt

    hr = create_user(role=Role.HR, name="人事")
    learner = create_user(name="学员")
    revised = tmp_path / "service-norm-2027.txt"
    revised.write_text(
        SEED.read_text("utf-8").replace("一般不得超过三声", "一般不得超过两声"), "utf-8"
    )
    _log_in(page, live_server, hr.employee_no)
    page.goto(f"{live_server}/hr/norm/import")
    page.get_by_label(t("规范文件"), exact=True).set_input_files(str(revised))
    page.get_by_label(t("版本名称"), exact=True).fill("2027 年修订版")
    page.get_by_label(t("生效日期"), exact=True).fill(TODAY)
    page.get_by_role("button", name=t("上传并预览"), exact=True).click()
    page.wait_for_url("**/hr/norm/import/**")
    assert t("发布后暂停抽题，待人事行政部复核") in page.locator("main").inner_text()
    page.get_by_role("button", name=t("确认发布"), exact=True).click()
    page.wait_for_url(f"{live_server}/hr/norm/")

    db.session.rollback()
    held = db.session.scalars(select(QuestionHold.qid)).all()
    assert held
    lesson = db.session.scalar(select(Lesson).where(Lesson.active, Lesson.number == "4.2"))
    drawn = {
        q["id"] for _ in range(10) for q in start_attempt(learner.id, lesson).draw["questions"]
    }
    db.session.commit()
    assert not drawn & set(held)  # withheld from every draw

    page.get_by_role("link", name=t("%(n)s 道题目待复核", n=len(held)), exact=True).click()
    page.wait_for_url(f"{live_server}/hr/norm/review")
    # Review the page's last card, so its note must be a field of its own (a label inside the
    # card that points at the card's own textarea, not at the first card's).
    cards = page.locator("[data-question]").evaluate_all("els => els.map(e => e.dataset.question)")
    assert len(cards) > 1
    assert sorted(cards) == sorted(held)
    held = [cards[-1], *cards[:-1]]
    card = page.locator(f'[data-question="{held[0]}"]')
    assert card.locator("del", has_text="三").count() >= 1
    assert card.locator("ins", has_text="两").count() >= 1
    card.get_by_label(t("复核说明（可选）"), exact=True).fill(
        "题目只问是否及时接听,新条文下仍然正确"
    )
    card.get_by_role("button", name=t("确认仍然正确"), exact=True).click()
    page.wait_for_url("**/hr/norm/review#hold-*")
    assert t("已确认该题仍然正确，即刻恢复抽题。") in page.locator(".flashes").inner_text()
    assert page.locator(f'[data-question="{held[0]}"]').get_attribute("data-state") == "kept"

    db.session.rollback()
    assert not db.session.scalar(select(QuizQuestion.withheld).where(QuizQuestion.qid == held[0]))
    drawn = {
        q["id"] for _ in range(40) for q in start_attempt(learner.id, lesson).draw["questions"]
    }
    assert held[0] in drawn
    assert not drawn & set(held[1:])
