"""Every kind of notification, from the event that causes it to a mail in the real SMTP server.

Invitations, reminders and HR's digest have their own files; here are the retraining notice,
a reminder sent by hand, the manager's digest and the recertification reminder, each caused the
way the product causes it (a CLI publish, an HR click, the sender's daily plan).
"""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import AuthActions
from tests.notifications.conftest import html_of, text_of
from training.auth.models import ManagedDepartment, Role
from training.course.certificates import certificate_code
from training.course.models import Certificate
from training.course.versions import current_norm_version
from training.db import company_today, utcnow
from training.extensions import db
from training.notifications import planner

ONE_CLAUSE = ("一般不得超过三声", "一般不得超过两声")


def _client(app, user):
    client = app.test_client()
    assert AuthActions(client).login(user.employee_no).status_code == 302
    return client


def test_a_published_revision_mails_the_retraining_notice_once(
    mail_app, smtp, send, runner, lessons, revised, create_user, complete_lessons
):
    learner = create_user(name="全完成", email="done@example.com")
    complete_lessons(learner, [lesson.number for lesson in lessons])
    today = company_today().isoformat()
    result = runner.invoke(
        args=["content", "import-norm", str(revised(ONE_CLAUSE)), "--label", "2027 修订"]
        + ["--effective", today, "--publish"]
    )
    assert result.exit_code == 0, result.output
    assert send().exit_code == 0
    assert send().exit_code == 0  # a rerun sends nothing again
    [notice] = smtp.mailbox.to("done@example.com")
    due = (company_today() + timedelta(days=mail_app.config["RETRAIN_DAYS"])).isoformat()
    assert f"请在 {due} 前重新学习" in notice["Subject"]
    body = text_of(notice)
    assert "4.2 外部服务的方式" in body
    assert "1.1" not in body.split("4.2 外部服务的方式")[0]  # only the changed lesson is listed
    assert mail_app.config["BASE_URL"] in body
    assert "4.2 外部服务的方式" in html_of(notice)


def test_a_reminder_sent_by_hand_arrives_with_the_senders_name(
    mail_app, smtp, send, create_user, records, lessons
):
    hr = create_user(role=Role.HR, name="人事小王")
    late = records.employee(
        employee_no="N1", due=company_today() - timedelta(days=2), email="n1@example.com"
    )
    client = _client(mail_app, hr)
    assert client.post(f"/hr/notifications/nudge/{late.id}").status_code == 302
    assert send().exit_code == 0
    [message] = [m for m in smtp.mailbox.to("n1@example.com") if "提醒" in m["Subject"]]
    assert "人事小王" in text_of(message)
    assert (company_today() - timedelta(days=2)).isoformat() in text_of(message)


def test_a_manager_gets_the_weekly_digest_of_their_department_only(
    mail_app, smtp, send, create_user, records, lessons
):
    mail_app.config["NOTIFY_DIGEST_WEEKDAY"] = 1  # every day of the week has reached Monday
    manager = create_user(
        role=Role.MANAGER, name="销售负责人", department="销售部", email="boss@example.com"
    )
    manager.managed.append(ManagedDepartment(department="销售部"))
    db.session.commit()
    overdue = company_today() - timedelta(days=3)
    mine = records.employee(employee_no="S9", name="销售员", department="销售部", due=overdue)
    theirs = records.employee(employee_no="T9", name="技术员", department="技术部", due=overdue)
    assert send().exit_code == 0
    assert send().exit_code == 0
    [digest] = smtp.mailbox.to("boss@example.com")
    week = planner.iso_week(company_today())
    assert digest["Subject"] == f"【服务规范培训】销售部服务规范培训周报（{week}）"
    body = text_of(digest)
    assert f"{mine.employee_no} {mine.name}（销售部）" in body
    assert theirs.employee_no not in body
    assert "已逾期 1 人" in body


def test_an_expired_certificate_brings_a_refresher_reminder(
    mail_app, smtp, send, create_user, records, lessons
):
    mail_app.config["RECERTIFY_DAYS"] = 365
    user = create_user(name="老员工", email="old@example.com")
    db.session.add(
        Certificate(
            user_id=user.id,
            source_sha256=current_norm_version().source_sha256,
            norm_title="公司服务规范",
            code=certificate_code(),
            issued_at=utcnow() - timedelta(days=400),
        )
    )
    db.session.commit()
    records.complete(user, lessons)
    assert send().exit_code == 0
    assert send().exit_code == 0
    [message] = smtp.mailbox.to("old@example.com")
    assert "证书已过期" in message["Subject"]
    body = text_of(message)
    assert "请完成一次复训测验" in body
    assert f"{mail_app.config['BASE_URL']}/refresher/" in body
