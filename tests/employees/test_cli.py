"""`flask users import` and `flask users create`: same rules as the web, all or nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from training.assignments.models import Assignment
from training.audit.models import AuditEvent
from training.auth.models import PasswordLink, Role, User
from training.extensions import db

ROWS = [
    ["E4001", "吴一", "销售部", "2024-03-01", "", "", ""],
    ["E4002", "郑二", "客服部", "2024/3/5", "", "", "人事"],
]


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def write(tmp_path):
    """Return a function that writes bytes to a file and returns its path."""

    def do_write(data: bytes, name: str = "staff.csv") -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return do_write


def test_import_creates_accounts_and_prints_links(runner, write, csv_file):
    path = write(csv_file(ROWS))
    result = runner.invoke(args=["users", "import", path])
    assert result.exit_code == 0, result.output
    assert "2 new, 0 updated, 0 unchanged" in result.output
    lines = [line for line in result.output.splitlines() if "\t" in line]
    assert [line.split("\t")[:2] for line in lines] == [["E4001", "吴一"], ["E4002", "郑二"]]
    assert all(
        line.split("\t")[2].startswith("http://127.0.0.1:5000/set-password/") for line in lines
    )
    assert _count(User) == 2
    assert _count(Assignment, Assignment.reason == "hire") == 1  # the 人事 row is not assigned
    assert _count(PasswordLink) == 2
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.import"))
    assert (event.channel, event.actor_id) == ("cli", None)
    assert (event.details["created"], event.details["filename"]) == (2, "staff.csv")


def test_import_uses_base_url_for_links(make_app, write, csv_file):
    app = make_app(BASE_URL="https://training.example.com")
    result = app.test_cli_runner().invoke(args=["users", "import", write(csv_file(ROWS))])
    assert "https://training.example.com/set-password/" in result.output


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [ROWS[0], ["E4001", "郑二", "客服部", "2024-03-05", "", "", ""]],
            ["row 3: 工号: 工号与第 2 行重复。"],
        ),
        (
            [ROWS[0], ["E4002", "", "客服部", "2024-02-30", "x@", "", "老板"]],
            [
                "row 3: 姓名: 姓名不能为空。",
                "row 3: 入职日期: 无法识别日期“2024-02-30”",
                "row 3: 邮箱: 邮箱格式不正确。",
                "row 3: 角色: 未知角色“老板”",
            ],
        ),
    ],
)
def test_import_with_bad_rows_prints_each_and_writes_nothing(
    runner, write, csv_file, rows, expected
):
    path = write(csv_file(rows))
    result = runner.invoke(args=["users", "import", path])
    assert result.exit_code == 1
    for text in expected:
        assert f"{path}: {text}" in result.output
    assert "nothing was imported" in result.output
    assert _count(User) == 0
    assert _count(AuditEvent) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "文件是空的"), (b"\x00\x01\x02", "无法读取文件"), (b"a,b\r\n1,2\r\n", "缺少列")],
)
def test_import_of_an_unreadable_file_exits_1(runner, write, data, message):
    path = write(data)
    result = runner.invoke(args=["users", "import", path])
    assert result.exit_code == 1
    assert f"{path}: " in result.output
    assert message in result.output


def test_import_of_a_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["users", "import", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2


def test_dry_run_prints_the_summary_and_writes_nothing(runner, write, csv_file, create_user):
    create_user(employee_no="E4001", name="吴壹", department="销售部", hire_date=date(2024, 3, 1))
    result = runner.invoke(args=["users", "import", "--dry-run", write(csv_file(ROWS))])
    assert result.exit_code == 0, result.output
    assert "1 new, 1 updated, 0 unchanged" in result.output
    assert "nothing was written" in result.output
    assert _count(User) == 1
    assert db.session.scalar(select(User.name)) == "吴壹"
    assert _count(AuditEvent) == 0


def test_dry_run_with_bad_rows_exits_1(runner, write, csv_file):
    result = runner.invoke(
        args=["users", "import", "--dry-run", write(csv_file([*ROWS, ["E 9", "", "", ""]]))]
    )
    assert result.exit_code == 1


def test_reimport_from_cli_updates_by_employee_no(runner, write, csv_file, create_user):
    create_user(employee_no="E4002", name="郑贰", department="市场部")
    result = runner.invoke(args=["users", "import", write(csv_file(ROWS))])
    assert result.exit_code == 0, result.output
    assert "1 new, 1 updated, 0 unchanged" in result.output
    user = db.session.scalar(select(User).where(User.employee_no == "E4002"))
    assert (user.name, user.department, user.role) == ("郑二", "客服部", Role.HR)
    assert _count(PasswordLink) == 1  # only the new employee gets a link


def test_import_reads_xlsx(runner, write, xlsx_file):
    data = xlsx_file(
        [["E4101", "冯三", "销售部", date(2024, 4, 1)]], header=["工号", "姓名", "部门", "入职日期"]
    )
    result = runner.invoke(args=["users", "import", write(data, "staff.xlsx")])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.hire_date)) == date(2024, 4, 1)


def test_create_prints_a_link_and_assigns_the_course(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "E4201",
            "--name",
            "陈四",
            "--department",
            "销售部",
            "--hire-date",
            "2024-05-01",
            "--position",
            "销售",
            "--email",
            "chen@example.com",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/set-password/" in result.output
    assert "password):" not in result.output
    user = db.session.scalar(select(User))
    assert (user.hire_date, user.position, user.email) == (
        date(2024, 5, 1),
        "销售",
        "chen@example.com",
    )
    assert user.password_hash is None
    assignment = db.session.scalar(select(Assignment))
    assert assignment.due_date == date(2024, 5, 1 + app.config["ONBOARDING_DAYS"])
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["user.create", "link.setup"]
    assert set(db.session.scalars(select(AuditEvent.channel))) == {"cli"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["E 1", "--name", "陈四"], "工号只能包含"),
        (["E4201", "--name", " "], "--name must not be empty"),
        (["E4201", "--name", "陈四", "--email", "bad"], "邮箱格式不正确"),
        (["E4201", "--name", "陈四", "--hire-date", "2024/5/1"], "Invalid value"),
        (["e0001", "--name", "陈四"], "already exists"),
    ],
)
def test_create_refuses_bad_input(runner, create_user, args, message):
    create_user(employee_no="E0001")
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert _count(User) == 1


def test_ensure_hr_still_prints_a_one_time_password(runner):
    result = runner.invoke(args=["users", "ensure-hr"])
    assert result.exit_code == 0
    assert "一次性密码" in result.output
    assert db.session.scalar(select(User.must_change_password)) is True
