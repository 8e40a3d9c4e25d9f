"""Shared fixtures: an app on SQLite or PostgreSQL, clients, users and logins."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from training.app import create_app
from training.auth.models import Role, User
from training.auth.passwords import hash_password
from training.extensions import db

PASSWORD = "Correct-Horse-42"
FAST_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def _base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "ARGON2_PARAMS": FAST_ARGON2,
    }


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return a migrated database: TEST_DATABASE_URL (PostgreSQL) or a SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
    app = create_app(_base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _clear_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - names from our metadata
    db.session.commit()


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Return a factory for apps on the test database, with extra config."""
    created: list[Flask] = []

    def factory(**overrides) -> Flask:
        config = _base_config(database_url) | overrides
        app = create_app(config)
        created.append(app)
        return app

    yield factory
    for app in created:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if created:
        with created[0].app_context():
            _clear_tables()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    """Return the app, with an application context pushed."""
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


_HASHES: dict[str, str] = {}


@pytest.fixture
def create_user(app: Flask) -> Callable[..., User]:
    """Return a factory that creates users; test passwords are hashed once per run."""
    counter = iter(range(1, 10_000))

    def factory(*, role: Role = Role.LEARNER, password: str = PASSWORD, **fields) -> User:
        n = next(counter)
        if password not in _HASHES:
            _HASHES[password] = hash_password(password)
        user = User(
            employee_no=fields.pop("employee_no", f"E{n:05d}"),
            name=fields.pop("name", f"员工{n}"),
            department=fields.pop("department", "测试部"),
            role=role,
            password_hash=_HASHES[password],
            **fields,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return factory


class AuthActions:
    """Log a test client in and out through the real forms."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def login(self, employee_no: str, password: str = PASSWORD, **kwargs):
        return self.client.post(
            "/login", data={"employee_no": employee_no, "password": password}, **kwargs
        )

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def login_as(client: FlaskClient, create_user) -> Callable[..., User]:
    """Create a user with the role and log the test client in as them."""

    def do_login(role: Role = Role.LEARNER, **fields) -> User:
        user = create_user(role=role, **fields)
        response = AuthActions(client).login(user.employee_no)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return do_login


@pytest.fixture
def lessons(app: Flask):
    """Load the committed lessons into the database and return them in order."""
    from training.lessons.services import active_lessons, sync_lessons

    sync_lessons(app.config["CONTENT_DIR"])
    return active_lessons()


def _csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf_token in page"
    return match.group(1)


@pytest.fixture
def csrf_token_from() -> Callable[[str], str]:
    """Return a function that extracts the CSRF token embedded in a rendered form."""
    return _csrf_token_from
