"""Import through the web: preview writes nothing, confirm is all or nothing, re-import updates."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from tests.employees.conftest import confirm_data as _confirm_data
from tests.employees.conftest import count_rows as _count
from training.assignments.models import Assignment
from training.audit.models import AuditEvent
from training.auth.models import PasswordLink, Role, User
from training.course.models import Certificate, QuizAttempt, ReadEvent
from training.employees.models import StagedUpload
from training.extensions import db
from training.jobs.models import Job

ROWS = [
    ["E3001", "赵一", "销售部", "2024-03-01", "zhao@example.com", "销售", "员工"],
    ["E3002", "钱二", "客服部", "2024/3/5", "", "", ""],
    ["E3003", "孙三", "客服部", "2024年3月9日", "", "主管", "人事"],
]


def test_upload_page_renders(client, hr):
    page = client.get("/hr/employees/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.get_data(as_text=True)


def test_preview_shows_counts_and_writes_nothing(client, hr, upload, csv_file, imports_dir):
    response = upload(csv_file(ROWS))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "新建 3 人，更新 0 人，0 人不变" in html
    assert "E3003" in html
    assert _count(User) == 1
    assert _count(AuditEvent) == 0
    assert _count(Assignment) == 0
    # Kept in the database (any app host can confirm it), not in the instance folder.
    stored = db.session.scalars(select(StagedUpload)).all()
    assert [row.id for row in stored] == [_confirm_data(html)["upload_id"]]
    assert (stored[0].user_id, stored[0].filename) == (hr.id, "staff.csv")
    assert stored[0].data == csv_file(ROWS)
    assert stored[0].sha256 == hashlib.sha256(csv_file(ROWS)).hexdigest()
    assert not imports_dir.exists()


def test_preview_lists_every_problem_with_its_row_and_offers_no_confirm(
    client, hr, upload, csv_file
):
    rows = [
        ROWS[0],
        ["E3001", "", "销售部", "2024-13-01", "bad-email", "", "老板"],
        ["", "孙三", "", "", "", "", ""],
    ]
    response = upload(csv_file(rows))
    html = response.get_data(as_text=True)
    assert "发现 8 个问题" in html
    for text in [
        "<td>3</td><td>工号</td><td>工号与第 2 行重复。</td>",
        "<td>3</td><td>姓名</td><td>姓名不能为空。</td>",
        "<td>3</td><td>入职日期</td>",
        "<td>3</td><td>邮箱</td><td>邮箱格式不正确。</td>",
        "<td>3</td><td>角色</td>",
        "<td>4</td><td>工号</td><td>工号不能为空。</td>",
        "<td>4</td><td>部门</td><td>部门不能为空。</td>",
        "<td>4</td><td>入职日期</td><td>入职日期不能为空。</td>",
    ]:
        assert text in html
    assert 'name="upload_id"' not in html
    assert _count(User) == 1


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "staff.csv", "文件是空的"),
        (b"\x00\x01binary\xff", "staff.csv", "无法读取文件"),
        (b"hello", "staff.xlsx", "不是有效的 Excel"),
        ("姓名,部门\r\n张三,销售部\r\n".encode(), "staff.csv", "缺少列：工号和入职日期"),
    ],
)
def test_bad_files_get_a_clear_message(client, hr, upload, data, filename, message):
    response = upload(data, filename)
    assert message in response.get_data(as_text=True)
    assert _count(User) == 1


def test_oversized_upload_is_refused(make_app, create_user, tmp_path, csv_file):
    app = make_app(IMPORT_MAX_BYTES=100)
    app.instance_path = str(tmp_path)
    with app.app_context():
        hr = create_user(role=Role.HR)
        client = app.test_client()
        client.post("/login", data={"employee_no": hr.employee_no, "password": "Correct-Horse-42"})
        response = client.post(
            "/hr/employees/import",
            data={"file": (io.BytesIO(csv_file(ROWS * 5)), "big.csv")},
            content_type="multipart/form-data",
        )
        assert "大小限制" in response.get_data(as_text=True)
        assert _count(StagedUpload) == 0


def test_confirm_creates_accounts_with_course_and_links_shown_once(
    app, client, hr, upload, csv_file, imports_dir
):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    response = client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    # The import runs as a background job (here in the request: JOBS_RUN = "inline").
    assert response.status_code == 302
    job_page = response.headers["Location"]
    assert re.fullmatch(r"/hr/jobs/\d+", job_page)
    result = client.get(job_page).get_data(as_text=True)
    assert "导入完成：新建 3 人，更新 0 人，0 人不变" in result
    assert _count(PasswordLink) == 0  # links are issued when HR is there to hand them over
    job_id = int(job_page.rsplit("/", 1)[1])
    shown = client.post(f"/hr/employees/import/jobs/{job_id}/links")
    assert shown.status_code == 200
    done = shown.get_data(as_text=True)
    lines = re.search(r"<textarea[^>]*>(.*?)</textarea>", done, re.S).group(1).strip().splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        ["E3001", "赵一"],
        ["E3002", "钱二"],
        ["E3003", "孙三"],
    ]
    assert all(line.split("\t")[2].startswith("http://localhost/set-password/") for line in lines)
    # Shown once: asking again issues nothing and says where to get a new link.
    again_links = client.post(f"/hr/employees/import/jobs/{job_id}/links")
    assert again_links.status_code == 302
    assert "已经显示过一次" in client.get(job_page).get_data(as_text=True)
    assert _count(AuditEvent, AuditEvent.action == "link.setup") == 3
    users = {u.employee_no: u for u in db.session.scalars(select(User).where(User.id != hr.id))}
    assert users["E3002"].hire_date == date(2024, 3, 5)
    assert users["E3003"].role == Role.HR
    assert users["E3003"].position == "主管"
    assert users["E3001"].email == "zhao@example.com"
    assert all(u.password_hash is None for u in users.values())
    # HR staff are not assigned the course on hire (they are left out of the figures).
    assert _count(Assignment, Assignment.reason == "hire") == 2
    assert _count(PasswordLink, PasswordLink.purpose == "setup") == 3
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.import"))
    assert (event.channel, event.actor_id) == ("web", hr.id)
    assert event.details["created"] == 3
    assert event.details["updated"] == 0
    assert event.details["filename"] == "staff.csv"
    assert len(event.details["sha256"]) == 64
    assert _count(AuditEvent, AuditEvent.action == "user.create") == 3
    assert _count(StagedUpload) == 0  # the upload is deleted with the job's queueing
    # Confirming again finds no upload: nothing is imported twice.
    again = client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    assert again.status_code == 302
    assert _count(User) == 4


def test_xlsx_upload_imports(client, hr, upload, xlsx_file):
    data = xlsx_file([["E3101", "周五", "销售部", date(2024, 1, 2), None, None, "学员"]])
    html = upload(data, "名单.xlsx").get_data(as_text=True)
    client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    user = db.session.scalar(select(User).where(User.employee_no == "E3101"))
    assert (user.name, user.hire_date, user.role) == ("周五", date(2024, 1, 2), Role.LEARNER)


def test_gbk_csv_upload_imports(client, hr, upload, csv_file):
    html = upload(csv_file(ROWS, encoding="gbk")).get_data(as_text=True)
    client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    assert db.session.scalar(select(User.name).where(User.employee_no == "E3001")) == "赵一"


def test_row_that_became_invalid_after_preview_means_nothing_is_written(
    client, hr, upload, csv_file, create_user
):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    # Row 3 (E3002, no role given) now finds this manager, whatever the case of the 工号, and a
    # manager must have departments to head.
    create_user(employee_no="e3002", role=Role.MANAGER)
    response = client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "未导入任何数据" in page
    assert "<td>3</td><td>负责部门</td>" in page
    assert _count(User) == 2
    assert _count(AuditEvent) == 0
    assert _count(Assignment) == 0
    assert _count(PasswordLink) == 0


def test_changed_database_after_preview_asks_to_confirm_again(
    client, hr, upload, csv_file, create_user
):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    create_user(employee_no="E3002", name="钱二", department="客服部")  # now an update, not new
    response = client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "新建 2 人，更新 1 人，0 人不变" in page
    assert _count(User) == 2
    response = client.post("/hr/employees/import/confirm", data=_confirm_data(page))
    assert response.status_code == 302  # to the job's page; the job ran (JOBS_RUN = "inline")
    assert _count(User) == 4


def test_reimport_updates_by_employee_no_and_keeps_records(
    client, hr, upload, csv_file, create_user, lessons
):
    employee = create_user(
        employee_no="E3001",
        name="赵壹",
        department="市场部",
        hire_date=date(2023, 1, 1),
        email="old@example.com",
        position="专员",
    )
    lesson = lessons[0]
    db.session.add_all(
        [
            ReadEvent(user_id=employee.id, lesson_id=lesson.id, lesson_hash=lesson.content_hash),
            QuizAttempt(
                user_id=employee.id,
                lesson_id=lesson.id,
                lesson_hash=lesson.content_hash,
                seed=1,
                draw={},
                pass_mark="0.8",
            ),
            Certificate(user_id=employee.id, source_sha256="a" * 64, norm_title="规范", code="C1"),
            Assignment(user_id=employee.id, due_date=date(2023, 1, 15), reason="hire"),
        ]
    )
    db.session.commit()
    password_hash = employee.password_hash
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    assert "新建 2 人，更新 1 人，0 人不变" in html
    assert "姓名：赵壹 → 赵一" in html
    client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    db.session.refresh(employee)
    assert (employee.name, employee.department, employee.hire_date) == (
        "赵一",
        "销售部",
        date(2024, 3, 1),
    )
    assert (employee.email, employee.position, employee.role) == (
        "zhao@example.com",
        "销售",
        Role.LEARNER,
    )
    assert employee.password_hash == password_hash
    assert _count(ReadEvent, ReadEvent.user_id == employee.id) == 1
    assert _count(QuizAttempt, QuizAttempt.user_id == employee.id) == 1
    assert _count(Certificate, Certificate.user_id == employee.id) == 1
    assert _count(Assignment, Assignment.user_id == employee.id) == 1  # no new hire assignment
    assert _count(PasswordLink, PasswordLink.user_id == employee.id) == 0
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert update.target_user_id == employee.id
    assert update.details["changes"]["name"] == ["赵壹", "赵一"]
    assert update.details["changes"]["hire_date"] == ["2023-01-01", "2024-03-01"]
    count = len(update.details["changes"])
    assert update.summary_text == f"导入更新员工 赵一（{employee.employee_no}）的 {count} 项信息"

    # The same file again: everything unchanged.
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    assert "新建 0 人，更新 0 人，3 人不变" in html


def test_import_cannot_change_the_importers_own_role(client, hr, upload, csv_file):
    rows = [[hr.employee_no, hr.name, hr.department, "2024-01-01", "", "", "员工"]]
    html = upload(csv_file(rows)).get_data(as_text=True)
    assert "不能通过导入更改自己的角色。" in html
    assert 'name="upload_id"' not in html


def test_expired_upload_cannot_be_confirmed(client, hr, upload, csv_file, imports_dir):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    data = _confirm_data(html)
    _age(data["upload_id"], timedelta(seconds=3601))
    response = client.post("/hr/employees/import/confirm", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/hr/employees/import"
    assert _count(User) == 1


def test_old_uploads_are_pruned(client, hr, upload, csv_file, imports_dir):
    old = _confirm_data(upload(csv_file(ROWS)).get_data(as_text=True))["upload_id"]
    recent = _confirm_data(upload(csv_file(ROWS)).get_data(as_text=True))["upload_id"]
    _age(old, timedelta(hours=2))
    newest = _confirm_data(upload(csv_file(ROWS)).get_data(as_text=True))["upload_id"]
    assert set(db.session.scalars(select(StagedUpload.id))) == {recent, newest}


def test_another_hr_user_cannot_confirm_my_upload(
    make_app, client, hr, upload, csv_file, create_user, imports_dir
):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    other_hr = create_user(role=Role.HR)
    client.post("/logout")
    client.post(
        "/login", data={"employee_no": other_hr.employee_no, "password": "Correct-Horse-42"}
    )
    response = client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    assert response.status_code == 302
    assert response.headers["Location"] == "/hr/employees/import"
    assert _count(User) == 2
    assert _count(Job) == 0
    # Nor see its preview.
    preview = client.get(f"/hr/employees/import/{_confirm_data(html)['upload_id']}/preview")
    assert preview.headers["Location"] == "/hr/employees/import"
    assert _count(StagedUpload) == 1  # still there for its owner


@pytest.mark.parametrize("upload_id", ["../../secret_key", "x", "a" * 65, ""])
def test_tampered_upload_id_is_refused(client, hr, imports_dir, upload_id):
    response = client.post(
        "/hr/employees/import/confirm", data={"upload_id": upload_id, "fingerprint": "f"}
    )
    assert response.status_code in (302, 400)
    assert _count(User) == 1


def test_tampered_stored_bytes_are_refused(client, hr, upload, csv_file, imports_dir):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    data = _confirm_data(html)
    # Someone with access to the database swaps the bytes but cannot match the sha256.
    db.session.execute(
        update(StagedUpload)
        .where(StagedUpload.id == data["upload_id"])
        .values(data=csv_file(ROWS[:1]))
    )
    db.session.commit()
    response = client.post("/hr/employees/import/confirm", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/hr/employees/import"
    assert _count(User) == 1
    assert _count(Job) == 0


def test_a_preview_on_one_app_host_is_confirmed_on_another(
    app, make_app, client, hr, upload, csv_file, imports_dir, tmp_path
):
    # Two hosts behind a load balancer: own instance folders, one database, one secret key.
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    db.session.commit()  # the test shares the request's session: end its transaction
    other = make_app()
    other.instance_path = str(tmp_path / "other-host")
    assert other.instance_path != app.instance_path
    other_client = other.test_client()
    cookie = client.get_cookie("training_session")  # the browser sends it to either host
    other_client.set_cookie("training_session", cookie.value)
    response = other_client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    assert response.status_code == 302
    assert re.fullmatch(r"/hr/jobs/\d+", response.headers["Location"])
    db.session.rollback()
    assert _count(User) == 4
    assert _count(StagedUpload) == 0
    assert not imports_dir.exists()
    assert not (tmp_path / "other-host" / "imports").exists()


def _age(upload_id: str, by: timedelta) -> None:
    """Make a stored upload older by ``by``."""
    row = db.session.get(StagedUpload, upload_id)
    row.created_at -= by
    db.session.commit()


def test_only_the_hr_user_who_ran_an_import_can_use_up_its_link_display(
    app, client, hr, upload, csv_file, imports_dir, create_user, auth
):
    html = upload(csv_file(ROWS)).get_data(as_text=True)
    job_page = client.post("/hr/employees/import/confirm", data=_confirm_data(html)).headers[
        "Location"
    ]
    job_id = int(job_page.rsplit("/", 1)[1])
    other = create_user(role=Role.HR, name="人事乙")
    auth.logout()
    auth.login(other.employee_no)
    # HR B sees the result but no button, and is told whose display it is.
    page = client.get(job_page).get_data(as_text=True)
    assert "data-issue-links" not in page
    assert "只有发起这次导入的人事甲可以生成并显示" in page
    refused = client.post(f"/hr/employees/import/jobs/{job_id}/links")
    assert refused.status_code == 302
    assert "只有发起这次导入的人事甲可以生成并显示新账号的链接" in client.get(job_page).get_data(
        as_text=True
    )
    assert _count(PasswordLink) == 0
    assert _count(AuditEvent, AuditEvent.action == "link.setup") == 0
    # HR A, who ran it, still has the one display.
    auth.logout()
    auth.login(hr.employee_no)
    assert "data-issue-links" in client.get(job_page).get_data(as_text=True)
    shown = client.post(f"/hr/employees/import/jobs/{job_id}/links")
    assert shown.status_code == 200
    lines = re.search(r"<textarea[^>]*>(.*?)</textarea>", shown.get_data(as_text=True), re.S)
    assert len(lines.group(1).strip().splitlines()) == 3
    assert _count(PasswordLink) == 3
    # Afterwards B learns that, by whom and when, and still cannot get them.
    auth.logout()
    auth.login(other.employee_no)
    page = client.get(job_page).get_data(as_text=True)
    assert "已由人事甲于 " in page
    assert "显示过一次（3 个）" in page
    assert client.post(f"/hr/employees/import/jobs/{job_id}/links").status_code == 302
    assert _count(PasswordLink) == 3
