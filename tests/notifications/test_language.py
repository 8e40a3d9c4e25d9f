"""Each message is written in its recipient's language, whoever's request or command causes it.

A user who chose English (``users.locale``) gets English mail; one who chose nothing gets the
company's default, Chinese — also when an English-reading HR clicks, and when the daily sender
(`flask notify send`) writes it outside any request. Content (names, lessons, departments, the
company's name) stays as it is.
"""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import AuthActions
from tests.notifications.conftest import html_of, text_of
from training.auth.models import ManagedDepartment, Role
from training.db import company_today
from training.extensions import db
from training.notifications import planner


def _client(app, user):
    client = app.test_client()
    assert AuthActions(client).login(user.employee_no).status_code == 302
    return client


def test_the_daily_reminder_is_in_each_recipients_language(mail_app, smtp, send, records, lessons):
    due = company_today() + timedelta(days=7)
    english = records.employee(
        employee_no="L1", name="林英", email="en@example.com", locale="en", due=due
    )
    records.employee(employee_no="L2", name="林中", email="zh@example.com", due=due)
    result = send()
    assert result.exit_code == 0, result.output
    base = mail_app.config["BASE_URL"]

    [message] = smtp.mailbox.to("en@example.com")
    assert message["Subject"] == f"[服务规范培训] Your service norm training is due on {due}"
    body = text_of(message)
    assert body.startswith(f"Hello {english.name},")
    assert f"Please complete your service norm training by {due} (7 days left)." in body
    assert f"You have completed 0 / {len(lessons)} lessons. The lessons:" in body
    assert f"{lessons[0].number} {lessons[0].title}" in body  # the lessons are content
    assert f"Open the training: {base}/" in body
    assert "您好" not in body
    html = html_of(message)
    assert f"by <strong>{due}</strong> (7 days left)" in html
    assert ">Open the training</a>" in html

    [message] = smtp.mailbox.to("zh@example.com")
    assert message["Subject"] == f"【服务规范培训】服务规范培训将于 {due} 到期"
    body = text_of(message)
    assert body.startswith("林中，您好：")
    assert f"您的服务规范培训请在 {due} 前完成（还有 7 天）。" in body
    assert f"打开培训：{base}/" in body
    assert "Open the training" not in html_of(message)


def test_an_english_hrs_click_mails_each_employee_in_their_own_language(
    mail_app, smtp, send, create_user, records, lessons
):
    hr = create_user(role=Role.HR, name="人事小王", department="人事行政部", locale="en")
    late = company_today() - timedelta(days=2)
    english = records.employee(
        employee_no="N1", name="英文", email="n1@example.com", locale="en", due=late
    )
    chinese = records.employee(employee_no="N2", name="中文", email="n2@example.com", due=late)
    client = _client(mail_app, hr)
    for user in (english, chinese):
        assert client.post(f"/hr/notifications/nudge/{user.id}").status_code == 302
    assert send().exit_code == 0

    [message] = [m for m in smtp.mailbox.to("n1@example.com") if "人事小王" in m["Subject"]]
    assert message["Subject"] == (
        "[服务规范培训] 人事小王 reminds you to complete your service norm training"
    )
    assert (
        f"人事小王 (人事行政部) reminds you to complete your service norm training, due {late}."
        in text_of(message)
    )

    [message] = [m for m in smtp.mailbox.to("n2@example.com") if "人事小王" in m["Subject"]]
    assert message["Subject"] == "【服务规范培训】人事小王提醒您完成服务规范培训"
    assert f"人事小王（人事行政部）提醒您完成服务规范培训，截止日期是 {late}。" in text_of(message)


def test_a_new_hire_invited_by_an_english_hr_gets_a_chinese_invitation(
    mail_app, smtp, send, create_user, lessons
):
    hr = create_user(role=Role.HR, name="人事甲", locale="en")
    client = _client(mail_app, hr)
    response = client.post(
        "/hr/employees/new",
        data={
            "employee_no": "N0009",
            "name": "新人",
            "department": "客服部",
            "hire_date": company_today().isoformat(),
            "email": "new@example.com",
            "role": "learner",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert send().exit_code == 0
    [message] = smtp.mailbox.to("new@example.com")
    assert message["Subject"] == "【服务规范培训】请设置密码，开始《公司服务规范》入职培训"
    assert text_of(message).startswith("新人，您好：")


def test_an_english_managers_weekly_digest_is_in_english(
    mail_app, smtp, send, create_user, records, lessons
):
    mail_app.config["NOTIFY_DIGEST_WEEKDAY"] = 1  # every day of the week has reached Monday
    manager = create_user(
        role=Role.MANAGER,
        name="销售负责人",
        department="销售部",
        email="boss@example.com",
        locale="en",
    )
    manager.managed.append(ManagedDepartment(department="销售部"))
    manager.managed.append(ManagedDepartment(department="客服部"))
    db.session.commit()
    overdue = company_today() - timedelta(days=3)
    late = records.employee(employee_no="S9", name="销售员", department="销售部", due=overdue)
    assert send().exit_code == 0
    [digest] = smtp.mailbox.to("boss@example.com")
    week = planner.iso_week(company_today())
    # The departments are listed in English too ("A and B", not 「A、B」).
    departments = {"客服部 and 销售部", "销售部 and 客服部"}
    [title] = [
        f"Weekly service norm training report: {names}"
        for names in departments
        if names in digest["Subject"]
    ]
    assert digest["Subject"] == f"[服务规范培训] {title} ({week})"
    body = text_of(digest)
    assert body.startswith("Hello 销售负责人,")
    assert f"{title} ({week}): " in body
    assert " overdue." in body
    assert f"{late.employee_no} {late.name} (销售部), due {overdue}, 0 / " in body
    assert "<th>Employee no.</th>" in html_of(digest)


def test_one_day_is_one_day_in_english(mail_app, smtp, send, records, lessons):
    """Counts take the plural form of their language: "1 day left", "1 day overdue"."""
    soon = company_today() + timedelta(days=1)
    late = company_today() - timedelta(days=1)
    records.employee(employee_no="L7", name="一天", email="soon@example.com", locale="en", due=soon)
    records.employee(employee_no="L8", name="逾期", email="late@example.com", locale="en", due=late)
    result = send()
    assert result.exit_code == 0, result.output
    [message] = smtp.mailbox.to("soon@example.com")
    assert f"by {soon} (1 day left)." in text_of(message)
    [message] = smtp.mailbox.to("late@example.com")
    assert message["Subject"].endswith("Your service norm training is 1 day overdue")
    assert "is 1 day overdue." in text_of(message)
