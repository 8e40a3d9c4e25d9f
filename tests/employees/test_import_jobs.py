"""Employee imports run as background jobs: all or nothing, once, and after a runner dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.employees.conftest import confirm_data as _confirm_data
from tests.employees.conftest import count_rows as _count
from training.audit.models import AuditEvent
from training.auth.models import Role, User
from training.db import utcnow
from training.extensions import db
from training.jobs import runner
from training.jobs.models import Job, JobState

REPO = Path(__file__).resolve().parents[2]
ROWS = [
    ["E3001", "赵一", "销售部", "2024-03-01", "", "销售", "员工"],
    ["E3002", "钱二", "客服部", "2024/3/5", "", "", ""],
]


def _rows(count: int) -> list[list[str]]:
    return [[f"J{n:06d}", f"员工{n}", "生产部", "2024-03-01", "", "", ""] for n in range(count)]


@pytest.fixture
def queued(app):
    """Confirmed imports wait in the queue (a worker would run them) instead of running."""
    app.config["JOBS_RUN"] = "worker"


def test_a_confirmed_import_waits_in_the_queue_and_shows_its_progress(
    app, client, hr, upload, csv_file, queued
):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    response = client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-state="queued"' in page
    assert '<meta http-equiv="refresh" content="2">' in page  # it refreshes itself
    assert _count(User) == 1  # nothing written until the job runs
    assert runner.run_pending() == [(1, JobState.DONE)]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "导入完成：新建 2 人" in page
    assert 'http-equiv="refresh"' not in page
    assert "导入员工：staff.csv" in client.get("/hr/jobs/").get_data(as_text=True)


def test_a_doubled_confirm_queues_one_job(app, client, hr, upload, csv_file, queued):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    data = _confirm_data(html)
    first = client.post("/hr/employees/import/confirm", data=data)
    second = client.post("/hr/employees/import/confirm", data=data)
    assert first.headers["Location"].startswith("/hr/jobs/")
    assert second.status_code == 302  # the upload is gone: back to the upload page
    assert _count(Job) == 1
    # Even two requests that both still found the upload get one job: the key is unique.
    job = db.session.scalars(select(Job)).one()
    again = runner.enqueue(
        job.kind, title=job.title, params=job.params, payload=b"x", key=job.key, actor=hr
    )
    assert again.id == job.id
    assert _count(Job) == 1


def test_a_job_whose_data_changed_after_the_preview_writes_nothing(
    app, client, hr, upload, csv_file, create_user, queued
):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    response = client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    create_user(employee_no="E3002", name="钱二", department="财务部")  # meanwhile
    assert runner.run_pending() == [(1, JobState.FAILED)]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "预览之后员工数据发生了变化，未导入任何数据" in page
    assert _count(User) == 2
    assert _count(AuditEvent, AuditEvent.action == "user.import") == 0
    assert db.session.get(Job, 1).payload is None  # the file is not kept after the job


def test_two_runners_never_take_the_same_job(app, client, hr, upload, csv_file, queued):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    first = runner.claim()
    assert first == 1
    assert runner.claim() is None  # still held by the first (this process is alive)
    assert runner.run(first) == JobState.DONE
    assert _count(User, User.employee_no.in_(["E3001", "E3002"])) == 2


def test_a_job_in_a_thread_of_the_web_process(app, client, hr, upload, csv_file):
    app.config["JOBS_RUN"] = "thread"
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    response = client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        db.session.rollback()
        if db.session.get(Job, 1).finished:
            break
        time.sleep(0.1)
    assert db.session.get(Job, 1).state == JobState.DONE
    assert "导入完成" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_runner_killed_mid_import_leaves_nothing_and_the_next_one_imports_once(
    app, client, hr, upload, csv_file, database_url, tmp_path, queued
):
    rows = 15_000  # the import takes seconds: the kill lands inside it
    html = upload(csv_file(_rows(rows))).get_data(as_text=True)
    client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    db.session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "TRAINING_JOBS_RUN": '"worker"',
    }
    worker = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db.session.rollback()
            if db.session.get(Job, 1).state == JobState.RUNNING:
                break
            time.sleep(0.05)
        time.sleep(0.3)  # well inside the import
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    db.session.rollback()
    job = db.session.get(Job, 1)
    assert job.state == JobState.RUNNING, "the worker finished before it was killed"
    assert _count(User) == 1  # nothing of the half-done import was committed
    # The next runner sees that the claiming process is gone and runs the job from the start.
    assert runner.run_pending() == [(1, JobState.DONE)]
    db.session.rollback()
    assert db.session.get(Job, 1).attempts == 2
    assert _count(User, User.role == Role.LEARNER) == rows
    assert _count(AuditEvent, AuditEvent.action == "user.import") == 1


def test_a_job_whose_runner_keeps_dying_is_given_up(app, client, hr, upload, csv_file, queued):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    job = db.session.get(Job, 1)
    # Its last runner, on another host, stopped renewing its lease a minute ago.
    job.state, job.attempts, job.claimed_by = JobState.RUNNING, runner.MAX_ATTEMPTS, "other:1"
    job.claimed_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert runner.claim() is None
    db.session.rollback()
    job = db.session.get(Job, 1)
    assert job.state == JobState.FAILED
    assert "已放弃" in job.error
    assert _count(User) == 1


@pytest.mark.parametrize("role", [None, Role.LEARNER, Role.MANAGER])
def test_only_hr_sees_jobs_or_their_links(app, client, create_user, login_as, role):
    hr = create_user(role=Role.HR)
    job = runner.enqueue("employee_import", title="导入员工:x.csv", params={}, actor=hr)
    db.session.commit()
    if role is not None:
        login_as(role)
    for path in ("/hr/jobs/", f"/hr/jobs/{job.id}"):
        response = client.get(path)
        assert response.status_code == (302 if role is None else 403)
    response = client.post(f"/hr/employees/import/jobs/{job.id}/links")
    assert response.status_code == (302 if role is None else 403)


def test_links_of_a_job_that_is_not_done_are_refused(app, client, hr):
    job = runner.enqueue("employee_import", title="导入员工:x.csv", params={}, actor=hr)
    db.session.commit()
    assert client.post(f"/hr/employees/import/jobs/{job.id}/links").status_code == 409
    assert client.post("/hr/employees/import/jobs/999/links").status_code == 404
    assert client.get("/hr/jobs/999").status_code == 404


@runner.register("test_takeover")
def _taken_over_midway(job: Job, progress: runner.Progress) -> dict:
    """Writes an audit event, while another runner takes the job over behind its back."""
    from training.audit.services import record

    record("user.update", "被接管的任务写的")
    db.session.flush()
    with db.engine.connect() as conn:  # the other runner's claim, committed meanwhile
        conn.execute(
            Job.__table__.update().where(Job.id == job.id).values(claimed_by="other:1:token")
        )
        conn.commit()
    return {}


def test_a_run_whose_job_was_taken_over_commits_nothing(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a second writer during the job's transaction needs PostgreSQL")
    job = runner.enqueue("test_takeover", title="接管", params={})
    db.session.commit()
    assert runner.claim() == job.id
    assert runner.run(job.id) == JobState.RUNNING  # not done, and not marked failed either
    db.session.rollback()
    job = db.session.get(Job, job.id)
    assert (job.state, job.claimed_by) == (JobState.RUNNING, "other:1:token")
    assert _count(AuditEvent, AuditEvent.summary == "被接管的任务写的") == 0


def test_a_claim_on_this_host_holds_while_its_process_lives(app, hr):
    job = runner.enqueue("employee_import", title="导入员工:x.csv", params={}, actor=hr)
    db.session.commit()
    assert runner.claim() == job.id
    job = db.session.get(Job, job.id)
    job.claimed_until = utcnow() - timedelta(hours=1)  # a long SQLite job cannot renew it
    db.session.commit()
    assert runner.claim() is None  # this process is alive: not taken over


_ELSEWHERE: dict = {}


@runner.register("test_progress_elsewhere")
def _progress_seen_from_another_host(job: Job, progress: runner.Progress) -> dict:
    """Reports progress, then has HR look at the job's page on another app host."""
    progress(4, 10)
    _ELSEWHERE["page"] = _ELSEWHERE["client"].get(f"/hr/jobs/{job.id}").get_data(as_text=True)
    return {}


