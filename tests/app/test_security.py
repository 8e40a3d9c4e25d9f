"""Headers, cookies, error pages and configuration."""

from __future__ import annotations

import pytest

from training.app import create_app
from training.config import load_secret_key


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_flags(make_app, create_user):
    app = make_app(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        user = create_user()
        response = app.test_client().post(
            "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
        )
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "Secure" in cookie
        assert "SameSite=Lax" in cookie


def test_secure_cookies_are_the_default():
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_not_found_page_is_generic(client, login_as):
    login_as()
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_server_error_page_hides_details(make_app, create_user):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    with app.app_context():
        user = create_user()
        client = app.test_client()
        client.post(
            "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
        )
        response = client.get("/boom")
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        assert "secret internals" not in body
        assert "服务器出错" in body


def test_secret_key_is_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_secret_key(str(tmp_path))
    second = load_secret_key(str(tmp_path))
    assert first == second
    assert len(first) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_from_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert load_secret_key(str(tmp_path)) == "from-env"


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        ("journal_mode", "wal"),
        ("synchronous", 2),
        ("foreign_keys", 1),
    ],
)
def test_sqlite_is_tuned_for_several_workers(app, pragma, expected):
    from training.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        value = conn.exec_driver_sql(f"PRAGMA {pragma}").scalar()
    assert value == expected
