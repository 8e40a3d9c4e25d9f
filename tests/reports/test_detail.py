"""The HR employee page and the read-only attempt view."""

from __future__ import annotations

from datetime import timedelta

import pytest

from training.audit.services import record
from training.auth.models import PasswordLink
from training.db import utcnow
from training.extensions import db


def test_employee_page_shows_profile_progress_history_links_and_audit(
    client, hr, records, lessons, today
):
    user = records.employee(
        employee_no="D100",
        name="赵六",
        department="客服部",
        position="客服专员",
        email="zl@example.com",
        due=today,
    )
    records.assign(user, today + timedelta(days=7))
    records.read(user, lessons[0], lesson_hash="f" * 64)
    records.read(user, lessons[0])
    failed = records.attempt(user, lessons[0], correct=False)
    passed = records.attempt(user, lessons[0])
    db.session.add(
        PasswordLink(
            token_hash="a" * 64,
            user_id=user.id,
            purpose="setup",
            created_by_id=hr.id,
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(hours=72),
        )
    )
    record("user.update", "修改岗位为客服专员", target=user, actor=hr)
    db.session.commit()

    html = client.get(f"/hr/employees/{user.id}").get_data(as_text=True)

    for text in ("赵六", "D100", "客服部", "客服专员", "zl@example.com", "进行中"):
        assert text in html
    assert (today + timedelta(days=7)).isoformat() in html
    assert today.isoformat() in html
    assert html.count('data-lesson="') == len(lessons)
    assert "ffffffff" in html
    assert lessons[0].content_hash[:8] in html
    assert "旧版本" in html
    assert "当前版本" in html
    assert f'href="/hr/attempts/{failed.id}"' in html
    assert f'href="/hr/attempts/{passed.id}"' in html
    assert "未通过" in html
    assert "通过" in html
    assert "设置密码" in html
    assert "有效" in html
    assert "a" * 64 not in html
    assert "修改岗位为客服专员" in html
    assert "人事甲" in html


def test_employee_page_shows_certificate_when_complete(client, hr, records, lessons):
    user = records.employee(employee_no="D200")
    records.complete(user, lessons)

    html = client.get(f"/hr/employees/{user.id}").get_data(as_text=True)

    assert "已完成" in html
    assert 'class="cert-code"' in html


def test_employee_page_shows_deactivated_employees(client, hr, records):
    user = records.employee(employee_no="D300", active=False)

    html = client.get(f"/hr/employees/{user.id}").get_data(as_text=True)

    assert "D300" in html
    assert "已停用" in html


def test_employee_page_runs_the_same_queries_for_1_or_10_attempts(
    client, hr, records, lessons, count_queries
):
    few = records.employee()
    records.read(few, lessons[0])
    records.attempt(few, lessons[0])
    many = records.employee()
    for lesson in lessons[:5]:
        records.read(many, lesson)
        records.attempt(many, lesson, correct=False)
        records.attempt(many, lesson)
    client.get(f"/hr/employees/{few.id}")  # warm up

    counts = []
    for user_id in (few.id, many.id):
        db.session.expunge_all()  # nothing cached from building the data
        with count_queries() as statements:
            assert client.get(f"/hr/employees/{user_id}").status_code == 200
        counts.append(len(statements))

    assert counts[0] == counts[1]
    assert counts[0] <= 12


def test_attempt_view_shows_answers_key_and_feedback(client, hr, records, lessons):
    user = records.employee(name="钱七")
    attempt = records.attempt(user, lessons[0], correct=[False])

    response = client.get(f"/hr/attempts/{attempt.id}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "钱七" in html
    assert lessons[0].title in html
    assert "✘ 答错" in html
    assert "✔ 答对" in html
    assert "正确答案" in html or "正确顺序" in html
    assert 'class="feedback"' in html
    total = attempt.submission.total
    needed = -(-total * 4 // 5)
    assert f"需答对 {total} 题中的 {needed} 题（80%）" in html
    assert "<form" not in html[html.index("<main") :]  # read-only


def test_unsubmitted_attempt_view_shows_the_questions(client, hr, records, lessons):
    attempt = records.attempt(records.employee(), lessons[0], submit=False)

    html = client.get(f"/hr/attempts/{attempt.id}").get_data(as_text=True)

    assert "未提交" in html
    assert "第 1 题" in html


@pytest.mark.parametrize("attempts", [0, 3])
def test_employee_page_includes_the_actions_partial_when_present(
    client, hr, records, lessons, attempts
):
    user = records.employee()
    for _ in range(attempts):
        records.attempt(user, lessons[1])

    response = client.get(f"/hr/employees/{user.id}")

    assert response.status_code == 200


def test_employee_page_shows_the_language_of_their_e_mails(client, hr, records):
    unset = records.employee(employee_no="L100")
    english = records.employee(employee_no="L101")
    english.locale = "en"
    db.session.commit()
    assert "未指定（邮件用中文）" in client.get(f"/hr/employees/{unset.id}").get_data(as_text=True)
    html = client.get(f"/hr/employees/{english.id}").get_data(as_text=True)
    assert "<dd>English</dd>" in html
