"""HR actions on one employee: links, deactivate/reactivate, assignments; who may use them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from training.assignments.models import Assignment
from training.audit.models import AuditEvent
from training.auth import links
from training.auth.models import PasswordLink, Role, User, UserSession
from training.extensions import db


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _future(days: int = 30) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


HR_ROUTES = [
    ("GET", "/hr/employees/new"),
    ("POST", "/hr/employees/new"),
    ("GET", "/hr/employees/import"),
    ("POST", "/hr/employees/import"),
    ("POST", "/hr/employees/import/confirm"),
    ("GET", "/hr/employees/assign-department"),
    ("POST", "/hr/employees/assign-department"),
    ("POST", "/hr/employees/{id}/links"),
    ("POST", "/hr/employees/{id}/deactivate"),
    ("POST", "/hr/employees/{id}/reactivate"),
    ("POST", "/hr/employees/{id}/assign"),
]


@pytest.mark.parametrize(("method", "path"), HR_ROUTES)
def test_learner_gets_403_on_every_hr_route(client, login_as, create_user, method, path):
    learner = login_as()
    target = create_user()
    response = client.open(path.format(id=target.id), method=method)
    assert response.status_code == 403
    db.session.refresh(learner)
    assert learner.active
    assert _count(AuditEvent) == 0


@pytest.mark.parametrize(("method", "path"), HR_ROUTES)
def test_anonymous_is_redirected_to_login_on_every_hr_route(client, create_user, method, path):
    target = create_user()
    response = client.open(path.format(id=target.id), method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("action", ["links", "deactivate", "reactivate", "assign"])
def test_unknown_employee_is_404(client, hr, action):
    assert client.post(f"/hr/employees/99999/{action}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/hr/employees/new",
        "/hr/employees/assign-department",
        "/hr/employees/{id}/links",
        "/hr/employees/{id}/deactivate",
        "/hr/employees/{id}/assign",
        "/hr/employees/import/confirm",
    ],
)
def test_posts_without_csrf_token_are_refused(make_app, create_user, path):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        hr = create_user(role=Role.HR)
        target = create_user()
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={
                "employee_no": hr.employee_no,
                "password": "Correct-Horse-42",
                "csrf_token": token,
            },
        )
        response = client.post(path.format(id=target.id), data={"due_date": _future()})
        assert response.status_code == 400
        db.session.refresh(target)
        assert target.active
        assert _count(AuditEvent) == 0


def test_deactivation_ends_a_logged_in_session_at_once(make_app, client, hr, create_user):
    employee = create_user()
    theirs = make_app().test_client()  # the employee's own browser
    theirs.post(
        "/login", data={"employee_no": employee.employee_no, "password": "Correct-Horse-42"}
    )
    assert theirs.get("/").status_code == 200
    # The HR client shares this test's session; end its read snapshot as a new request would.
    db.session.rollback()
    response = client.post(f"/hr/employees/{employee.id}/deactivate")
    assert response.status_code == 302
    refused = theirs.get("/")  # the old cookie is refused on the very next request
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/login")
    db.session.refresh(employee)
    assert employee.active is False
    live = _count(UserSession, UserSession.user_id == employee.id, UserSession.revoked_at.is_(None))
    assert live == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.deactivate"))
    assert (event.target_user_id, event.actor_id, event.channel) == (employee.id, hr.id, "web")
    assert event.details == {
        "sessions_ended": 1,
        "links_revoked": 0,
        "notifications_cancelled": 0,
        "summary_params": {"name": employee.name, "employee_no": employee.employee_no},
    }
    assert event.summary == "停用员工 %(name)s（%(employee_no)s）"
    assert event.summary_text == f"停用员工 {employee.name}（{employee.employee_no}）"


def test_deactivated_employee_cannot_log_in_and_keeps_records(client, auth, hr, create_user):
    employee = create_user()
    db.session.add(Assignment(user_id=employee.id, due_date=date(2030, 1, 1), reason="hire"))
    db.session.commit()
    client.post(f"/hr/employees/{employee.id}/deactivate")
    auth.logout()
    response = auth.login(employee.employee_no)
    assert "工号或密码不正确" in response.get_data(as_text=True)
    assert _count(Assignment, Assignment.user_id == employee.id) == 1
    assert db.session.get(User, employee.id) is not None


def test_deactivation_revokes_unused_links(client, hr, create_user):
    employee = create_user()
    token = links.issue_link(employee, "reset")
    db.session.commit()
    client.post(f"/hr/employees/{employee.id}/deactivate")
    assert db.session.scalar(select(PasswordLink.revoked_at)) is not None
    client.post(f"/hr/employees/{employee.id}/reactivate")
    # Reactivation does not bring an old link back.
    assert client.get(f"/set-password/{token}").status_code == 404


def test_hr_cannot_deactivate_themselves(client, hr):
    response = client.post(f"/hr/employees/{hr.id}/deactivate")
    assert response.status_code == 302
    db.session.refresh(hr)
    assert hr.active
    assert _count(AuditEvent) == 0
    assert client.get("/hr/employees/new").status_code == 200


def test_reactivate_lets_the_employee_log_in_again(client, hr, create_user, make_app):
    employee = create_user(active=False)
    response = client.post(f"/hr/employees/{employee.id}/reactivate")
    assert response.status_code == 302
    db.session.refresh(employee)
    assert employee.active
    assert db.session.scalar(select(AuditEvent.action)) == "user.reactivate"
    other = make_app().test_client()
    login = other.post(
        "/login", data={"employee_no": employee.employee_no, "password": "Correct-Horse-42"}
    )
    assert login.headers["Location"] == "/"


def test_repeated_deactivate_or_reactivate_records_nothing_new(client, hr, create_user):
    employee = create_user()
    client.post(f"/hr/employees/{employee.id}/reactivate")
    client.post(f"/hr/employees/{employee.id}/deactivate")
    client.post(f"/hr/employees/{employee.id}/deactivate")
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions == ["user.deactivate"]


def test_actions_return_to_the_create_form_without_an_employee_page(make_app, create_user):
    app = make_app()
    app.view_functions.pop("reports.employee_detail", None)  # as before reports provides it
    with app.app_context():
        hr = create_user(role=Role.HR)
        employee = create_user()
        client = app.test_client()
        client.post("/login", data={"employee_no": hr.employee_no, "password": "Correct-Horse-42"})
        response = client.post(f"/hr/employees/{employee.id}/assign", data={"due_date": _future()})
        assert response.headers["Location"] == "/hr/employees/new"


def test_actions_return_to_the_employee_page_when_it_exists(make_app, create_user):
    app = make_app()
    if "reports.employee_detail" not in app.view_functions:

        @app.route("/hr/employees/<int:user_id>", endpoint="reports.employee_detail")
        def employee_detail(user_id):
            return "ok"

    with app.app_context():
        hr = create_user(role=Role.HR)
        employee = create_user()
        client = app.test_client()
        client.post("/login", data={"employee_no": hr.employee_no, "password": "Correct-Horse-42"})
        response = client.post(f"/hr/employees/{employee.id}/deactivate")
        assert response.headers["Location"] == f"/hr/employees/{employee.id}"


def test_assign_adds_a_new_assignment_row_each_time(client, hr, create_user):
    employee = create_user()
    client.post(f"/hr/employees/{employee.id}/assign", data={"due_date": _future(10)})
    client.post(f"/hr/employees/{employee.id}/assign", data={"due_date": _future(20)})
    rows = db.session.scalars(select(Assignment).order_by(Assignment.id)).all()
    assert [(r.due_date.isoformat(), r.reason, r.assigned_by_id) for r in rows] == [
        (_future(10), "individual", hr.id),
        (_future(20), "individual", hr.id),
    ]
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assignment.set")
    ).all()
    assert [{k: v for k, v in e.details.items() if k != "summary_params"} for e in events] == [
        {"due_date": _future(10), "count": 1},
        {"due_date": _future(20), "count": 1},
    ]
    who = f"{employee.name}（{employee.employee_no}）"
    assert [e.summary_text for e in events] == [
        f"为 {who}分配培训，截止 {_future(10)}",
        f"为 {who}分配培训，截止 {_future(20)}",
    ]


@pytest.mark.parametrize(
    ("due_date", "message"),
    [
        ("", "请选择有效的截止日期"),
        ("2024-02-30", "请选择有效的截止日期"),
        ("2000-01-01", "截止日期不能早于今天"),
    ],
)
def test_assign_refuses_bad_due_dates(client, hr, create_user, due_date, message):
    employee = create_user()
    response = client.post(
        f"/hr/employees/{employee.id}/assign", data={"due_date": due_date}, follow_redirects=True
    )
    assert message in response.get_data(as_text=True)
    assert _count(Assignment) == 0
    assert _count(AuditEvent) == 0


def test_assign_refuses_a_deactivated_employee(client, hr, create_user):
    employee = create_user(active=False)
    client.post(f"/hr/employees/{employee.id}/assign", data={"due_date": _future()})
    assert _count(Assignment) == 0


def test_department_assignment_covers_every_active_employee(client, hr, create_user):
    a = create_user(department="客服部")
    b = create_user(department="客服部", role=Role.HR)
    create_user(department="客服部", active=False)
    create_user(department="销售部")
    page = client.get("/hr/employees/assign-department").get_data(as_text=True)
    assert "客服部（3 人）" not in page
    assert "客服部（2 人）" in page
    response = client.post(
        "/hr/employees/assign-department", data={"department": "客服部", "due_date": _future()}
    )
    assert response.status_code == 302
    assigned = set(db.session.scalars(select(Assignment.user_id)))
    assert assigned == {a.id, b.id}
    assert set(db.session.scalars(select(Assignment.reason))) == {"department"}
    event = db.session.scalar(select(AuditEvent))
    assert event.action == "assignment.set"
    assert event.details == {
        "department": "客服部",
        "due_date": _future(),
        "count": 2,
        "summary_params": {"department": "客服部", "due_date": _future(), "count": 2},
    }
    assert event.summary_text == f"为 客服部 的 2 名员工分配培训，截止 {_future()}"


@pytest.mark.parametrize(
    "data",
    [
        {"department": "不存在的部门", "due_date": _future()},
        {"department": "", "due_date": _future()},
        {"department": "客服部", "due_date": ""},
        {"department": "客服部", "due_date": "2000-01-01"},
    ],
)
def test_department_assignment_refuses_bad_input(client, hr, create_user, data):
    create_user(department="客服部")
    response = client.post("/hr/employees/assign-department", data=data)
    assert response.status_code == 200
    assert _count(Assignment) == 0
    assert _count(AuditEvent) == 0


def test_actions_partial_renders_for_active_and_deactivated_employees(app, client, hr, create_user):
    active = create_user()
    inactive = create_user(active=False)
    with app.test_request_context():
        from flask_login import login_user

        hr_user = db.session.get(User, hr.id)
        hr_user.session_token = "x"
        login_user(hr_user)
        template = '{% include "employees/_actions.html" %}'
        html = render_template_string(template, employee=active)
        assert f'action="/hr/employees/{active.id}/links"' in html
        # Deactivation asks first: a link to its confirmation page, not a form.
        assert f'href="/hr/employees/{active.id}/deactivate"' in html
        assert f'href="/hr/employees/{active.id}/edit"' in html
        assert f'action="/hr/employees/{active.id}/assign"' in html
        assert 'name="due_date"' in html
        assert html.count('name="csrf_token"') == 2
        html = render_template_string(template, employee=inactive)
        assert f'action="/hr/employees/{inactive.id}/reactivate"' in html
        assert "deactivate" not in html
        own = render_template_string(template, employee=hr_user)
        assert "deactivate" not in own


def test_nav_has_the_hr_entries(client, hr):
    html = client.get("/hr/employees/new").get_data(as_text=True)
    assert 'href="/hr/employees/new"' in html
    assert 'href="/hr/employees/import"' in html


def test_token_is_stored_only_as_a_hash_and_never_audited(client, hr, create_user):
    user = create_user()
    response = client.post(f"/hr/employees/{user.id}/links")
    assert response.status_code == 200
    token = response.get_data(as_text=True).split("/set-password/")[1].split('"')[0]
    assert len(token) >= 40
    link = db.session.scalar(select(PasswordLink))
    assert link.token_hash == links.token_hash(token)
    assert link.purpose == "reset"
    assert link.created_by_id == hr.id
    stored = [str(row) for row in db.session.execute(select(PasswordLink.__table__)).all()]
    stored += [str(row) for row in db.session.execute(select(AuditEvent.__table__)).all()]
    assert not any(token in text for text in stored)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "link.reset"))
    assert event.target_user_id == user.id
    assert event.actor_id == hr.id


def test_hr_issues_a_setup_link_when_the_user_never_had_a_password(client, hr, create_user):
    user = create_user()
    user.password_hash = None
    db.session.commit()
    response = client.post(f"/hr/employees/{user.id}/links")
    assert "设置密码链接" in response.get_data(as_text=True)
    assert db.session.scalar(select(PasswordLink.purpose)) == "setup"
    assert db.session.scalar(select(AuditEvent.action)) == "link.setup"


def test_hr_cannot_issue_a_link_for_a_deactivated_user(client, hr, create_user):
    user = create_user(active=False)
    response = client.post(f"/hr/employees/{user.id}/links")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PasswordLink)) == 0


def test_link_for_unknown_employee_is_404(client, hr):
    assert client.post("/hr/employees/99999/links").status_code == 404
