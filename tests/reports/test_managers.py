"""A department head sees their own departments and nothing else, and can send a reminder now."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import AuthActions
from training.audit.models import AuditEvent
from training.auth.models import ManagedDepartment, Role
from training.extensions import db
from training.notifications.models import Notification


def _manager(create_user, *departments, **fields):
    manager = create_user(role=Role.MANAGER, name="负责人", department=departments[0], **fields)
    for name in departments:
        manager.managed.append(ManagedDepartment(department=name))
    db.session.commit()
    return manager


def _numbers(html: str) -> list[str]:
    """Return the 工号 of the listed rows in order."""
    body = html[html.index("<tbody>") : html.index("</tbody>")] if "<tbody>" in html else ""
    return re.findall(r"<tr data-user=\"\d+\"[^>]*>\s*<td>([^<]+)</td>", body)


def _client(app, user):
    client = app.test_client()
    assert AuthActions(client).login(user.employee_no).status_code == 302
    return client


def test_a_manager_lands_on_their_people_and_sees_only_their_departments(
    app, create_user, records, today
):
    manager = _manager(create_user, "销售部", "客服部")
    records.employee(employee_no="S1", department="销售部", due=today)
    records.employee(employee_no="K1", department="客服部", due=today - timedelta(days=2))
    records.employee(employee_no="T1", department="技术部", due=today)
    client = app.test_client()
    login = AuthActions(client).login(manager.employee_no)
    assert login.headers["Location"] == "/hr/employees"
    page = client.get("/hr/employees").get_data(as_text=True)
    assert sorted(_numbers(page)) == ["K1", "S1"]
    # Asking for another department gives nothing, not that department.
    assert _numbers(client.get("/hr/employees?department=技术部").get_data(as_text=True)) == []
    overdue = client.get("/hr/employees?status=overdue").get_data(as_text=True)
    assert _numbers(overdue) == ["K1"]
    response = client.get("/hr/employees/export.csv")
    export = response.get_data(as_text=True)
    response.close()
    assert "S1" in export
    assert "T1" not in export
    # The department filter offers their departments only.
    assert '<option value="技术部"' not in page


def test_a_manager_reads_their_people_without_hr_details(app, create_user, records, today):
    manager = _manager(create_user, "销售部")
    mine = records.employee(employee_no="S2", department="销售部", due=today)
    theirs = records.employee(employee_no="T2", department="技术部", due=today)
    client = _client(app, manager)
    page = client.get(f"/hr/employees/{mine.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "设置密码链接" not in html  # HR's links section
    assert "操作记录" not in html  # HR's audit trail
    assert "修改信息" not in html
    assert client.get(f"/hr/employees/{theirs.id}").status_code == 404
    for path in ("/hr/", "/hr/audit/", "/hr/notifications/", "/hr/norm/", "/hr/items"):
        assert client.get(path).status_code == 403, path


def test_a_manager_sends_a_reminder_once_a_day_and_it_is_audited(app, create_user, records, today):
    manager = _manager(create_user, "销售部")
    mine = records.employee(
        employee_no="S3", department="销售部", due=today, email="s3@example.com"
    )
    theirs = records.employee(
        employee_no="T3", department="技术部", due=today, email="t3@example.com"
    )
    client = _client(app, manager)
    first = client.post(f"/hr/notifications/nudge/{mine.id}", follow_redirects=True)
    assert "已安排提醒邮件发给" in first.get_data(as_text=True)
    second = client.post(f"/hr/notifications/nudge/{mine.id}", follow_redirects=True)
    assert "今天已经提醒过" in second.get_data(as_text=True)
    assert client.post(f"/hr/notifications/nudge/{theirs.id}").status_code == 404
    db.session.rollback()
    [notice] = db.session.scalars(select(Notification)).all()
    assert notice.kind == "nudge"
    assert notice.address == "s3@example.com"
    assert "负责人" in notice.subject
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "employee.nudge")
    ).all()
    assert [(e.actor_id, e.target_user_id) for e in events] == [(manager.id, mine.id)]


def test_reminders_by_hand_are_capped_per_sender_and_day(app, create_user, records, today):
    app.config["NOTIFY_NUDGES_PER_DAY"] = 2
    manager = _manager(create_user, "销售部")
    people = [
        records.employee(
            employee_no=f"S{n}", department="销售部", due=today, email=f"s{n}@example.com"
        )
        for n in range(10, 13)
    ]
    client = _client(app, manager)
    for person in people[:2]:
        client.post(f"/hr/notifications/nudge/{person.id}")
    capped = client.post(f"/hr/notifications/nudge/{people[2].id}", follow_redirects=True)
    assert "已达上限" in capped.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2


def test_hr_and_managers_not_assigned_are_left_out_of_the_figures(
    client, hr, create_user, records, today
):
    _manager(create_user, "销售部")
    records.employee(employee_no="S4", department="销售部", due=today)
    page = client.get("/hr/").get_data(as_text=True)
    assert re.search(r'data-count="total">1<', page)
    listed = client.get("/hr/employees").get_data(as_text=True)
    assert _numbers(listed) == ["S4"]
    everyone = client.get("/hr/employees?include_staff=y").get_data(as_text=True)
    assert len(_numbers(everyone)) == 3
    assert "未分配培训" in everyone
