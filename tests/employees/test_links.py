"""One-time set-password links: issue, use once, expire, revoke, and nothing secret stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from training.auth import links
from training.auth.models import PasswordLink, Role, User, UserSession
from training.auth.passwords import verify_password
from training.db import utcnow
from training.extensions import db

NEW_PASSWORD = "Blue-Lantern-7731"


@pytest.fixture
def issue(app):
    """Return a function that issues and commits a link for a user, returning its path."""

    def do_issue(user: User, purpose: str = "reset") -> str:
        token = links.issue_link(user, purpose)
        db.session.commit()
        return f"/set-password/{token}"

    return do_issue


def _set(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(path, data={"new_password": password, "confirm": confirm or password})


def test_link_sets_the_password_and_goes_to_login(client, create_user, issue):
    user = create_user(must_change_password=True)
    path = issue(user)
    page = client.get(path)
    assert page.status_code == 200
    assert user.employee_no in page.get_data(as_text=True)
    response = _set(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?employee_no={user.employee_no}"
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert user.must_change_password is False
    assert user.password_changed_at is not None
    link = db.session.scalar(select(PasswordLink))
    assert link.used_at is not None
    login = client.post("/login", data={"employee_no": user.employee_no, "password": NEW_PASSWORD})
    assert login.headers["Location"] == "/"


def test_link_works_once(client, create_user, issue):
    path = issue(create_user())
    assert _set(client, path).status_code == 302
    again = _set(client, path, "Another-Lantern-99")
    assert again.status_code == 404
    assert "链接无效或已失效" in again.get_data(as_text=True)
    assert client.get(path).status_code == 404


def test_expired_link_is_refused_and_changes_nothing(client, create_user, issue):
    user = create_user()
    before = user.password_hash
    path = issue(user)
    db.session.execute(update(PasswordLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(path).status_code == 404
    assert _set(client, path).status_code == 404
    db.session.refresh(user)
    assert user.password_hash == before


def test_link_expires_after_configured_hours(app, create_user):
    user = create_user()
    links.issue_link(user, "setup")
    db.session.commit()
    link = db.session.scalar(select(PasswordLink))
    assert link.expires_at - link.created_at == timedelta(hours=app.config["PASSWORD_LINK_HOURS"])
    assert app.config["PASSWORD_LINK_HOURS"] == 72


def test_newer_link_revokes_the_earlier_unused_one(client, create_user, issue):
    user = create_user()
    first = issue(user)
    second = issue(user)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    revoked = db.session.scalars(select(PasswordLink).order_by(PasswordLink.id)).all()
    assert revoked[0].revoked_at is not None
    assert revoked[1].revoked_at is None


def test_deactivated_user_cannot_use_a_link(client, create_user, issue):
    user = create_user()
    path = issue(user)
    user.active = False
    db.session.commit()
    assert client.get(path).status_code == 404
    before = user.password_hash
    assert _set(client, path).status_code == 404
    db.session.refresh(user)
    assert user.password_hash == before


@pytest.mark.parametrize("token", ["nope", "x" * 43, "x" * 500, "%E5%B7%A5", "..%2E%2E"], ids=str)
def test_unknown_token_is_a_plain_not_found(client, token):
    response = client.get(f"/set-password/{token}")
    assert response.status_code == 404
    assert "链接无效或已失效" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short-1", "short-1", "密码至少需要 10 个字符"),
        ("password123", "password123", "太常见"),
        ("Blue-Lantern-7731", "Blue-Lantern-7732", "两次输入的新密码不一致"),
        ("", "", "请输入新密码"),
    ],
)
def test_password_policy_applies_and_link_stays_usable(
    client, create_user, issue, password, confirm, message
):
    user = create_user()
    before = user.password_hash
    path = issue(user)
    response = _set(client, path, password, confirm)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before
    assert db.session.scalar(select(PasswordLink)).used_at is None


def test_password_must_not_contain_the_employee_no(client, create_user, issue):
    user = create_user(employee_no="E77123")
    response = _set(client, issue(user), "xE77123-Lantern")
    assert "密码不能包含工号" in response.get_data(as_text=True)


def test_setting_a_password_ends_every_session(make_app, create_user, issue):
    app = make_app()
    user = create_user()
    with app.test_client() as other:
        other.post("/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"})
        assert other.get("/").status_code == 200
        path = issue(user)
        with app.test_client() as browser:
            assert _set(browser, path).status_code == 302
        assert other.get("/").status_code == 302  # the old cookie is refused
    live = db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))
    )
    assert live == 0


def test_logged_in_visitor_is_logged_out_after_using_a_link(client, login_as, create_user, issue):
    login_as()
    path = issue(create_user())
    assert _set(client, path).status_code == 302
    assert client.get("/").status_code == 302


def test_link_url_outside_a_request_uses_base_url(make_app, create_user):
    app = make_app(BASE_URL="https://training.example.com/app/")
    with app.app_context():
        assert links.link_url("abc") == "https://training.example.com/app/set-password/abc"
    default = make_app()
    with default.app_context():
        assert links.link_url("abc") == "http://127.0.0.1:5000/set-password/abc"


def test_set_password_form_needs_csrf(make_app, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = create_user()
        token = links.issue_link(user, "reset")
        db.session.commit()
        response = app.test_client().post(
            f"/set-password/{token}", data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        )
        assert response.status_code == 400
        assert db.session.scalar(select(PasswordLink.used_at)) is None


def test_hr_role_is_kept_when_setting_a_password(client, create_user, issue):
    user = create_user(role=Role.HR)
    _set(client, issue(user))
    db.session.refresh(user)
    assert user.role == Role.HR
