"""Reminders before, on and after the due date, and the weekly digests, through real servers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.notifications.conftest import html_of, text_of
from training.auth.models import Role
from training.db import company_today
from training.employees import services
from training.extensions import db
from training.notifications import channels, outbox, planner
from training.notifications.models import DepartmentWebhook, Notification


def _employee(no: str, *, due_in: int, email: str | None = None, department: str = "客服部"):
    """Create an employee whose onboarding is due ``due_in`` days from today."""
    hire = company_today() + timedelta(days=due_in) - timedelta(days=14)
    account = services.create_employee(
        employee_no=no,
        name=f"员工{no}",
        department=department,
        hire_date=hire,
        email=email if email is not None else f"{no.lower()}@example.com",
    )
    db.session.commit()
    return account.user


def _plan(day):
    report = planner.plan(day)
    db.session.commit()
    return report


@pytest.mark.parametrize(
    ("offset", "stage"),
    [
        (8, None),
        (7, "before:7"),
        (3, "before:7"),
        (1, "before:1"),
        (0, "due"),
        (-1, "overdue:1"),
        (-7, "overdue:1"),
        (-8, "overdue:8"),
        (-15, "overdue:15"),
    ],
)
def test_the_reminder_stage_follows_the_settings(app, offset, stage):
    today = company_today()
    assert planner.reminder_stage(today + timedelta(days=offset), today) == stage


def test_each_stage_is_mailed_once_with_progress_and_a_link(app, smtp, send, lessons):
    user = _employee("R0001", due_in=7)
    today = company_today()
    assert _plan(today).queued == [f"reminder:{user.id}:{(today + timedelta(days=7))}:before:7"]
    assert _plan(today).queued == []  # planned twice the same day: nothing new
    assert send().exit_code == 0
    reminders = [m for m in smtp.mailbox.to("r0001@example.com") if "到期" in m["Subject"]]
    [message] = reminders
    due = (today + timedelta(days=7)).isoformat()
    assert message["Subject"] == f"【服务规范培训】服务规范培训将于 {due} 到期"
    body = text_of(message)
    assert f"请在 {due} 前完成（还有 7 天）" in body
    assert f"您已完成 0 / {len(lessons)} 课" in body
    assert f"打开培训：{app.config['BASE_URL']}/" in body
    assert lessons[0].title in html_of(message)

    # Six days later the next stage is due, then on the day, then overdue weekly.
    assert _plan(today + timedelta(days=6)).queued[0].endswith(":before:1")
    assert _plan(today + timedelta(days=7)).queued[0].endswith(":due")
    assert _plan(today + timedelta(days=8)).queued[0].endswith(":overdue:1")
    assert _plan(today + timedelta(days=10)).queued == []
    assert _plan(today + timedelta(days=15)).queued[0].endswith(":overdue:8")
    outbox.send_due(channels.deliver)
    subjects = [m["Subject"] for m in smtp.mailbox.to("r0001@example.com")]
    assert "【服务规范培训】服务规范培训今天到期" in subjects
    assert "【服务规范培训】服务规范培训已逾期 1 天" in subjects
    assert "【服务规范培训】服务规范培训已逾期 8 天" in subjects
    assert len(subjects) == 6  # the invitation and five reminders


def test_a_sender_that_missed_days_sends_the_current_stage_only(app, smtp, lessons):
    user = _employee("R0002", due_in=-20)
    queued = _plan(company_today()).queued
    assert queued == [f"reminder:{user.id}:{company_today() - timedelta(days=20)}:overdue:15"]


def test_no_reminder_for_those_without_an_address_or_finished(app, smtp, lessons):
    _employee("R0003", due_in=1, email="")
    assert _plan(company_today()).queued == []


def test_reminders_can_be_turned_off(app, lessons):
    _employee("R0004", due_in=-3)
    app.config["NOTIFY_OVERDUE_EVERY_DAYS"] = 0
    assert _plan(company_today()).queued == []


def test_hr_gets_a_weekly_digest_once(app, smtp, create_user, lessons):
    app.config["NOTIFY_DIGEST_WEEKDAY"] = 1
    create_user(role=Role.HR, name="人事甲", email="hr@example.com")
    late = _employee("D0001", due_in=-3, email="")
    today = company_today()
    queued = _plan(today).queued
    week = planner.iso_week(today)
    assert [key for key in queued if key.startswith("hr_digest")] == [f"hr_digest:1:{week}"]
    assert not any(key.startswith("hr_digest") for key in _plan(today).queued)
    outbox.send_due(channels.deliver)
    [digest] = smtp.mailbox.to("hr@example.com")
    assert digest["Subject"] == f"【服务规范培训】全公司服务规范培训周报（{week}）"
    body = text_of(digest)
    assert "已逾期 1 人" in body
    assert f"{late.employee_no} {late.name}（客服部）" in body
    assert "/hr/employees?status=overdue" in body
    # A copy of the evidence chains' heads, as they stood when the digest was planned.
    assert "培训记录防篡改指纹" in body
    assert re.search(r"audit_events #\d+ [0-9a-f]{64}", body)


def test_no_digest_before_the_digest_weekday(app, create_user, lessons):
    create_user(role=Role.HR, name="人事甲", email="hr@example.com")
    app.config["NOTIFY_DIGEST_WEEKDAY"] = company_today().isoweekday() + 1
    if app.config["NOTIFY_DIGEST_WEEKDAY"] > 7:
        pytest.skip("today is Sunday: every weekday has come")
    assert _plan(company_today()).queued == []


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("wecom", lambda body: body["msgtype"] == "markdown" and "客服部" in body["markdown"]["content"]),
        ("dingtalk", lambda body: body["msgtype"] == "markdown" and body["markdown"]["title"].startswith("客服部")),
        ("feishu", lambda body: body["msg_type"] == "text" and "客服部" in body["content"]["text"]),
    ],
)  # fmt: skip
def test_a_department_robot_gets_its_digest(app, robot, kind, check, lessons):
    app.config["NOTIFY_DIGEST_WEEKDAY"] = 1
    _employee("W0001", due_in=-2, email="", department="客服部")
    _employee("W0002", due_in=-2, email="", department="销售部")
    db.session.add(DepartmentWebhook(department="客服部", kind=kind, url=robot.url))
    db.session.commit()
    _plan(company_today())
    stored = db.session.scalar(select(Notification).where(Notification.channel == "webhook"))
    assert stored.address == "robot:客服部"  # the robot's key stays out of the evidence
    assert outbox.send_due(channels.deliver).sent == 1
    [body] = robot.received
    assert check(body)
    text = str(body)
    assert "W0001" in text
    assert "W0002" not in text  # another department's people


def test_a_robot_that_refuses_is_a_failure_with_its_message(app, robot, lessons):
    app.config["NOTIFY_DIGEST_WEEKDAY"] = 1
    robot.reply = {"errcode": 93000, "errmsg": "invalid webhook url"}
    _employee("W0003", due_in=-2, email="")
    db.session.add(DepartmentWebhook(department="客服部", kind="wecom", url=robot.url))
    db.session.commit()
    _plan(company_today())
    report = outbox.send_due(channels.deliver)
    assert report.failed == 1
    assert "客服部 的群机器人拒收：93000 invalid webhook url" in report.errors[0]
