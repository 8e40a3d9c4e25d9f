"""The app behind PgBouncer in transaction mode: several app hosts share one PostgreSQL.

A real PgBouncer (Debian's) is started on a free port in front of the test's PostgreSQL, in
transaction mode: every transaction may run on another server connection. Learners start and
submit quizzes at the same time through it; every submission, summary and evidence link must
be there, and the evidence chains must verify.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.quizzes.conftest import form_for
from training.audit import chain
from training.course.models import ProgressSummary, QuizAttempt, QuizSubmission
from training.extensions import db

PGBOUNCER = "/usr/sbin/pgbouncer"
LEARNERS, ROUNDS = 6, 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def pgbouncer(server_url: str) -> Iterator[str]:
    """Run PgBouncer (transaction pooling, 3 server connections) before the URL's server;
    yield the URL that goes through it."""
    url = make_url(server_url)
    port = _free_port()
    # Not under pytest's tmp_path: its parents are private to root, and PgBouncer runs as nobody.
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    (folder / "users.txt").write_text(f'"{url.username or "postgres"}" ""\n')
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={url.host or '127.0.0.1'} port={url.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 3\nmax_client_conn = 200\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    command = [PGBOUNCER]
    if os.getuid() == 0:  # PgBouncer refuses to run as root
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        command += ["-u", "nobody"]
    process = subprocess.Popen(  # noqa: S603 - Debian's pgbouncer, our own config
        [*command, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                log = folder / "pgbouncer.log"
                said = log.read_text() if log.exists() else "(no log)"
                raise RuntimeError(f"pgbouncer did not start: {said}")
            time.sleep(0.05)
        yield url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def through_pgbouncer(database_url) -> Iterator[str]:
    if not database_url.startswith("postgresql"):
        pytest.skip("PgBouncer pools PostgreSQL connections")
    if not shutil.which(PGBOUNCER):
        pytest.fail(f"{PGBOUNCER} is missing: run `make setup-dev` (Debian package pgbouncer)")
    with pgbouncer(database_url) as url:
        yield url


def test_learners_submit_at_once_through_a_transaction_pooler(
    app, make_app, create_user, lessons, through_pgbouncer
):
    pooled = make_app(SQLALCHEMY_DATABASE_URI=through_pgbouncer, DATABASE_PREPARED_STATEMENTS=False)
    users = [create_user() for _ in range(LEARNERS)]
    # Read here: the threads have no app context to load an expired attribute in.
    numbers = [u.employee_no for u in users]
    lesson_numbers = [lesson.number for lesson in lessons]
    errors: list[str] = []
    submitted: list[int] = []

    def learner(employee_no: str) -> None:
        client = pooled.test_client()
        response = client.post(
            "/login", data={"employee_no": employee_no, "password": "Correct-Horse-42"}
        )
        assert response.status_code == 302
        for round_ in range(ROUNDS):
            number = lesson_numbers[round_ % len(lesson_numbers)]
            response = client.post(f"/lessons/{number}/quiz")
            if response.status_code != 302 or "/quiz/" not in response.headers["Location"]:
                errors.append(f"start {number}: {response.status_code}")
                continue
            attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
            with pooled.app_context():
                data = form_for(db.session.get(QuizAttempt, attempt_id), correct=True)
                db.session.remove()
            response = client.post(f"/quiz/{attempt_id}", data=data)
            if response.status_code != 302:
                errors.append(f"submit {attempt_id}: {response.status_code}")
                continue
            submitted.append(attempt_id)

    threads = [threading.Thread(target=learner, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(submitted) == LEARNERS * ROUNDS
    db.session.rollback()
    ids = [u.id for u in users]
    count = select(func.count()).select_from(QuizSubmission)
    assert db.session.scalar(count.where(QuizSubmission.attempt_id.in_(submitted))) == len(
        submitted
    )
    passed = select(ProgressSummary.user_id, ProgressSummary.passed_count).where(
        ProgressSummary.user_id.in_(ids)
    )
    assert {row.passed_count for row in db.session.execute(passed)} == {ROUNDS}
    found = chain.verify(db.session.connection())
    assert found.ok, (found.breaks, found.unlinked)
