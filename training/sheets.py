"""What every CSV or XLSX the app writes shares: cells that cannot turn into formulas, and
the two writers (CSV with a BOM; XLSX with a bold, frozen, filterable header row, columns as
wide as their content and real numbers and dates).

A column is anything with a ``label``, ``value(row)`` (the spreadsheet value: numbers stay
numbers, dates stay dates) and ``text(row)`` (as the screen and the CSV show it).
"""

from __future__ import annotations

import csv
import itertools
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from typing import IO, Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WIDTH_SAMPLE = 200  # rows read ahead to size the columns (the rest streams)
MIN_WIDTH, MAX_WIDTH = 6, 60


class SheetColumn(Protocol):
    @property
    def label(self) -> str: ...

    def value(self, row: Any) -> Any: ...

    def text(self, row: Any) -> str: ...


def neutralise(value: Any) -> Any:
    """Return a string that could start a formula prefixed with an apostrophe; others as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(columns: Sequence[SheetColumn], rows: Iterable[Any], out: IO[str]) -> int:
    """Write UTF-8 CSV with a BOM (so Excel reads the Chinese) and return the row count."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([str(c.label) for c in columns])
    count = 0
    for row in rows:
        writer.writerow([neutralise(c.text(row)) for c in columns])
        count += 1
    return count


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: wide (CJK, full-width) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(
    columns: Sequence[SheetColumn], rows: Iterable[Any], out: IO[bytes], title: str
) -> int:
    """Write an XLSX workbook (streamed, write-only) and return the row count."""
    rows = iter(rows)
    head = list(itertools.islice(rows, WIDTH_SAMPLE))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        longest = max(
            [display_width(str(column.label)) + 3]  # room for the filter button
            + [display_width(column.text(row)) for row in head]
        )
        width = min(MAX_WIDTH, max(MIN_WIDTH, longest + 1))
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=str(column.label))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in itertools.chain(head, rows):
        sheet.append([_xlsx_value(sheet, c.value(row)) for c in columns])
        count += 1
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    workbook.save(out)
    return count


def _xlsx_value(sheet: Any, value: Any) -> Any:
    if isinstance(value, date):
        # Set after creating the cell: types-openpyxl's WriteOnlyCell() leaves out dates.
        cell = WriteOnlyCell(sheet)
        cell.value = value
        # Real dates, shown the way the screen shows them.
        cell.number_format = "yyyy-mm-dd hh:mm" if hasattr(value, "hour") else "yyyy-mm-dd"
        return cell
    return neutralise(value)
