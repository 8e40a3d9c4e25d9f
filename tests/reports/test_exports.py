"""CSV and XLSX exports, web and command line, with audit events."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from training.audit.models import AuditEvent
from training.extensions import db
from training.sheets import neutralise

DANGEROUS = '=HYPERLINK("http://evil.example","点我")'


class Download:
    """A fetched export, its file closed (the server streams it from a temporary file)."""

    def __init__(self, client, url):
        with client.get(url) as response:
            self.status_code = response.status_code
            self.mimetype = response.mimetype
            self.headers = response.headers
            self.data = response.get_data()

    def get_data(self):
        return self.data


def _csv(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _screen_headers(client, query=""):
    html = client.get("/hr/employees?" + query).get_data(as_text=True)
    head = html[html.index("<thead>") : html.index("</thead>")]
    import re

    return [
        re.sub(r"<[^>]+>|[▲▼]", "", cell).strip()
        for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    ]


def _sheet_headers(screen: list[str]) -> list[str]:
    """The screen's 完成课数 ("1 / 14") is two number columns in a sheet."""
    at = screen.index("完成课数") + 1
    return [*screen[:at], "总课数", *screen[at:]]


def _events():
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("张三", "张三"),
        ("", ""),
        (5, 5),
    ],
)
def test_neutralise_formula_starts(value, expected):
    assert neutralise(value) == expected


def test_csv_export_has_bom_screen_columns_and_neutralised_cells(client, hr, records, lessons):
    records.employee(employee_no="X1", name=DANGEROUS, department="销售部")
    records.employee(employee_no="X2", name="普通", department="技术部")

    response = Download(client, "/hr/employees/export.csv?department=销售部")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == _sheet_headers(_screen_headers(client, "department=销售部"))
    assert len(rows) == 2
    assert rows[1][0] == "X1"
    assert rows[1][1] == "'" + DANGEROUS


def test_xlsx_export_is_readable_with_screen_columns_and_real_dates(
    client, hr, records, lessons, today
):
    user = records.employee(employee_no="X3", name=DANGEROUS, hire_date=date(2026, 2, 3), due=today)
    records.read(user, lessons[0])

    response = Download(client, "/hr/employees/export.xlsx?q=X3&include_inactive=y")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == _sheet_headers(_screen_headers(client, "q=X3&include_inactive=y"))
    header = rows[0]
    row = dict(zip(header, rows[1], strict=True))
    assert row["工号"] == "X3"
    assert row["姓名"] == "'" + DANGEROUS
    assert row["入职日期"] == datetime(2026, 2, 3)
    assert row["截止日期"] == datetime.combine(today, datetime.min.time())
    assert isinstance(row["最近学习"], datetime)
    assert row["状态"] == "进行中"
    assert row["账号"] == "正常"
    assert row["完成课数"] == 0
    assert row["总课数"] == len(lessons)
    full = load_workbook(io.BytesIO(response.get_data())).active
    assert full["A1"].font.bold
    # A filter on the header row, the header frozen, columns as wide as their content.
    assert full.auto_filter.ref == f"A1:{full.cell(1, full.max_column).column_letter}2"
    assert full.freeze_panes == "A2"
    widths = {letter: dim.width for letter, dim in full.column_dimensions.items()}
    name_col = full.cell(1, header.index("姓名") + 1).column_letter
    assert widths[name_col] >= len(DANGEROUS)
    assert all(6 <= width <= 60 for width in widths.values())


def test_attempts_export_lists_every_attempt(client, hr, records, lessons):
    user = records.employee(employee_no="X4", name="孙八", department="仓储部")
    records.attempt(user, lessons[0], correct=False)
    records.attempt(user, lessons[0])
    records.attempt(user, lessons[1], submit=False)
    records.attempt(records.employee(department="别的部门"), lessons[0])

    rows = _csv(Download(client, "/hr/attempts/export.csv?department=仓储部"))

    assert rows[0] == [
        "工号",
        "姓名",
        "部门",
        "课程编号",
        "课程",
        "开始时间",
        "提交时间",
        "得分",
        "是否通过",
        "内容版本",
        "规范版本",
    ]
    assert len(rows) == 4
    assert [r[8] for r in rows[1:]] == ["否", "是", "未提交"]
    assert rows[2][7] == "100"
    assert rows[3][6] == ""
    assert rows[3][7] == ""
    assert rows[1][3] == lessons[0].number
    assert rows[1][4] == lessons[0].title
    assert rows[1][9] == lessons[0].content_hash[:12]
    assert rows[1][10] == lessons[0].source_sha256[:12]


