"""HR's notifications page: statuses, errors, retry, cancel, department robots; all audited."""

from __future__ import annotations

import html
import io
import re

import openpyxl
from sqlalchemy import event, func, select

from tests.conftest import AuthActions
from tests.employees.conftest import make_csv
from training.audit.models import AuditEvent
from training.auth.models import Role
from training.extensions import db
from training.notifications import channels, outbox
from training.notifications.models import (
    Channel,
    DepartmentWebhook,
    Kind,
    Notification,
    QueueEntry,
)
from training.notifications.status import counts


def _hr_client(app, create_user):
    hr = create_user(role=Role.HR, name="人事甲")
    client = app.test_client()
    assert AuthActions(client).login(hr.employee_no).status_code == 302
    return client


def _queue(key: str, address: str = "a@example.com") -> Notification:
    outbox.enqueue(
        key, kind=Kind.NUDGE, channel=Channel.EMAIL, address=address, subject="提醒", body_text="b"
    )
    db.session.commit()
    return db.session.scalar(select(Notification).where(Notification.key == key))


def test_the_page_shows_each_status_and_the_error(app, smtp, create_user):
    client = _hr_client(app, create_user)
    _queue("nudge:sent", "sent@example.com")
    outbox.send_due(channels.deliver)
    _queue("nudge:pending", "pending@example.com")
    failing = _queue("nudge:failing", "nobody@refused.example.com")
    smtp.stop()
    outbox.send_due(channels.deliver)
    assert counts()["sent"] == 1
    assert counts()["retrying"] == 2
    page = client.get("/hr/notifications/").get_data(as_text=True)
    assert 'data-notification="nudge:sent" data-status="sent"' in page
    assert 'data-notification="nudge:failing" data-status="retrying"' in page
    assert f"无法通过邮件服务器 127.0.0.1:{smtp.port} 发送" in page
    only_failed = client.get("/hr/notifications/?status=retrying").get_data(as_text=True)
    assert "nudge:sent" not in only_failed
    assert "nudge:failing" in only_failed
    found = client.get("/hr/notifications/?q=refused").get_data(as_text=True)
    assert "nudge:failing" in found
    assert "nudge:pending" not in found
    assert failing.id


def test_hr_cancels_a_queued_notification_once(app, smtp, create_user):
    client = _hr_client(app, create_user)
    notification = _queue("nudge:cancel")
    response = client.post(f"/hr/notifications/{notification.id}/cancel")
    assert response.status_code == 302
    again = client.post(f"/hr/notifications/{notification.id}/cancel", follow_redirects=True)
    assert "无法取消" in again.get_data(as_text=True)
    db.session.rollback()
    assert counts()["cancelled"] == 1
    assert outbox.send_due(channels.deliver).sent == 0
    assert smtp.mailbox.messages == []
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert actions.count("notification.cancel") == 1


def test_hr_sends_a_given_up_notification_again_once(app, smtp, create_user):
    client = _hr_client(app, create_user)
    app.config["NOTIFY_MAX_ATTEMPTS"] = 1
    notification = _queue("nudge:again")
    smtp.stop()
    assert outbox.send_due(channels.deliver).gave_up == 1
    smtp.start()
    for _ in range(2):  # a doubled form queues it once
        assert client.post(f"/hr/notifications/{notification.id}/retry").status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 1
    assert outbox.send_due(channels.deliver).sent == 1
    assert outbox.send_due(channels.deliver).sent == 0
    assert len(smtp.mailbox.messages) == 1
    assert list(db.session.scalars(select(AuditEvent.action))).count("notification.retry") == 1


def test_a_sent_notification_cannot_be_sent_again(app, smtp, create_user):
    client = _hr_client(app, create_user)
    notification = _queue("nudge:done")
    outbox.send_due(channels.deliver)
    client.post(f"/hr/notifications/{notification.id}/retry")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 0


