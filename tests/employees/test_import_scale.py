"""Large imports: the row limit, 100,000 rows as one job, all or nothing, once, the same mail."""

from __future__ import annotations

import io
import re
import time
from datetime import date

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select

from tests.employees.conftest import confirm_data as _confirm_data
from tests.employees.conftest import count_rows as _count
from training.assignments.models import Assignment
from training.audit.chain import ChainLink
from training.audit.models import AuditEvent
from training.auth.models import PasswordLink, Role, User
from training.course.models import ProgressSummary
from training.employees.models import StagedUpload
from training.extensions import db
from training.jobs.models import Job, JobState
from training.notifications import messages, outbox
from training.notifications.models import Notification, QueueEntry

LARGE = 100_000


def _rows(count: int, *, emails: bool = False) -> list[list[str]]:
    return [
        [
            f"S{n:06d}",
            f"员工{n}",
            f"门店{n % 40}",
            f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
            f"s{n:06d}@example.com" if emails else "",
            "店员",
            "",
        ]
        for n in range(1, count + 1)
    ]


def _job_page(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert re.fullmatch(r"/hr/jobs/\d+", response.headers["Location"])
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_row_limit_is_a_setting_stated_on_the_upload_page(app, client, hr):
    assert app.config["IMPORT_MAX_ROWS"] == 100_000
    page = client.get("/hr/employees/import").get_data(as_text=True)
    assert "每个文件最多 100,000 名员工" in page


def test_a_file_past_the_row_limit_is_refused_with_a_message_naming_the_limit(
    make_app, create_user, csv_file, xlsx_file
):
    app = make_app(IMPORT_MAX_ROWS=5)
    with app.app_context():
        hr = create_user(role=Role.HR)
        client = app.test_client()
        client.post("/login", data={"employee_no": hr.employee_no, "password": "Correct-Horse-42"})
        for data, name in ((csv_file(_rows(6)), "staff.csv"), (xlsx_file(_rows(6)), "staff.xlsx")):
            response = client.post(
                "/hr/employees/import",
                data={"file": (io.BytesIO(data), name)},
                content_type="multipart/form-data",
            )
            html = response.get_data(as_text=True)
            assert (
                "文件超过 5 行的上限（表头不算，空行也计算在内），请拆分成几个文件分批导入。"
                in html
            )
            assert 'name="upload_id"' not in html  # nothing to confirm
        # Five rows are within the limit.
        response = client.post(
            "/hr/employees/import",
            data={"file": (io.BytesIO(csv_file(_rows(5))), "staff.csv")},
            content_type="multipart/form-data",
        )
        assert "确认后将：新建 5 人" in response.get_data(as_text=True)
        assert _count(User) == 1


def test_the_preview_of_a_large_file_shows_counts_and_the_first_rows_only(
    client, hr, upload, csv_file
):
    response = upload(csv_file(_rows(1200)))
    html = response.get_data(as_text=True)
    assert "确认后将：新建 1200 人，更新 0 人，0 人不变。" in html
    assert html.count("<tr data-new=") == 200
    assert "只列出前 200 人，还有 1000 人未列出，确认后一并导入。" in html
    assert len(html) < 200_000


def test_a_large_file_with_many_problems_lists_the_first_ones_with_their_rows(
    client, hr, upload, csv_file
):
    rows = _rows(800)
    for row in rows:
        row[3] = "不是日期"
    html = upload(csv_file(rows)).get_data(as_text=True)
    assert "发现 800 个问题，未导入任何数据。" in html
    assert "<td>2</td><td>入职日期</td>" in html  # the first data row is row 2
    assert "<td>501</td><td>入职日期</td>" in html
    assert "<td>502</td><td>入职日期</td>" not in html
    assert "只列出前 500 个问题，还有 300 个未列出。" in html


@pytest.mark.slow
def test_a_file_of_100000_rows_imports_completely_as_one_job(app, client, hr, upload, csv_file):
    started = time.monotonic()
    html = upload(csv_file(_rows(LARGE))).get_data(as_text=True)
    assert f"确认后将：新建 {LARGE} 人，更新 0 人，0 人不变。" in html
    page = _job_page(client, client.post("/hr/employees/import/confirm", data=_confirm_data(html)))
    assert f"导入完成：新建 {LARGE} 人，更新 0 人，0 人不变" in page
    db.session.rollback()
    assert _count(Job) == 1
    assert db.session.scalars(select(Job.state)).one() == JobState.DONE
    assert _count(User, User.role == Role.LEARNER) == LARGE
    assert _count(Assignment, Assignment.reason == "hire") == LARGE
    assert _count(AuditEvent, AuditEvent.action == "user.create") == LARGE
    assert _count(AuditEvent, AuditEvent.action == "user.import") == 1
    assert _count(ProgressSummary) == LARGE + 1  # HR's figures count them at once
    # Every evidence row is in the tamper-evidence chain.
    assert _count(ChainLink, ChainLink.table_name == "audit_events") == LARGE + 1
    assert _count(ChainLink, ChainLink.table_name == "assignments") == LARGE
    last = db.session.scalar(select(User).where(User.employee_no == f"S{LARGE:06d}"))
    assert (last.name, last.department, last.hire_date) == (
        f"员工{LARGE}",
        "门店0",
        date(2025, 5, 13),
    )
    assert _count(StagedUpload) == 0
    print(f"100,000 rows: upload, preview, confirm and job in {time.monotonic() - started:.1f} s")


def test_an_error_midway_through_the_job_leaves_nothing(
    app, client, hr, upload, csv_file, monkeypatch
):
    # The mail queue fails after the job has written the accounts, assignments and audit
    # events of 12,000 employees (in batches of 5,000): the whole job rolls back.
    def failing(messages_):
        assert _count(User) == 12_001  # written so far, in the job's transaction
        raise RuntimeError("the outbox is broken")

    monkeypatch.setattr(outbox, "enqueue_many", failing)
    links_before = _count(ChainLink)
    html = upload(csv_file(_rows(12_000, emails=True))).get_data(as_text=True)
    page = _job_page(client, client.post("/hr/employees/import/confirm", data=_confirm_data(html)))
    assert "任务出错（RuntimeError），未写入任何数据。" in page
    db.session.rollback()
    assert db.session.scalars(select(Job.state)).one() == JobState.FAILED
    assert _count(User) == 1
    assert _count(Assignment) == 0
    assert _count(AuditEvent) == 0
    assert _count(Notification) == 0
    assert _count(ProgressSummary, ProgressSummary.user_id != hr.id) == 0
    assert _count(ChainLink) == links_before


def test_a_doubled_confirm_of_a_large_file_imports_it_once(app, client, hr, upload, csv_file):
    html = upload(csv_file(_rows(6000))).get_data(as_text=True)
    data = _confirm_data(html)
    first = client.post("/hr/employees/import/confirm", data=data)
    second = client.post("/hr/employees/import/confirm", data=data)
    assert "导入完成：新建 6000 人" in _job_page(client, first)
    assert second.headers["Location"] == "/hr/employees/import"  # the upload is gone
    db.session.rollback()
    assert _count(Job) == 1
    assert _count(User) == 6001
    assert _count(AuditEvent, AuditEvent.action == "user.import") == 1
    assert _count(AuditEvent, AuditEvent.action == "user.create") == 6000


def test_links_of_a_large_job_are_issued_once_with_their_audit_events(
    app, client, hr, upload, csv_file
):
    html = upload(csv_file(_rows(6000))).get_data(as_text=True)
    response = client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    shown = client.post(f"/hr/employees/import/jobs/{job_id}/links").get_data(as_text=True)
    lines = re.search(r"<textarea[^>]*>(.*?)</textarea>", shown, re.S).group(1).split("\n")
    lines = [line for line in lines if line.strip()]
    assert len(lines) == 6000
    assert lines[0].startswith("S000001\t员工1\thttp://localhost/set-password/")
    assert _count(PasswordLink, PasswordLink.purpose == "setup") == 6000
    assert _count(AuditEvent, AuditEvent.action == "link.setup") == 6000
    # The token in the page opens the set-password form; only its sha256 is stored.
    token = lines[0].rsplit("/", 1)[1]
    client.post("/logout")
    assert client.get(f"/set-password/{token}").status_code == 200
    assert _count(PasswordLink, PasswordLink.token_hash == token) == 0


def test_bulk_invitations_are_the_messages_one_invitation_writes(app, lessons, create_user):
    people = [
        create_user(employee_no="M1", name="<b>张&三</b>", email="m1@example.com"),
        create_user(employee_no="M2", name="李四", email="m2@example.com"),
        create_user(employee_no="M3", name="王五", email=""),
        create_user(employee_no="M4", name="赵六", email="m4@example.com"),
    ]
    due = {"M1": date(2026, 1, 15), "M2": None, "M3": date(2026, 1, 15), "M4": date(2027, 6, 1)}
    queued = messages.invitations(
        [
            messages.Invitee(
                user.id, user.employee_no, user.name, user.email, due[user.employee_no]
            )
            for user in people
        ],
        lessons,
    )
    assert queued == 3  # M3 has no address
    mailed = [people[0], people[1], people[3]]
    fields = (Notification.key, Notification.subject, Notification.body_text)
    fields += (Notification.body_html, Notification.address)
    bulk = {
        row.user_id: tuple(row)[1:]
        for row in db.session.execute(select(Notification.user_id, *fields))
    }
    assert _count(QueueEntry) == 3
    db.session.rollback()
    for user in mailed:
        messages.invitation(user, due[user.employee_no], lessons)
        db.session.flush()
        single = db.session.execute(select(*fields).where(Notification.user_id == user.id)).one()
        assert bulk[user.id] == tuple(single)
        db.session.rollback()
    assert "2027-06-01" in bulk[people[3].id][2]
    key, subject, text, html, address = bulk[people[0].id]
    assert (key, address) == (f"invitation:{people[0].id}:M1", "m1@example.com")
    assert "&lt;b&gt;张&amp;三&lt;/b&gt;" in html
    assert "<b>张&三</b>" in text


def test_bulk_invitations_render_each_message_when_a_template_uses_a_value_otherwise(
    app, lessons, create_user
):
    # A subject that counts the name's characters cannot be filled in from a stand-in.
    loader = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader({"notifications/invitation.subject.txt": "{{ user.name|length }} 个字"}),
            loader,
        ]
    )
    app.jinja_env.cache.clear()
    try:
        people = [
            create_user(employee_no="N1", name="张三", email="n1@example.com"),
            create_user(employee_no="N2", name="欧阳明月", email="n2@example.com"),
        ]
        invitees = [
            messages.Invitee(user.id, user.employee_no, user.name, user.email, None)
            for user in people
        ]
        assert messages.invitations(invitees, lessons) == 2
        subjects = dict(
            db.session.execute(select(Notification.user_id, Notification.subject)).tuples().all()
        )
        assert subjects == {people[0].id: "2 个字", people[1].id: "4 个字"}
    finally:
        app.jinja_env.loader = loader
        app.jinja_env.cache.clear()