def test_a_running_jobs_progress_shows_on_every_app_host(app, make_app, client, hr, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite sites are one host: progress stays in instance/jobs/ there")
    app.instance_path = str(tmp_path / "host-a")
    other = make_app()
    other.instance_path = str(tmp_path / "host-b")
    _ELSEWHERE["client"] = other.test_client()
    _ELSEWHERE["client"].set_cookie("training_session", client.get_cookie("training_session").value)
    job = runner.enqueue("test_progress_elsewhere", title="进度", params={}, actor=hr)
    db.session.commit()
    assert runner.run_pending() == [(job.id, JobState.DONE)]
    assert "正在处理：4 / 10" in _ELSEWHERE.pop("page")
    # The progress went to the job's row, not to a file of the host that ran it.
    assert not (tmp_path / "host-a" / "jobs").exists()


def test_progress_on_sqlite_is_read_from_the_runners_file(app, hr, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL progress is read from the job's row")
    app.instance_path = str(tmp_path)
    job = runner.enqueue("employee_import", title="导入员工:x.csv", params={}, actor=hr)
    db.session.commit()
    assert runner.claim() == job.id
    db.session.rollback()
    job = db.session.get(Job, job.id)
    runner.Progress(job.id)(7, 9)
    assert (tmp_path / "jobs" / f"{job.id}.json").exists()
    assert runner.progress_of(job) == (7, 9)
