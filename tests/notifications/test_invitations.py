"""Invitations end to end: HR creates an employee, `flask notify send` mails the link, it works once."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from tests.conftest import PASSWORD, AuthActions
from tests.notifications.conftest import html_of, text_of
from training.auth.models import PasswordLink, Role, User
from training.course.lessons import active_lessons
from training.db import company_today
from training.employees import services
from training.extensions import db
from training.notifications.models import Delivery, Notification, Outcome, QueueEntry

LINK = re.compile(r"http://[^\s\"<]+/set-password/[A-Za-z0-9_-]+")


def _hr(create_user) -> User:
    return create_user(role=Role.HR, name="人事甲")  # no address: no HR digest in these tests


def test_an_employee_created_by_hr_gets_an_invitation_with_a_link_that_works_once(
    mail_app, smtp, send, create_user, lessons
):
    hr = _hr(create_user)
    client = mail_app.test_client()
    AuthActions(client).login(hr.employee_no)
    hire = company_today()
    response = client.post(
        "/hr/employees/new",
        data={
            "employee_no": "N0001",
            "name": "林晓",
            "department": "客服部",
            "hire_date": hire.isoformat(),
            "email": "lin.xiao@example.com",
            "role": "learner",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "邀请邮件会发送到 lin.xiao@example.com" in page
    db.session.rollback()  # end the test's read snapshot: see what the request wrote
    # Queued with the account, not sent: nothing reached the server yet.
    assert smtp.mailbox.messages == []
    stored = db.session.scalar(select(Notification).where(Notification.kind == "invitation"))
    assert stored is not None
    assert "{secret}" in stored.body_text

    result = send()
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    [message] = smtp.mailbox.to("lin.xiao@example.com")
    assert message["Subject"] == "【服务规范培训】请设置密码，开始《公司服务规范》入职培训"
    assert "服务规范培训" in message["From"]
    assert "training@example.com" in message["From"]
    body = text_of(message)
    assert "林晓，您好" in body
    assert "N0001" in body
    due = (hire + timedelta(days=mail_app.config["ONBOARDING_DAYS"])).isoformat()
    assert f"请在 {due} 前学完以下课程" in body
    for lesson in lessons:
        assert f"{lesson.number} {lesson.title}" in body
    [link] = LINK.findall(body)
    assert link in html_of(message)
    assert link.startswith(mail_app.config["BASE_URL"])

    # The mailed link sets the password once.
    visitor = mail_app.test_client()
    path = link.removeprefix(mail_app.config["BASE_URL"])
    assert visitor.get(path).status_code == 200
    new_password = "Lin-Xiao-2026!"
    answer = visitor.post(path, data={"new_password": new_password, "confirm": new_password})
    assert answer.status_code == 302
    assert AuthActions(visitor).login("N0001", new_password).status_code == 302
    assert mail_app.test_client().get(path).status_code == 404

    # A second run sends nothing more.
    again = send()
    assert again.exit_code == 0, again.output
    assert len(smtp.mailbox.messages) == 1


def test_setting_a_password_through_one_link_revokes_the_other(mail_app, smtp, send, lessons):
    account = services.create_employee(
        employee_no="N0002",
        name="周宁",
        department="客服部",
        hire_date=company_today(),
        email="zhou.ning@example.com",
    )
    db.session.commit()
    assert send().exit_code == 0
    [mailed] = LINK.findall(text_of(smtp.mailbox.to("zhou.ning@example.com")[0]))
    handed = f"/set-password/{account.token}"  # the link HR saw on screen
    client = mail_app.test_client()
    client.post(handed, data={"new_password": PASSWORD, "confirm": PASSWORD})
    path = mailed.removeprefix(mail_app.config["BASE_URL"])
    assert client.get(path).status_code == 404
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(PasswordLink)
            .where(PasswordLink.user_id == account.user.id, PasswordLink.revoked_at.is_(None))
            .where(PasswordLink.used_at.is_(None))
        )
        == 0
    )


def test_an_invitation_to_someone_who_already_set_a_password_is_cancelled(
    mail_app, smtp, send, lessons
):
    account = services.create_employee(
        employee_no="N0003",
        name="钱多",
        department="客服部",
        hire_date=company_today(),
        email="qian@example.com",
    )
    db.session.commit()
    mail_app.test_client().post(
        f"/set-password/{account.token}", data={"new_password": PASSWORD, "confirm": PASSWORD}
    )
    result = send()
    assert result.exit_code == 0, result.output
    assert smtp.mailbox.messages == []
    outcome = db.session.execute(select(Delivery.outcome, Delivery.error)).one()
    assert outcome == (Outcome.CANCELLED, "员工已设置密码，不再发送邀请")
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 0


def test_employees_without_an_email_get_no_invitation(mail_app, smtp, send, lessons):
    services.create_employee(
        employee_no="N0004", name="孙一", department="客服部", hire_date=company_today()
    )
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_an_import_queues_one_invitation_per_address_in_one_statement_for_lessons(
    mail_app, smtp, send, lessons
):
    users = [
        User(
            employee_no=f"M{n:04d}",
            name=f"导入{n}",
            department="销售部",
            hire_date=date(2026, 11, 30),
            email=f"m{n}@example.com" if n % 2 else "",
        )
        for n in range(1, 21)
    ]
    services.create_employees(users, source="import")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 10
    result = send()
    assert result.exit_code == 0, result.output
    assert sorted(m["To"] for m in smtp.mailbox.messages) == sorted(
        f"m{n}@example.com" for n in range(1, 21, 2)
    )
    titles = [lesson.title for lesson in active_lessons()]
    assert all(titles[0] in text_of(m) for m in smtp.mailbox.messages)
