"""HR edits an employee on a form: each change audited with before/after; a new hire date moves an
unfinished onboarding due date; deactivation asks first; imports set managers and show due dates.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from tests.employees.conftest import make_csv
from training.assignments.models import Assignment
from training.assignments.services import current_assignments
from training.audit.models import AuditEvent
from training.auth.models import PasswordLink, Role, User
from training.db import company_today
from training.employees import services
from training.extensions import db

HEADER = ["工号", "姓名", "部门", "入职日期", "邮箱", "岗位", "角色", "负责部门"]


def _new(no="N100", hire=None, role=Role.LEARNER, **fields):
    account = services.create_employee(
        employee_no=no,
        name=fields.pop("name", "新人"),
        department=fields.pop("department", "客服部"),
        hire_date=hire or company_today(),
        role=role,
        **fields,
    )
    db.session.commit()
    return account.user


def _form(user: User, **changes) -> dict[str, str]:
    values = {
        "name": user.name,
        "department": user.department,
        "position": user.position,
        "hire_date": user.hire_date.isoformat() if user.hire_date else "",
        "email": user.email,
        "role": Role(user.role).value,
        "managed": "、".join(user.departments_managed),
        "locale": user.locale or "",
    }
    return values | changes


def test_hr_edits_an_employee_and_each_change_is_audited_with_before_and_after(client, hr):
    user = _new()
    page = client.get(f"/hr/employees/{user.id}/edit").get_data(as_text=True)
    assert 'value="新人"' in page
    response = client.post(
        f"/hr/employees/{user.id}/edit",
        data=_form(user, name="新人甲", department="销售部", email="x@example.com"),
        follow_redirects=True,
    )
    assert "已保存：姓名、部门和邮箱" in response.get_data(as_text=True)
    db.session.rollback()
    user = db.session.get(User, user.id)
    assert (user.name, user.department, user.email) == ("新人甲", "销售部", "x@example.com")
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.update").order_by(AuditEvent.id.desc())
    )
    assert event.details["changes"] == {
        "name": ["新人", "新人甲"],
        "department": ["客服部", "销售部"],
        "email": ["", "x@example.com"],
    }
    # Several fields: the summary says how many (which ones are in the details).
    assert event.summary_text == f"修改员工 新人甲（{user.employee_no}）的 3 项信息"
    assert event.actor_id == hr.id


def test_a_new_hire_date_moves_an_unfinished_onboarding_due_date_and_says_so(client, hr, app):
    hire = company_today()
    user = _new(hire=hire)
    before = current_assignments([user.id])[user.id].due_date
    later = hire + timedelta(days=10)
    response = client.post(
        f"/hr/employees/{user.id}/edit",
        data=_form(user, hire_date=later.isoformat()),
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    after = later + timedelta(days=app.config["ONBOARDING_DAYS"])
    assert f"培训截止日期随之从 {before.isoformat()} 改为 {after.isoformat()}" in text
    db.session.rollback()
    assert current_assignments([user.id])[user.id].due_date == after
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    update, moved = events[-2:]
    # One field: named in the summary as a term, translated when the log is read.
    assert update.summary == "修改员工 %(name)s（%(employee_no)s）：%(field)s"
    assert update.details["summary_params"]["field"] == {"t": "入职日期"}
    assert update.summary_text == f"修改员工 {user.name}（{user.employee_no}）：入职日期"
    assert moved.summary_text == (
        f"入职日期修改，{user.name}（{user.employee_no}）的培训截止日期"
        f"从 {before.isoformat()} 改为 {after.isoformat()}"
    )
    # Both due dates stay on record.
    assert (
        len(db.session.scalars(select(Assignment).where(Assignment.user_id == user.id)).all()) == 2
    )


def test_a_due_date_hr_set_by_hand_stays_when_the_hire_date_changes(client, hr):
    user = _new()
    services.assign_employee(user, date(2030, 1, 1))
    db.session.commit()
    client.post(
        f"/hr/employees/{user.id}/edit",
        data=_form(user, hire_date=(company_today() - timedelta(days=3)).isoformat()),
    )
    db.session.rollback()
    assert current_assignments([user.id])[user.id].due_date == date(2030, 1, 1)


def test_hr_makes_someone_a_manager_of_departments(client, hr):
    user = _new(no="N200")
    missing = client.post(f"/hr/employees/{user.id}/edit", data=_form(user, role="manager"))
    assert "部门负责人须填写负责部门" in missing.get_data(as_text=True)
    client.post(
        f"/hr/employees/{user.id}/edit", data=_form(user, role="manager", managed="销售部、客服部")
    )
    db.session.rollback()
    user = db.session.get(User, user.id)
    assert user.role == Role.MANAGER
    assert user.departments_managed == ("客服部", "销售部")
    client.post(f"/hr/employees/{user.id}/edit", data=_form(user, role="learner"))
    db.session.rollback()
    assert db.session.get(User, user.id).departments_managed == ()


def test_hr_cannot_take_away_their_own_hr_role(client, hr):
    response = client.post(f"/hr/employees/{hr.id}/edit", data=_form(hr, role="learner"))
    assert "不能取消自己的人事角色" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, hr.id).role == Role.HR


def test_hr_sets_an_employees_language_and_it_is_audited(client, hr):
    user = _new(no="N310")
    page = client.get(f"/hr/employees/{user.id}/edit").get_data(as_text=True)
    assert '<option selected value="">' in page  # nothing chosen yet
    response = client.post(
        f"/hr/employees/{user.id}/edit", data=_form(user, locale="en"), follow_redirects=True
    )
    assert "已保存：语言" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, user.id).locale == "en"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.update").order_by(AuditEvent.id.desc())
    )
    assert event.details["changes"] == {"locale": [None, "en"]}
    page = client.get(f"/hr/employees/{user.id}/edit").get_data(as_text=True)
    assert '<option selected value="en">' in page
    # Back to "not chosen"; a language the product does not offer is refused.
    client.post(f"/hr/employees/{user.id}/edit", data=_form(user, locale=""))
    db.session.rollback()
    assert db.session.get(User, user.id).locale is None
    response = client.post(f"/hr/employees/{user.id}/edit", data=_form(user, locale="fr"))
    assert response.status_code == 200
    db.session.rollback()
    assert db.session.get(User, user.id).locale is None


def test_an_unchanged_form_records_nothing(client, hr):
    user = _new(no="N300")
    count = len(db.session.scalars(select(AuditEvent)).all())
    response = client.post(f"/hr/employees/{user.id}/edit", data=_form(user), follow_redirects=True)
    assert "没有修改任何内容" in response.get_data(as_text=True)
    db.session.rollback()
    assert len(db.session.scalars(select(AuditEvent)).all()) == count


def test_deactivation_asks_first_and_says_what_happens_to_links(client, hr):
    user = _new(no="N400")
    page = client.get(f"/hr/employees/{user.id}/deactivate").get_data(as_text=True)
    assert "确认停用" in page
    assert 'data-links="1"' in page
    assert "1 条尚未使用的设置/重置密码链接将作废" in page
    db.session.rollback()
    assert db.session.get(User, user.id).active  # asking changed nothing
    client.post(f"/hr/employees/{user.id}/deactivate")
    reactivated = client.post(f"/hr/employees/{user.id}/reactivate", follow_redirects=True)
    text = reactivated.get_data(as_text=True)
    assert "停用时所有未使用的密码链接都已作废" in text
    assert "发放设置密码链接" in text
    db.session.rollback()
    assert all(
        link.revoked_at is not None
        for link in db.session.scalars(select(PasswordLink).where(PasswordLink.user_id == user.id))
    )


def _preview(client, upload, rows, header=HEADER):
    return upload(make_csv(rows, header=header)).get_data(as_text=True)


def test_import_sets_managers_from_the_role_and_departments_columns(client, hr, upload):
    html = _preview(
        client,
        upload,
        [
            ["M001", "王经理", "销售部", "2026-11-01", "", "", "部门负责人", "销售部、客服部"],
            ["M002", "赵一", "销售部", "2026-11-01", "", "", "员工", ""],
        ],
    )
    upload_id = re.search(r'name="upload_id" type="hidden" value="([^"]+)"', html).group(1)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', html).group(1)
    client.post(
        "/hr/employees/import/confirm", data={"upload_id": upload_id, "fingerprint": fingerprint}
    )
    db.session.rollback()
    manager = db.session.scalar(select(User).where(User.employee_no == "M001"))
    assert manager.role == Role.MANAGER
    assert manager.departments_managed == ("客服部", "销售部")
    assert current_assignments([manager.id]) == {}  # a manager is not assigned on hire


def test_import_refuses_departments_for_a_non_manager_and_a_manager_without_any(client, hr, upload):
    html = _preview(
        client,
        upload,
        [
            ["M003", "钱二", "销售部", "2026-11-01", "", "", "员工", "销售部"],
            ["M004", "孙三", "销售部", "2026-11-01", "", "", "部门负责人", ""],
        ],
    )
    assert "只有部门负责人才填写负责部门" in html
    assert "部门负责人须填写负责部门" in html


def test_the_preview_shows_due_dates_warns_when_past_and_offers_the_grace_rule(
    client, hr, upload, app
):
    old = company_today() - timedelta(days=60)
    html = _preview(
        client,
        upload,
        [
            ["P001", "老员工", "销售部", old.isoformat(), "", "", "", ""],
            ["P002", "新员工", "销售部", company_today().isoformat(), "", "", "", ""],
        ],
    )
    strict_due = old + timedelta(days=app.config["ONBOARDING_DAYS"])
    assert strict_due.isoformat() in html
    assert 'data-late="1"' in html
    assert "导入后会立即显示为逾期" in html
    upload_id = re.search(r'name="upload_id" type="hidden" value="([^"]+)"', html).group(1)
    grace = client.get(f"/hr/employees/import/{upload_id}/preview?policy=grace").get_data(
        as_text=True
    )
    grace_due = company_today() + timedelta(days=app.config["ONBOARDING_GRACE_DAYS"])
    assert grace_due.isoformat() in grace
    assert "data-late" not in grace
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', grace).group(1)
    assert 'name="policy" type="hidden" value="grace"' in grace
    client.post(
        "/hr/employees/import/confirm",
        data={"upload_id": upload_id, "fingerprint": fingerprint, "policy": "grace"},
    )
    db.session.rollback()
    veteran = db.session.scalar(select(User).where(User.employee_no == "P001"))
    assert current_assignments([veteran.id])[veteran.id].due_date == grace_due
