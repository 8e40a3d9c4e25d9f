"""The rows of an XLSX sheet as values, read with lxml: a few times faster than openpyxl's own
row parser, which builds an object per cell (an import of 100,000 rows reads 700,000 cells,
at the preview, the confirmation and in the job).

openpyxl still opens the workbook (which sheet is first, its shared strings, which styles are
dates, the 1900 or 1904 epoch); only the sheet's rows are read here, giving the values
openpyxl's read-only ``iter_rows(values_only=True)`` of a ``data_only`` workbook gives: shared
and inline strings as text (phonetic runs left out), numbers as int or float, numbers in a
date style as datetimes, booleans, cached formula results, error codes as text. Anything this
reader does not know (durations, rows out of order) returns None, and the caller reads the
sheet with openpyxl as before. Pure: no Flask, no database.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from lxml import etree
from openpyxl.utils.datetime import from_excel, from_ISO8601

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE = f"{_MAIN}row", f"{_MAIN}c", f"{_MAIN}v"
_INLINE, _TEXT, _RUN = f"{_MAIN}is", f"{_MAIN}t", f"{_MAIN}r"


class Unsupported(Exception):
    """Something in the sheet this reader leaves to openpyxl."""


_LETTERS = re.compile(r"[A-Z]{1,3}")
_DIGITS = "0123456789"


@functools.cache
def _column_of(letters: str) -> int:
    """Return the column number of a reference's letters ("C" → 3, "AA" → 27)."""
    if not _LETTERS.fullmatch(letters):
        raise Unsupported(f"cell reference column {letters!r}")
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _text(element: Any) -> str:
    """The text of an inline string: its plain part and every run's, as openpyxl's
    ``Text.content`` (phonetic runs, ``rPh``, are not part of the value)."""
    parts = []
    for child in element:
        if child.tag == _TEXT:
            parts.append(child.text or "")
        elif child.tag == _RUN:
            run = child.find(_TEXT)
            if run is not None:
                parts.append(run.text or "")
    return "".join(parts)


def _number(text: str) -> int | float:
    return float(text) if "." in text or "E" in text or "e" in text else int(text)


def read_rows(
    workbook: Any,
    sheet: Any,
    *,
    max_columns: int,
    max_rows: int,
    too_many: Callable[[], Exception],
) -> list[tuple[int, list]] | None:
    """Return (row number, values) of every row of an openpyxl read-only ``sheet``, missing
    rows as empty ones; raise ``too_many()`` past ``max_rows`` + 1 (the header and the rows).

    Returns None when this openpyxl does not expose what is needed; raises ``Unsupported``
    for a sheet this reader does not handle (the caller then reads it with openpyxl).
    """
    archive = getattr(workbook, "_archive", None)
    path = getattr(sheet, "_worksheet_path", None)
    strings = getattr(sheet, "_shared_strings", None)
    dates = getattr(workbook, "_date_formats", None)
    durations = getattr(workbook, "_timedelta_formats", None)
    if archive is None or path is None or strings is None or dates is None or durations is None:
        return None
    if durations:
        raise Unsupported("duration formats")
    epoch = workbook.epoch

    def value(cell: Any) -> object:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(_INLINE)
            return None if inline is None else _text(inline)
        raw = cell.findtext(_VALUE) or None
        if raw is None:
            return None
        if kind == "n":
            number = _number(raw)
            style = cell.get("s")
            if style and int(style) in dates:
                try:
                    return from_excel(number, epoch)
                except (OverflowError, ValueError):
                    return "#VALUE!"  # what openpyxl makes of a date serial out of range
            return number
        if kind == "s":
            return strings[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            return from_ISO8601(raw)
        if kind in ("str", "e"):
            return raw
        raise Unsupported(f"cell type {kind!r}")

    grid: list[tuple[int, list]] = []
    last = 0
    with archive.open(path) as source:
        rows = etree.iterparse(
            source,
            events=("end",),
            tag=_ROW,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        for _event, row in rows:
            number = int(row.get("r") or last + 1)
            if number <= last:
                raise Unsupported("rows out of order")
            if number > max_rows + 1:
                raise too_many()
            grid.extend((gap, []) for gap in range(last + 1, number))
            last = number
            values: list[object] = []
            column = 0
            for cell in row.iterchildren(_CELL):
                reference = cell.get("r")
                column = _column_of(reference.rstrip(_DIGITS)) if reference else column + 1
                if column > max_columns:
                    continue
                if column > len(values) + 1:
                    values.extend([None] * (column - 1 - len(values)))
                elif column <= len(values):
                    raise Unsupported("cells out of order")
                values.append(value(cell))
            grid.append((number, values))
            # Keep memory flat: drop the rows already read.
            row.clear()
            while row.getprevious() is not None:
                del row.getparent()[0]
    return grid
