"""A large export runs as a background job: the same file, audited once, for its owner only."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.reports.test_exports import DANGEROUS, Download
from training.audit.models import AuditEvent
from training.auth.models import ManagedDepartment, Role
from training.db import utcnow
from training.extensions import db
from training.jobs import runner
from training.jobs.models import Job, JobFile, JobState


@pytest.fixture
def staff(records, lessons):
    for n in range(6):
        records.employee(
            employee_no=f"Q{n}", name=DANGEROUS if n == 0 else f"员工{n}", department="销售部"
        )
    records.employee(employee_no="T1", name="技术一", department="技术部")


def _as_job(app, client, url: str) -> Job:
    """Ask for an export that is over the threshold; return its (inline-run) job."""
    app.config["EXPORT_JOB_ROWS"] = 0
    response = client.get(url)
    assert response.status_code == 302, response.get_data(as_text=True)
    job = db.session.scalars(select(Job).where(Job.kind == "report.export")).one()
    assert response.headers["Location"] == f"/hr/exports/{job.id}"
    return job


def _events():
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_job_makes_the_same_file_as_the_download(app, client, hr, staff, fmt):
    url = f"/hr/employees/export.{fmt}?department=销售部&sort=name&dir=desc"
    direct = Download(client, url)
    assert direct.status_code == 200
    job = _as_job(app, client, url)
    db.session.refresh(job)
    assert job.state == JobState.DONE, job.error
    page = client.get(f"/hr/exports/{job.id}").get_data(as_text=True)
    assert "已生成 6 行" in page
    assert f"/hr/exports/{job.id}/download" in page
    background = Download(client, f"/hr/exports/{job.id}/download")
    assert background.status_code == 200
    assert background.mimetype == direct.mimetype
    assert "attachment" in background.headers["Content-Disposition"]
    if fmt == "csv":
        assert background.data == direct.data
    else:

        def cells(data):
            sheet = load_workbook(io.BytesIO(data), read_only=True).active
            return list(sheet.iter_rows(values_only=True))

        assert cells(background.data) == cells(direct.data)
        assert len(cells(background.data)) == 7
    first, second = _events()
    assert first.details["rows"] == second.details["rows"] == 6
    assert second.actor_id == hr.id
    assert second.details["job_id"] == job.id
    assert second.channel == "web"


def test_a_small_export_stays_in_the_request(app, client, hr, staff):
    app.config["EXPORT_JOB_ROWS"] = 7  # exactly the rows: not over
    response = Download(client, "/hr/employees/export.csv")
    assert response.status_code == 200
    assert db.session.scalar(select(Job.id).where(Job.kind == "report.export")) is None


def test_a_queued_export_shows_progress_and_is_audited_only_when_done(app, client, hr, staff):
    app.config["JOBS_RUN"] = "worker"
    job = _as_job(app, client, "/hr/employees/export.xlsx")
    page = client.get(f"/hr/exports/{job.id}").get_data(as_text=True)
    assert 'data-state="queued"' in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert client.get(f"/hr/exports/{job.id}/download").status_code == 404
    assert _events() == []
    assert runner.run_pending() == [(job.id, JobState.DONE)]
    assert len(_events()) == 1
    assert client.get(f"/hr/exports/{job.id}/download").status_code == 200


def test_a_failed_export_says_why_on_its_page(app, client, hr, staff):
    app.config["JOBS_RUN"] = "worker"
    job = _as_job(app, client, "/hr/employees/export.csv")
    job.params = {**job.params, "format": "pdf"}  # what a broken job looks like
    db.session.commit()
    assert runner.run_pending() == [(job.id, JobState.FAILED)]
    page = client.get(f"/hr/exports/{job.id}").get_data(as_text=True)
    assert 'data-state="failed"' in page
    assert "导出失败：任务出错（ValueError），未写入任何数据" in page
    assert client.get(f"/hr/exports/{job.id}/download").status_code == 404
    assert _events() == []
    assert db.session.scalar(select(JobFile.id)) is None


@pytest.mark.parametrize("who", [None, "learner", "manager", "other_hr"])
def test_only_the_asker_may_see_or_download_an_export(app, client, hr, staff, create_user, who):
    job = _as_job(app, client, "/hr/employees/export.csv")
    client.post("/logout")
    if who == "learner":
        expected = 403
        user = create_user()
    elif who == "manager":
        expected = 404
        user = create_user(role=Role.MANAGER, department="销售部")
        user.managed.append(ManagedDepartment(department="销售部"))
        db.session.commit()
    elif who == "other_hr":
        expected = 404
        user = create_user(role=Role.HR)
    if who is None:
        for path in (f"/hr/exports/{job.id}", f"/hr/exports/{job.id}/download"):
            response = client.get(path)
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/login")
        return
    response = client.post(
        "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
    )
    assert response.status_code == 302
    for path in (f"/hr/exports/{job.id}", f"/hr/exports/{job.id}/download"):
        assert client.get(path).status_code == expected, path
    if who == "other_hr":  # sees that it ran on the jobs page, without a way to the file
        page = client.get(f"/hr/jobs/{job.id}").get_data(as_text=True)
        assert "文件只有提交人本人可以下载" in page


def test_a_managers_large_export_holds_their_departments_only(app, client, staff, login_as):
    manager = login_as(Role.MANAGER, department="销售部")
    manager.managed.append(ManagedDepartment(department="销售部"))
    db.session.commit()
    job = _as_job(app, client, "/hr/employees/export.csv")
    data = Download(client, f"/hr/exports/{job.id}/download").data.decode("utf-8-sig")
    assert "Q1" in data
    assert "T1" not in data
    assert client.get(f"/hr/jobs/{job.id}").status_code == 403  # HR's job pages stay HR's


def test_expired_files_are_removed_and_the_page_says_so(app, client, hr, staff):
    job = _as_job(app, client, "/hr/employees/export.csv")
    stored = db.session.scalars(select(JobFile)).one()
    stored.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    runner.run_schedules()
    assert db.session.scalar(select(JobFile.id)) is None
    assert "文件已过保留期限" in client.get(f"/hr/exports/{job.id}").get_data(as_text=True)
    assert client.get(f"/hr/exports/{job.id}/download").status_code == 404
    assert len(_events()) == 1  # the audit event stays


def test_an_export_job_is_written_in_the_language_it_was_asked_in(app, client, hr, staff):
    client.post("/language", data={"locale": "en", "next": "/"})
    url = "/hr/employees/export.csv"
    direct = Download(client, url)
    assert direct.status_code == 200
    header = direct.data.decode("utf-8-sig").splitlines()[0]
    assert "Employee no." in header, header
    app.config["JOBS_RUN"] = "worker"  # queued only: run below, outside any request
    job = _as_job(app, client, url)
    assert job.state == JobState.QUEUED
    assert job.params["locale"] == "en"
    db.session.rollback()
    with app.app_context():  # a context of its own, as the worker's: no request, no locale
        assert runner.run_pending() == [(job.id, JobState.DONE)]
    db.session.refresh(job)
    background = Download(client, f"/hr/exports/{job.id}/download")
    assert background.data == direct.data  # the English headers, not the runner's Chinese
