"""Shared fixtures: an app on SQLite or PostgreSQL, clients, users and logins."""

from __future__ import annotations

import os
import re
import shutil
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
        "INSIGHT_CACHE_SECONDS": 0,  # every test sees the data it just wrote
    }


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return a database migrated to head: TEST_DATABASE_URL (PostgreSQL) or a SQLite template."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("template") / "template.sqlite")
    app = create_app(_base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def database_url(migrated_database: str, tmp_path) -> str:
    """Return an empty migrated database for one test.

    SQLite tests get their own copy of the template file; PostgreSQL tests
    share one database whose tables are emptied afterwards (TRUNCATE does not
    fire the append-only row triggers, DELETE would).
    """
    if not migrated_database.startswith("sqlite:///"):
        return migrated_database
    copy = tmp_path / "test.sqlite"
    shutil.copyfile(migrated_database.removeprefix("sqlite:///"), copy)
    return f"sqlite:///{copy}"


def _truncate_postgres(url: str) -> None:
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Return a factory for apps on the test database, with extra config."""
    created: list[Flask] = []

    def factory(**overrides) -> Flask:
        app = create_app(_base_config(database_url) | overrides)
        created.append(app)
        return app

    yield factory
    for app in created:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if not database_url.startswith("sqlite"):
        _truncate_postgres(database_url)


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
    """Load the committed lessons and quiz banks into the database; return the lessons in order."""
    from training.course.lessons import active_lessons
    from training.revisions.sync import sync_course

    sync_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
    db.session.commit()
    return active_lessons()


def _csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf_token in page"
    return match.group(1)


@pytest.fixture
def csrf_token_from() -> Callable[[str], str]:
    """Return a function that extracts the CSRF token embedded in a rendered form."""
    return _csrf_token_from
