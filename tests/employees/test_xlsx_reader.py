"""The lxml sheet reader gives the values openpyxl's own reader gives, a few times faster."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from training.employees import importer, xlsx


def _normal(grid: list[tuple[int, list]]) -> list[tuple[int, list]]:
    """Rows without their trailing empty cells (openpyxl pads every row to the widest)."""
    out = []
    for number, values in grid:
        values = list(values)
        while values and values[-1] is None:
            values.pop()
        out.append((number, values))
    return out


def _both(data: bytes, max_rows: int = 1000) -> list[tuple[int, list]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:  # the fast reader reads it itself (no fallback to openpyxl)
        assert xlsx.read_rows(
            workbook, workbook.worksheets[0], max_columns=50, max_rows=max_rows, too_many=Exception
        )
    finally:
        workbook.close()
    fast = importer._xlsx_grid(data, max_rows)
    slow = importer._xlsx_grid(data, max_rows, fast=False)
    assert _normal(fast) == _normal(slow)
    return _normal(fast)


def _save(workbook: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


VALUES = [
    "E0001",
    "  张三  ",
    "王\u3000五",
    "a,b;c",
    "=不是公式",
    42,
    -7,
    3.5,
    1e10,
    0.1,
    True,
    False,
    date(2024, 3, 1),
    datetime(2024, 3, 1, 8, 30),
    None,
    "x" * 300,
]


@pytest.mark.parametrize("write_only", [False, True])
def test_every_kind_of_value_reads_the_same_as_openpyxl(write_only):
    # Normal workbooks keep strings in the shared table; write-only ones inline them.
    workbook = openpyxl.Workbook(write_only=write_only)
    sheet = workbook.create_sheet("员工") if write_only else workbook.active
    sheet.append(["工号", "姓名", "部门", "入职日期"])
    for shift in range(len(VALUES)):
        sheet.append(VALUES[shift:] + VALUES[:shift])
    sheet.append([])
    sheet.append([None, None, "中间有空格"])
    grid = _both(_save(workbook))
    assert grid[0] == (1, ["工号", "姓名", "部门", "入职日期"])
    assert grid[1][1][12] == datetime(2024, 3, 1)  # a date cell: a datetime, as openpyxl
    assert grid[1][1][5] == 42
    assert isinstance(grid[1][1][7], float)
    assert grid[-1] == (len(VALUES) + 3, [None, None, "中间有空格"])


def test_gaps_rich_text_formulas_and_far_columns_read_the_same():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["B1"] = "工号", "姓名"
    sheet["A4"] = "E0002"  # rows 2 and 3 missing
    sheet["C4"] = CellRichText("红", TextBlock(InlineFont(b=True), "色"), "部")
    sheet["D4"] = "=1+1"  # no cached value: None for a data-only read
    sheet["AZ4"] = "past column 50: not read"
    sheet["E9"] = date(1999, 12, 31)
    grid = _both(_save(workbook))
    assert [number for number, _values in grid] == list(range(1, 10))
    assert grid[3] == (4, ["E0002", None, "红色部"])
    assert grid[8][1][4] == datetime(1999, 12, 31)


def test_a_1904_workbook_reads_the_same_dates():
    workbook = openpyxl.Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    workbook.active.append(["E1", date(2024, 2, 29)])
    assert _both(_save(workbook))[0][1][1] == datetime(2024, 2, 29)


def _with_sheet(sheet_xml: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_save(openpyxl.Workbook())))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            sheet = name == "xl/worksheets/sheet1.xml"
            target.writestr(name, sheet_xml if sheet else source.read(name))
    return out.getvalue()


def test_a_sheet_without_references_inline_runs_and_error_cells_reads_the_same():
    # As other programs write it: no r="…" on rows or cells, inline rich text with a
    # phonetic run (not part of the value), a cached formula string, an error, a boolean.
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>"
        '<row><c t="inlineStr"><is><t>工号</t></is></c><c t="inlineStr"><is><t>姓名</t></is></c></row>'
        '<row><c t="inlineStr"><is><r><t>E</t></r><r><t>7</t></r><rPh sb="0" eb="1"><t>x</t></rPh></is></c>'
        '<c t="str"><f>A1</f><v>算出的</v></c><c t="e"><v>#N/A</v></c><c t="b"><v>1</v></c>'
        "<c><v>12</v></c><c/></row>"
        "</sheetData></worksheet>"
    ).encode()
    assert _both(_with_sheet(sheet)) == [
        (1, ["工号", "姓名"]),
        (2, ["E7", "算出的", "#N/A", True, 12]),
    ]


def test_rows_out_of_order_are_left_to_openpyxl():
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="2"><c r="A2" t="inlineStr"><is><t>b</t></is></c></row>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row></sheetData></worksheet>'
    )
    data = _with_sheet(sheet)
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    with pytest.raises(xlsx.Unsupported):
        xlsx.read_rows(
            workbook, workbook.worksheets[0], max_columns=50, max_rows=10, too_many=Exception
        )
    workbook.close()
    assert importer._xlsx_grid(data, 10) == importer._xlsx_grid(data, 10, fast=False)


def test_the_row_limit_holds_in_the_fast_reader():
    workbook = openpyxl.Workbook()
    for n in range(6):
        workbook.active.append([f"E{n}"])
    data = _save(workbook)
    assert len(importer._xlsx_grid(data, 5)) == 6  # the header and five rows
    with pytest.raises(importer._FileError, match="超过 4 行"):
        importer._xlsx_grid(data, 4)
