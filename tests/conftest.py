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
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, make_url, text

from training.app import create_app
from training.auth.models import Role, User
from training.auth.passwords import hash_password
from training.extensions import db

# Property tests check correctness, not speed: on a loaded 2-core machine a deadline only makes
# them flaky. No example database either: every run starts from the same seeds of nothing.
hypothesis_settings.register_profile("suite", deadline=None, database=None)
hypothesis_settings.load_profile("suite")


def pytest_configure(config: pytest.Config) -> None:
    """Compile the UI catalogs if a messages.po changed since ``make`` built them (once, in
    the controlling process, before any xdist worker starts)."""
    if not hasattr(config, "workerinput"):
        from training.language.cli import build_stale

        build_stale()


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
        "JOBS_RUN": "inline",  # a job runs in the request that queues it
        "JOBS_TICK_SECONDS": 0,  # no ticker thread outliving its test (tests/jobs starts one)
    }


def _admin_engine(url: str):
    """An engine on the server's maintenance connection, outside any transaction."""
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _build(url: str, *, synced: bool) -> None:
    """Migrate a database to head and, if asked, load the committed course into it."""
    app = create_app(_base_config(url))
    with app.app_context():
        upgrade()
        if synced:
            from training.revisions.sync import sync_course

            sync_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


class Templates:
    """Databases built once per test run (per xdist worker): migrated, and migrated + synced.

    Each test gets a copy of one of them — a file copy on SQLite, ``CREATE DATABASE …
    TEMPLATE`` on PostgreSQL — so no test pays for the migrations or the course sync, and
    none sees another's rows. On PostgreSQL every database name carries the run's process id
    and worker, so concurrent runs on one server never meet.
    """

    def __init__(self, tmp_path_factory: pytest.TempPathFactory):
        self.server = os.environ.get("TEST_DATABASE_URL")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        self.prefix = (
            f"{make_url(self.server).database}_{os.getpid()}_{worker}" if self.server else ""
        )
        self.folder = tmp_path_factory.mktemp("templates")
        self.count = 0
        self.urls = {}
        for synced in (False, True):
            if self.server:
                name = f"{self.prefix}_{'synced' if synced else 'empty'}"
                engine = _admin_engine(self.server)
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                engine.dispose()
                url = _with_database(self.server, name)
            else:
                url = f"sqlite:///{self.folder / ('synced' if synced else 'empty')}.sqlite"
            _build(url, synced=synced)
            self.urls[synced] = url

    def copy(self, synced: bool, tmp_path) -> str:
        """Return the URL of a fresh copy of a template."""
        source = self.urls[synced]
        if not self.server:
            target = tmp_path / "test.sqlite"
            shutil.copyfile(source.removeprefix("sqlite:///"), target)
            return f"sqlite:///{target}"
        self.count += 1
        name = f"{self.prefix}_t{self.count}"
        engine = _admin_engine(self.server)
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(source).database}"'))
        engine.dispose()
        return _with_database(self.server, name)

    def drop(self, url: str) -> None:
        """Drop a copy made by ``copy`` (PostgreSQL; SQLite files go with tmp_path)."""
        if self.server:
            engine = _admin_engine(self.server)
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}"'))
            engine.dispose()

    def close(self) -> None:
        for url in self.urls.values():
            self.drop(url)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """Return the run's template databases (built on first use)."""
    built = Templates(tmp_path_factory)
    yield built
    built.close()


@pytest.fixture
def database_url(templates: Templates, request, tmp_path) -> Iterator[str]:
    """Return a database of this test's own: synced with the course if it uses ``lessons``."""
    url = templates.copy("lessons" in request.fixturenames, tmp_path)
    yield url
    templates.drop(url)


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
    """Return the lessons in order; the test's database was copied from the synced template."""
    from training.course.lessons import active_lessons

    return active_lessons()


def _csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf_token in page"
    return match.group(1)


@pytest.fixture
def csrf_token_from() -> Callable[[str], str]:
    """Return a function that extracts the CSRF token embedded in a rendered form."""
    return _csrf_token_from
