"""The pure importer: encodings, XLSX, header and file checks, every kind of bad row."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest

from training.employees.importer import (
    ExistingUser,
    ImportRow,
    RowProblem,
    parse_date,
    parse_file,
    plan,
    validate,
)

ROWS = [
    ["E1001", "张三", "销售部", "2024-03-01", "zhang@example.com", "销售", "员工"],
    ["E1002", "李四", "客服部", "2024/3/5", "", "", "人事"],
]


def _existing(**fields) -> ExistingUser:
    values = {
        "employee_no": "E1001",
        "name": "张三",
        "department": "销售部",
        "position": "销售",
        "email": "zhang@example.com",
        "hire_date": date(2024, 3, 1),
        "role": "learner",
    }
    return ExistingUser(**(values | fields))


@pytest.mark.parametrize(
    ("encoding", "kind"),
    [("utf-8", "csv (UTF-8)"), ("utf-8-sig", "csv (UTF-8)"), ("gb18030", "csv (GB18030)")],
)
def test_csv_is_read_in_utf8_with_or_without_bom_and_gb18030(csv_file, encoding, kind):
    table = parse_file(csv_file(ROWS, encoding=encoding), "staff.csv")
    assert table.problems == []
    assert table.kind == kind
    assert [(r.row_number, r.employee_no, r.name, r.department) for r in table.rows] == [
        (2, "E1001", "张三", "销售部"),
        (3, "E1002", "李四", "客服部"),
    ]


def test_gbk_bytes_as_excel_in_china_saves_them(csv_file):
    data = csv_file(ROWS, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    table = parse_file(data, "名单.csv")
    assert table.problems == []
    assert table.rows[0].name == "张三"


def test_xlsx_with_date_cells_and_numbers(xlsx_file):
    data = xlsx_file(
        [
            [1001, "张三", "销售部", datetime(2024, 3, 1), None, None, "员工"],
            ["E1002", "李四", "客服部", date(2024, 3, 5), "li@example.com", "组长", "HR"],
            ["E1003", "王五", "客服部", 45352, None, None, None],  # a date serial without format
        ]
    )
    table = parse_file(data, "staff.xlsx")
    assert table.problems == []
    assert table.kind == "xlsx"
    first, second, third = table.rows
    assert (first.row_number, first.employee_no, first.hire_date) == (2, "1001", date(2024, 3, 1))
    assert (second.email, second.position, second.role) == ("li@example.com", "组长", "HR")
    assert third.hire_date == date(2024, 3, 1)
    assert validate(table.rows, {}) == []


def test_xlsx_is_recognised_by_content_not_name(xlsx_file):
    table = parse_file(xlsx_file(ROWS), "staff.csv")
    assert table.problems == []
    assert len(table.rows) == 2


def test_blank_rows_are_skipped_but_row_numbers_stay_as_excel_shows(csv_file):
    data = csv_file([ROWS[0], ["", "", "", "", "", "", ""], ["E1003", "", "销售部", "2024-01-01"]])
    table = parse_file(data, "staff.csv")
    assert [row.row_number for row in table.rows] == [2, 4]
    assert validate(table.rows, {}) == [RowProblem(4, "姓名", "姓名不能为空。")]


def test_optional_columns_absent_are_none(csv_file):
    data = csv_file(
        [["E1", "张三", "销售部", "2024-01-01"]], header=["工号", "姓名", "部门", "入职日期"]
    )
    (row,) = parse_file(data, "staff.csv").rows
    assert (row.email, row.position, row.role) == (None, None, None)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "staff.csv", "文件是空的"),
        (b"  \r\n\r\n", "staff.csv", "文件是空的"),
        (b"\x00\x01\x02\xff\xfe binary", "staff.csv", "无法读取文件"),
        (bytes(range(256)) * 4, "staff.csv", "无法读取文件"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "无法读取文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls", "旧版 Excel"),
        (b"just some text", "staff.xlsx", "不是有效的 Excel"),
        (b"PK\x03\x04 broken zip", "staff.xlsx", "已损坏"),
        (_zip({"word/document.xml": b"<w/>"}), "staff.xlsx", "不是 Excel (.xlsx) 工作簿"),
        (_zip({"xl/workbook.xml": b"not xml"}), "staff.xlsx", "已损坏"),
        ("工号,姓名\r\n".encode(), "staff.csv", "缺少列：部门和入职日期"),
        ("E1001,张三,销售部,2024-01-01\r\n".encode(), "staff.csv", "第 1 行应是表头"),
        ("工号,姓名,部门,入职日期\r\n".encode(), "staff.csv", "只有表头"),
        ("工号,姓名,部门,入职日期,工号\r\nE1,张,部,2024-01-01,E2\r\n".encode(), "a.csv", "两次"),
    ],
    ids=[
        "empty",
        "whitespace",
        "binary",
        "all-bytes",
        "png",
        "xls",
        "text-named-xlsx",
        "broken-zip",
        "docx-like-zip",
        "bad-workbook",
        "missing-columns",
        "no-header",
        "header-only",
        "duplicate-column",
    ],
)
def test_unreadable_files_get_a_clear_message(data, filename, message):
    table = parse_file(data, filename)
    assert table.rows == []
    assert len(table.problems) == 1
    assert message in table.problems[0].message


def test_oversized_file_is_refused(csv_file):
    data = csv_file(ROWS)
    table = parse_file(data, "staff.csv", max_bytes=len(data) - 1)
    assert "大小限制" in table.problems[0].message
    assert parse_file(data, "staff.csv", max_bytes=len(data)).problems == []


def test_header_names_tolerate_spaces(csv_file):
    data = csv_file(
        [ROWS[0]], header=[" 工号 ", "姓 名", "部门", "入职日期 ", "邮箱", "岗位", "角色"]
    )
    assert parse_file(data, "staff.csv").problems == []


def test_english_header_names_are_accepted_too(csv_file):
    header = ["Employee no.", "NAME", "department", "Hire date", "E-mail", "Position", "role"]
    table = parse_file(csv_file([ROWS[0]], header=header), "staff.csv")
    assert table.problems == []
    row = table.rows[0]
    assert (row.employee_no, row.name, row.hire_date, row.email, row.role) == (
        "E1001",
        "张三",
        "2024-03-01",
        "zhang@example.com",
        "员工",
    )


def test_a_column_named_in_chinese_and_in_english_is_a_duplicate(csv_file):
    header = ["工号", "姓名", "部门", "入职日期", "employee_no"]
    table = parse_file(csv_file([ROWS[0][:4] + ["E9"]], header=header), "staff.csv")
    assert table.problems == [RowProblem(1, "工号", "表头中这一列出现了两次。")]


def test_english_role_names_are_accepted():
    rows = [_row(2, role="employee"), _row(3, role="Department head", managed="销售部")]
    assert validate(rows, {}) == []
    assert [record.role for record in plan(rows, {}).new] == ["learner", "manager"]


def test_a_problem_reads_as_one_sentence_with_its_row_and_column():
    assert RowProblem(3, "姓名", "姓名不能为空。").text() == "第 3 行，姓名：姓名不能为空。"
    assert RowProblem(3, "", "格式不对。").text() == "第 3 行：格式不对。"
    assert RowProblem(0, "", "文件是空的。").text() == "文件是空的。"


def _row(number: int = 2, **fields) -> ImportRow:
    values = {
        "employee_no": f"E{number:04d}",
        "name": "张三",
        "department": "销售部",
        "hire_date": "2024-03-01",
        "email": "",
        "position": "",
        "role": "",
    }
    return ImportRow(row_number=number, **(values | fields))


@pytest.mark.parametrize(
    ("fields", "column", "message"),
    [
        ({"employee_no": ""}, "工号", "工号不能为空。"),
        ({"employee_no": "E 1"}, "工号", "工号只能包含字母、数字、短横线和下划线。"),
        ({"employee_no": "工号一"}, "工号", "工号只能包含字母、数字、短横线和下划线。"),
        ({"employee_no": "E" * 33}, "工号", "工号最多 32 个字符。"),
        ({"name": ""}, "姓名", "姓名不能为空。"),
        ({"name": "张" * 101}, "姓名", "姓名最多 100 个字符。"),
        ({"department": ""}, "部门", "部门不能为空。"),
        ({"hire_date": ""}, "入职日期", "入职日期不能为空。"),
        (
            {"hire_date": "2024-02-30"},
            "入职日期",
            "无法识别日期“2024-02-30”，请写成 2024-03-01 这样的格式。",
        ),
        (
            {"hire_date": "03/01/2024"},
            "入职日期",
            "无法识别日期“03/01/2024”，请写成 2024-03-01 这样的格式。",
        ),
        (
            {"hire_date": "下周一"},
            "入职日期",
            "无法识别日期“下周一”，请写成 2024-03-01 这样的格式。",
        ),
        ({"hire_date": "1900-01-01"}, "入职日期", "入职日期 1900-01-01 不合理。"),
        ({"email": "zhang.example.com"}, "邮箱", "邮箱格式不正确。"),
        ({"email": "zhang@example"}, "邮箱", "邮箱格式不正确。"),
        ({"email": "a b@example.com"}, "邮箱", "邮箱格式不正确。"),
        ({"position": "岗" * 101}, "岗位", "岗位最多 100 个字符。"),
        ({"role": "经理"}, "角色", "未知角色“经理”，应为 员工、部门负责人 或 人事。"),
        ({"role": "admin"}, "角色", "未知角色“admin”，应为 员工、部门负责人 或 人事。"),
    ],
)
def test_each_bad_cell_is_reported_with_row_and_column(fields, column, message):
    rows = [_row(2), _row(7, **fields)]
    assert validate(rows, {}) == [RowProblem(7, column, message)]


def test_every_row_problem_is_listed_in_row_order():
    rows = [
        _row(2, name="", hire_date="x"),
        _row(3),
        _row(4, employee_no="E0003"),  # duplicate of row 3
        _row(5, employee_no="e0003", role="老板"),  # duplicate by case
    ]
    problems = validate(rows, {})
    assert [(p.row_number, p.column) for p in problems] == [
        (2, "姓名"),
        (2, "入职日期"),
        (4, "工号"),
        (5, "工号"),
        (5, "角色"),
    ]
    assert problems[2].message == "工号与第 3 行重复。"


def test_existing_employee_no_is_an_update_not_a_problem():
    existing = {"E1001": _existing()}
    assert validate([_row(2, employee_no="E1001")], existing) == []


def test_employee_no_differing_only_in_case_updates_the_existing_employee():
    existing = {"E1001": _existing()}
    rows = [_row(2, employee_no="e1001", department="客服部")]
    assert validate(rows, existing) == []
    result = plan(rows, existing)
    assert result.new == []
    [(record, changes)] = result.updated
    assert record.employee_no == "E1001"  # the employee keeps the 工号 as stored
    assert "department" in changes


def test_rows_whose_employee_no_differ_only_in_case_are_duplicates():
    problems = validate([_row(2, employee_no="E7"), _row(3, employee_no="e7")], {})
    assert problems == [RowProblem(3, "工号", "工号与第 2 行重复。")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024-3-1", date(2024, 3, 1)),
        ("2024/3/1", date(2024, 3, 1)),
        ("2024/03/01", date(2024, 3, 1)),
        ("2024年3月1日", date(2024, 3, 1)),
        ("2024/3/1 0:00", date(2024, 3, 1)),
        (" 2024-03-01 ", date(2024, 3, 1)),
        ("2024.3.1", None),
        ("20240301", None),
        ("2024-13-01", None),
    ],
)
def test_date_formats(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("value", "role"),
    [
        ("员工", "learner"),
        ("学员", "learner"),
        ("learner", "learner"),
        ("人事", "hr"),
        ("HR", "hr"),
        ("hr", "hr"),
    ],
)
def test_role_values(value, role):
    (record,) = plan([_row(2, role=value)], {}).new
    assert record.role == role


def test_plan_sorts_rows_into_new_updated_and_unchanged():
    existing = {
        "E1001": _existing(),
        "E1002": _existing(employee_no="E1002", name="李四", role="learner"),
    }
    rows = [
        _row(2, employee_no="E1001", email="zhang@example.com", position="销售"),
        _row(3, employee_no="E1002", name="李四", department="客服部", role="人事"),
        _row(4, employee_no="E1003"),
    ]
    result = plan(rows, existing)
    assert result.counts() == {"new": 1, "updated": 1, "unchanged": 1}
    record, changes = result.updated[0]
    assert record.employee_no == "E1002"
    assert changes == {
        "department": ("销售部", "客服部"),
        "email": ("zhang@example.com", ""),
        "position": ("销售", ""),
        "role": ("learner", "hr"),
    }


def test_absent_optional_columns_and_blank_role_keep_current_values():
    row = _row(2, employee_no="E1001", email=None, position=None, role="")
    result = plan([row], {"E1001": _existing(role="hr")})
    assert result.counts() == {"new": 0, "updated": 0, "unchanged": 1}


def test_fingerprint_changes_with_the_plan():
    rows = [_row(2, employee_no="E1001", name="张三丰")]
    before = plan(rows, {"E1001": _existing()}).fingerprint()
    assert before == plan(rows, {"E1001": _existing()}).fingerprint()
    assert before != plan(rows, {}).fingerprint()


def _xlsx_with_sheet(xlsx_file, sheet_xml: bytes) -> bytes:
    """A real workbook whose first sheet's XML is replaced (as a crafted upload would be)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_file(ROWS)))
    sheet = next(n for n in source.namelist() if n.startswith("xl/worksheets/sheet"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, sheet_xml if name == sheet else source.read(name))
    return out.getvalue()


def test_an_xlsx_declaring_millions_of_rows_is_refused_while_streaming(xlsx_file):
    from training.employees.importer import MAX_IMPORT_ROWS

    rows = b"".join(b'<row r="%d"/>' % n for n in range(1, 1_500_001))
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + rows + b"</sheetData></worksheet>"
    )
    data = _xlsx_with_sheet(xlsx_file, sheet)
    assert len(data) < 5 * 1024 * 1024  # under the upload limit
    table = parse_file(data, "bomb.xlsx")
    assert table.rows == []
    assert f"超过 {MAX_IMPORT_ROWS} 行" in table.problems[0].message


def test_rows_beyond_the_limit_are_refused_in_csv_too(csv_file, monkeypatch):
    import training.employees.importer as importer

    monkeypatch.setattr(importer, "MAX_IMPORT_ROWS", 3)
    many = [[f"E{n}", "某", "客服部", "2024-03-01", "", "", "员工"] for n in range(1, 5)]
    table = parse_file(csv_file(many), "staff.csv")
    assert "超过 3 行" in table.problems[0].message
    assert parse_file(csv_file(many[:3]), "staff.csv").problems == []