def test_hr_sets_and_removes_a_department_robot_with_the_key_kept_out_of_the_audit(
    app, create_user
):
    client = _hr_client(app, create_user)
    create_user(department="客服部")
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY-123"
    response = client.post(
        "/hr/notifications/robots", data={"department": "客服部", "kind": "wecom", "url": url}
    )
    assert response.status_code == 302
    db.session.rollback()
    robot = db.session.get(DepartmentWebhook, "客服部")
    assert robot.url == url
    page = client.get("/hr/notifications/").get_data(as_text=True)
    assert 'data-robot="客服部"' in page
    assert "SECRET-KEY-123" not in page
    client.post("/hr/notifications/robots/客服部/delete")
    db.session.rollback()
    assert db.session.get(DepartmentWebhook, "客服部") is None
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.action for e in events if e.action.startswith("webhook")] == [
        "webhook.set",
        "webhook.delete",
    ]
    assert all("SECRET-KEY-123" not in str(e.details) for e in events)


def test_a_bad_robot_address_is_refused_with_a_reason(app, create_user):
    client = _hr_client(app, create_user)
    create_user(department="客服部")
    response = client.post(
        "/hr/notifications/robots",
        data={"department": "客服部", "kind": "wecom", "url": "javascript:alert(1)"},
        follow_redirects=True,
    )
    assert "请填写以 https:// 开头的完整地址" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(DepartmentWebhook)) == 0


def test_the_page_says_when_no_mail_server_is_set(make_app, create_user):
    app = make_app(MAIL_SERVER="")
    with app.app_context():
        client = _hr_client(app, create_user)
        page = client.get("/hr/notifications/").get_data(as_text=True)
    assert "data-mail-missing" in page


def test_the_list_page_runs_a_fixed_number_of_statements(app, create_user):
    client = _hr_client(app, create_user)
    for n in range(30):
        _queue(f"nudge:{n}")
    statements = []

    def count(*args):
        statements.append(args[2])

    engine = db.engine
    client.get("/hr/notifications/")  # warm caches
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/hr/notifications/")
        few = len(statements)
        for n in range(30, 60):
            _queue(f"nudge:{n}")
        statements.clear()
        client.get("/hr/notifications/")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == few


def test_an_import_downloads_its_new_links_as_xlsx(app, create_user, tmp_path, monkeypatch):
    client = _hr_client(app, create_user)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    csv = make_csv(
        [
            ["X001", "甲", "客服部", "2026-11-30", "x1@example.com", "", ""],
            ["X002", "=乙", "客服部", "2026-11-30", "", "", ""],
        ]
    )
    preview = client.post(
        "/hr/employees/import",
        data={"file": (io.BytesIO(csv), "staff.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    upload_id = re.search(r'name="upload_id"[^>]*value="([^"]+)"', preview).group(1)
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([^"]+)"', preview).group(1)
    job_page = client.post(
        "/hr/employees/import/confirm", data={"upload_id": upload_id, "fingerprint": fingerprint}
    ).headers["Location"]
    assert "其中 1 人填写了邮箱" in client.get(job_page).get_data(as_text=True)
    done = client.post(f"/hr/employees/import/jobs/{job_page.rsplit('/', 1)[1]}/links").get_data(
        as_text=True
    )
    accounts = re.search(r'name="accounts" value="([^"]*)"', done).group(1)
    response = client.post(
        "/hr/employees/import/links.xlsx", data={"accounts": html.unescape(accounts)}
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("工号", "姓名", "设置密码链接")
    assert [row[:2] for row in rows[1:]] == [("X001", "甲"), ("X002", "'=乙")]
    assert all("/set-password/" in row[2] for row in rows[1:])
    # The links in the file are the ones on the page, and they work.
    path = rows[1][2].removeprefix("http://localhost")
    assert app.test_client().get(path).status_code == 200
    db.session.rollback()
    assert "password_links" in str(
        db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "export"))
    )
    bad = client.post(
        "/hr/employees/import/links.xlsx", data={"accounts": "X001\tbroken"}, follow_redirects=True
    )
    assert "第 1 行不是“工号、姓名、设置密码链接”" in bad.get_data(as_text=True)
