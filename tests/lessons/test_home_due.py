"""The learner's home says when the course is due, in red once late; HR lands on the dashboard."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import AuthActions
from training.assignments.models import Assignment
from training.auth.models import Role
from training.db import company_today, utcnow
from training.extensions import db


def _assign(user, due, reason="hire"):
    db.session.add(Assignment(user_id=user.id, due_date=due, assigned_at=utcnow(), reason=reason))
    db.session.commit()


def test_home_shows_the_due_date(client, login_as, lessons):
    user = login_as(Role.LEARNER)
    due = company_today() + timedelta(days=9)
    _assign(user, due)
    html = client.get("/").get_data(as_text=True)
    assert f"请在 {due.isoformat()} 前完成" in html
    assert "due-late" not in html


def test_home_shows_days_overdue_in_red(client, login_as, lessons):
    user = login_as(Role.LEARNER)
    _assign(user, company_today() - timedelta(days=48))
    html = client.get("/").get_data(as_text=True)
    assert 'class="due due-late"' in html
    assert "已逾期 48 天" in html


def test_home_shows_the_retraining_deadline(client, login_as, lessons):
    user = login_as(Role.LEARNER)
    due = company_today() + timedelta(days=14)
    _assign(user, due, reason="revision")
    html = client.get("/").get_data(as_text=True)
    assert f"规范已修订，请在 {due.isoformat()} 前完成重新学习" in html


def test_each_role_lands_on_its_own_page(client, create_user, lessons):
    for role, place in ((Role.HR, "/hr/"), (Role.LEARNER, "/")):
        user = create_user(role=role)
        response = AuthActions(client).login(user.employee_no)
        assert response.headers["Location"] == place
        AuthActions(client).logout()
