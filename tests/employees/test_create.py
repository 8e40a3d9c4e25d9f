"""HR creates one employee: no password, the onboarding course, a setup link shown once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from training.assignments.models import Assignment
from training.audit.models import AuditEvent
from training.auth.models import PasswordLink, Role, User
from training.extensions import db

FORM = {
    "employee_no": "E2001",
    "name": "王小明",
    "department": "客服部",
    "hire_date": "2024-05-06",
    "email": "wang@example.com",
    "position": "客服专员",
    "role": "learner",
}


def test_create_form_renders_for_hr(client, hr):
    page = client.get("/hr/employees/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "新建员工" in html
    assert 'name="hire_date"' in html
    # The link to the import is a part of the sentence (one message for translators).
    assert '批量新建请使用<a href="/hr/employees/import">导入员工</a>。' in html


def test_create_employee_assigns_course_and_shows_link_once(app, client, hr):
    response = client.post("/hr/employees/new", data=FORM)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "员工已创建" in html
    assert "http://localhost/set-password/" in html
    assert "readonly" in html
    user = db.session.scalar(select(User).where(User.employee_no == "E2001"))
    assert (user.name, user.department, user.position, user.email) == (
        "王小明",
        "客服部",
        "客服专员",
        "wang@example.com",
    )
    assert user.hire_date == date(2024, 5, 6)
    assert user.role == Role.LEARNER
    assert user.password_hash is None
    assert user.active is True
    assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == user.id))
    assert assignment.reason == "hire"
    assert assignment.due_date == date(2024, 5, 6) + timedelta(days=app.config["ONBOARDING_DAYS"])
    assert assignment.assigned_by_id == hr.id
    link = db.session.scalar(select(PasswordLink).where(PasswordLink.user_id == user.id))
    assert link.purpose == "setup"
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["user.create", "link.setup"]
    summaries = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [event.summary_text for event in summaries] == [
        "创建员工 王小明（E2001）",
        "为 王小明（E2001）发放设置密码链接",
    ]
    # The link page is not reachable again: there is nothing to GET that shows it.
    assert "set-password" not in client.get("/hr/employees/new").get_data(as_text=True)


def test_created_employee_can_set_a_password_with_the_link(client, hr):
    html = client.post("/hr/employees/new", data=FORM).get_data(as_text=True)
    token = html.split("/set-password/")[1].split('"')[0]
    client.post("/logout")
    response = client.post(
        f"/set-password/{token}",
        data={"new_password": "Sunny-Harbour-58", "confirm": "Sunny-Harbour-58"},
    )
    assert response.headers["Location"] == "/login?employee_no=E2001"
    login = client.post("/login", data={"employee_no": "E2001", "password": "Sunny-Harbour-58"})
    assert login.headers["Location"] == "/"


def test_hr_role_can_be_chosen(client, hr):
    client.post("/hr/employees/new", data=FORM | {"role": "hr"})
    assert db.session.scalar(select(User.role).where(User.employee_no == "E2001")) == Role.HR


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"employee_no": ""}, "请输入工号。"),
        ({"employee_no": "E 2001"}, "工号只能包含字母、数字、短横线和下划线。"),
        ({"employee_no": "E" * 33}, "工号最多 32 个字符。"),
        ({"name": "  "}, "请输入姓名。"),
        ({"department": ""}, "请输入部门。"),
        ({"hire_date": ""}, "请选择有效的入职日期。"),
        ({"hire_date": "2024-02-30"}, "请选择有效的入职日期。"),
        ({"hire_date": "1800-01-01"}, "入职日期不合理。"),
        ({"email": "not-an-email"}, "邮箱格式不正确。"),
        ({"role": "admin"}, "不是有效的选择"),
    ],
)
def test_bad_input_is_refused_with_a_message(client, hr, changes, message):
    response = client.post("/hr/employees/new", data=FORM | changes)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1  # only HR
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("employee_no", ["E2001", "e2001"])
def test_taken_employee_no_is_refused(client, hr, create_user, employee_no):
    create_user(employee_no="E2001")
    response = client.post("/hr/employees/new", data=FORM | {"employee_no": employee_no})
    assert "工号 E2001 已存在。" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_a_new_hire_whose_language_hr_chose_is_invited_in_it(client, hr):
    from training.notifications.models import Notification

    client.post("/hr/employees/new", data=FORM | {"locale": "en"})
    client.post(
        "/hr/employees/new", data=FORM | {"employee_no": "E2002", "email": "li@example.com"}
    )
    db.session.rollback()
    english = db.session.scalar(select(User).where(User.employee_no == "E2001"))
    chinese = db.session.scalar(select(User).where(User.employee_no == "E2002"))
    assert (english.locale, chinese.locale) == ("en", None)
    subjects = {n.user_id: n.subject for n in db.session.scalars(select(Notification)).all()}
    assert "Set your password" in subjects[english.id], subjects[english.id]
    assert "请设置密码" in subjects[chinese.id], subjects[chinese.id]
    created = {
        e.target_user_id: e.details
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create"))
    }
    assert (created[english.id]["locale"], created[chinese.id]["locale"]) == ("en", None)


def test_optional_fields_may_be_empty(client, hr):
    client.post("/hr/employees/new", data=FORM | {"email": "", "position": ""})
    user = db.session.scalar(select(User).where(User.employee_no == "E2001"))
    assert (user.email, user.position) == ("", "")


def test_a_first_sign_in_through_the_directory_is_audited_with_its_source_as_a_term(
    app, create_user
):
    from training.employees import provisioning

    user = create_user(employee_no="E3001", name="赵六")
    provisioning._on_provisioned(user=user, source="ldap")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.provision"))
    assert event.details["summary_params"]["source"] == {"t": "公司目录"}
    assert event.summary_text == "公司目录首次登录，自动创建员工 赵六（E3001）"