def test_attempts_xlsx_export(client, hr, records, lessons):
    records.attempt(records.employee(), lessons[0])

    response = Download(client, "/hr/attempts/export.xlsx")

    rows = list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))
    assert rows[0][0] == "工号"
    assert len(rows) == 2
    assert isinstance(rows[1][5], datetime)
    assert rows[1][7] == 100


def test_every_export_is_audited_with_filters_and_row_count(client, hr, records, today):
    records.employee(department="销售部", due=today - timedelta(days=1))

    Download(client, "/hr/employees/export.csv?department=销售部&status=overdue")
    Download(client, "/hr/attempts/export.xlsx")

    db.session.rollback()
    events = _events()
    assert len(events) == 2
    employees, attempts = sorted(events, key=lambda e: e.id)
    assert employees.actor_id == hr.id
    assert employees.channel == "web"
    assert {k: v for k, v in employees.details.items() if k != "summary_params"} == {
        "what": "employees",
        "format": "csv",
        "rows": 1,
        "filters": {"department": "销售部", "status": "overdue"},
    }
    assert attempts.details["what"] == "attempts"
    assert attempts.details["rows"] == 0


def test_cli_exports_with_the_same_filters_and_audits(app, runner, records, lessons, tmp_path):
    records.employee(employee_no="C1", name="-cmd", department="销售部", hire_date=date(2026, 1, 2))
    records.employee(employee_no="C2", department="技术部")
    out = tmp_path / "employees.csv"

    result = runner.invoke(
        args=[
            "report",
            "export",
            "--format",
            "csv",
            "--out",
            str(out),
            "--department",
            "销售部",
            "--hired-from",
            "2026-01-01",
            "--status",
            "未开始",
        ]
    )

    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["C1"]
    assert rows[1][1] == "'-cmd"
    event = _events()[-1]
    assert event.channel == "cli"
    assert event.actor_id is None
    assert event.details["filters"] == {
        "department": "销售部",
        "hired_from": "2026-01-01",
        "status": "not_started",
    }


def test_cli_exports_attempts_as_xlsx(app, runner, records, lessons, tmp_path):
    records.attempt(records.employee(), lessons[0])
    out = tmp_path / "attempts.xlsx"

    result = runner.invoke(
        args=["report", "export", "--format", "xlsx", "--out", str(out), "--what", "attempts"]
    )

    assert result.exit_code == 0, result.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[0][-1] == "规范版本"


@pytest.mark.parametrize("url", ["/hr/employees/export.csv", "/hr/norm/versions/1/export.csv"])
def test_an_audited_export_holds_the_write_lock_from_its_first_read(
    app, client, hr, records, lessons, monkeypatch, url
):
    """Another writer committing between the report query and the audit insert cannot break it.

    On SQLite a transaction that began as a reader fails with "database is locked" when it
    tries to write after someone else committed; an export takes the write lock up front,
    so the other writer is the one that must wait.
    """
    import sqlite3

    from training.reports import export as export_module
    from training.revisions import services as revision_services

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite"):
        pytest.skip("the write lock up front matters on SQLite only")
    path = uri.removeprefix("sqlite:///")
    refused = []

    def another_writer():
        other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("COMMIT")
        except sqlite3.OperationalError as error:
            refused.append(str(error))
        finally:
            other.close()

    def interleaved(original):
        def run(*args, **kwargs):
            result = original(*args, **kwargs)
            another_writer()  # between the report's reads and the audit insert
            return result

        return run

    monkeypatch.setattr(export_module, "write_export", interleaved(export_module.write_export))
    monkeypatch.setattr(
        revision_services, "completed_rows", interleaved(revision_services.completed_rows)
    )
    monkeypatch.setattr(
        "training.reports.views.write_export", interleaved(export_module.write_export)
    )
    records.employee(name="导出人")

    response = Download(client, url)

    assert response.status_code == 200
    assert refused
    assert "locked" in refused[0]
    db.session.rollback()
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
