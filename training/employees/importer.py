"""Parse and check an employee list (CSV or XLSX) without Flask or a database.

Row numbers are the ones Excel shows: the header is row 1 when it is the
first row. Messages are translated (gettext) into the language of whoever reads them when
they are made; without an app they are the Chinese source text. The Chinese column headers
of the files are always accepted, and so are their English names.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from training.auth.models import EMPLOYEE_NO_RE, fold_employee_no
from training.employees import xlsx
from training.i18n import N_, join_words
from training.language.selection import DEFAULT as DEFAULT_LOCALE
from training.language.selection import normalise

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# A sheet that inflates beyond this is refused before openpyxl reads it (zip bombs).
MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024
# Rows (blank ones included; the header not counted) and columns read from a file: a small
# .xlsx can declare millions of rows, and a list of them all would take the worker's memory.
# The app passes its IMPORT_MAX_ROWS setting; this is the default.
MAX_IMPORT_ROWS = 100_000
MAX_IMPORT_COLUMNS = 50

# Canonical field name for each accepted header (the Chinese headers of the files HR has).
REQUIRED_COLUMNS = {
    "工号": "employee_no",
    "姓名": "name",
    "部门": "department",
    "入职日期": "hire_date",
}
OPTIONAL_COLUMNS = {
    "邮箱": "email",
    "岗位": "position",
    "角色": "role",
    "负责部门": "managed",
    "语言": "locale",
}
# The same columns by their English names, compared without case, spaces, "_", "-" or ".":
# "Employee no.", "employee_no" and "EMPLOYEE NO" are all the 工号 column.
ENGLISH_COLUMNS = {
    "employeeno": "employee_no",
    "employeenumber": "employee_no",
    "employeeid": "employee_no",
    "name": "name",
    "department": "department",
    "hiredate": "hire_date",
    "email": "email",
    "emailaddress": "email",
    "position": "position",
    "jobtitle": "position",
    "role": "role",
    "manageddepartments": "managed",
    "manageddepartment": "managed",
    "managed": "managed",
    "language": "locale",
    "locale": "locale",
}
COLUMNS = REQUIRED_COLUMNS | OPTIONAL_COLUMNS
# What a column is called in messages, in the reader's language (an accepted header in both).
COLUMN_LABELS = {
    "employee_no": _l("工号"),
    "name": _l("姓名"),
    "department": _l("部门"),
    "hire_date": _l("入职日期"),
    "email": _l("邮箱"),
    "position": _l("岗位"),
    "role": _l("角色"),
    "managed": _l("负责部门"),
    "locale": _l("语言"),
}
_HEADER_NOISE = re.compile(r"[\s_.\-]+")

ROLE_VALUES = {
    "员工": "learner",
    "学员": "learner",
    "learner": "learner",
    "人事": "hr",
    "hr": "hr",
    "部门负责人": "manager",
    "负责人": "manager",
    "manager": "manager",
    "employee": "learner",
    "department head": "manager",
}
# Shown in the import preview (as the create form's role choices call them).
ROLE_LABELS = {"learner": _l("员工（学员）"), "manager": _l("部门负责人"), "hr": _l("人事")}
# What a 语言 cell may say (compared without case), beside a locale code ("zh-CN", "en_US"):
# the language of the employee's e-mails, and of their pages until they pick one themselves.
LOCALE_VALUES = {
    "中文": DEFAULT_LOCALE,
    "简体中文": DEFAULT_LOCALE,
    "中文简体": DEFAULT_LOCALE,
    "汉语": DEFAULT_LOCALE,
    "chinese": DEFAULT_LOCALE,
    "simplified chinese": DEFAULT_LOCALE,
    "english": "en",
    "英文": "en",
    "英语": "en",
}
# 负责部门 lists departments separated by any of these.
_DEPARTMENT_SEPARATORS = re.compile(r"[、,，;；/]+")

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
LIMITS = {"employee_no": 32, "name": 100, "department": 100, "position": 100, "email": 255}

_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
)
# Excel writes date cells to CSV with a midnight time on some machines.
_MIDNIGHT = re.compile(r"\s+0{1,2}:00(:00)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with a cell, a row or (row 0) the whole file."""

    row_number: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row_number}" if self.row_number else "file"
        return f"{where}: {self.column or '-'}: {self.message}"

    def text(self) -> str:
        """Return the problem as one sentence for HR, with its row and column."""
        if not self.row_number:
            return self.message
        if not self.column:
            return _("第 %(row)s 行：%(problem)s", row=self.row_number, problem=self.message)
        return _(
            "第 %(row)s 行，%(column)s：%(problem)s",
            row=self.row_number,
            column=self.column,
            problem=self.message,
        )


def column_label(key: str) -> str:
    """Return the name of a column (``"employee_no"``) in the reader's language."""
    return str(COLUMN_LABELS[key])


@dataclass(frozen=True)
class ImportRow:
    """One data row as read; optional fields are None when the file lacks their column."""

    row_number: int
    employee_no: str
    name: str
    department: str
    hire_date: str | date
    email: str | None = None
    position: str | None = None
    role: str | None = None
    managed: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class ImportTable:
    """The rows of a file, and the problems that stop it being read at all."""

    rows: list[ImportRow]
    problems: list[RowProblem]
    kind: str = ""  # "xlsx", "csv (UTF-8)", "csv (GB18030)"…


@dataclass(frozen=True)
class ExistingUser:
    """What an import compares against for an employee already in the database."""

    employee_no: str
    name: str
    department: str
    position: str
    email: str
    hire_date: date | None
    role: str
    active: bool = True
    managed: tuple[str, ...] = ()
    locale: str | None = None  # None: not chosen


@dataclass(frozen=True)
class EmployeeRecord:
    """A valid row with typed values; None means "keep as is" (or the default when new)."""

    row_number: int
    employee_no: str
    name: str
    department: str
    hire_date: date
    email: str | None
    position: str | None
    role: str | None
    managed: tuple[str, ...] | None = None  # 负责部门 of a manager; None: keep as is
    locale: str | None = None  # 语言: a locale, "" for an empty cell (not chosen); None: keep


@dataclass
class ImportPlan:
    """What committing the rows would do."""

    new: list[EmployeeRecord] = field(default_factory=list)
    # (record, {field: (old, new)}) for employees whose data changes
    updated: list[tuple[EmployeeRecord, dict[str, tuple[object, object]]]] = field(
        default_factory=list
    )
    unchanged: list[EmployeeRecord] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Return the numbers shown before and after committing."""
        return {
            "new": len(self.new),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
        }

    def fingerprint(self) -> str:
        """Return a digest of what would change, to tell whether a confirmation is still current."""
        parts = [repr(record) for record in self.new]
        parts += [repr((record, sorted(changes.items()))) for record, changes in self.updated]
        parts += [record.employee_no for record in self.unchanged]
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


class _FileError(Exception):
    """The file cannot be read as a table; the message says why."""


def parse_file(
    data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int | None = None
) -> ImportTable:
    """Read an uploaded CSV or XLSX employee list, judging the format by content, not name.

    At most ``max_rows`` rows after the header (default ``MAX_IMPORT_ROWS``); a longer file is
    refused as a whole, with a message that says the limit.
    """
    try:
        kind, grid = _read_grid(data, filename, max_bytes, max_rows or MAX_IMPORT_ROWS)
    except _FileError as error:
        return ImportTable([], [RowProblem(0, "", str(error))])
    return _table_from_grid(grid, kind)


def too_many_rows(max_rows: int) -> str:
    """Return the message for a file past the row limit."""
    return _(
        "文件超过 %(rows)s 行的上限（表头不算，空行也计算在内），请拆分成几个文件分批导入。",
        rows=max_rows,
    )


def _read_grid(
    data: bytes, filename: str, max_bytes: int, max_rows: int
) -> tuple[str, list[tuple[int, list]]]:
    if len(data) > max_bytes:
        raise _FileError(
            _("文件超过 %(mb)d MB 的大小限制，请分批导入。", mb=max_bytes // (1024 * 1024))
        )
    if not data.strip():
        raise _FileError(_("文件是空的。"))
    if data.startswith(b"PK\x03\x04"):
        return "xlsx", _xlsx_grid(data, max_rows)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _FileError(
            _("这是旧版 Excel (.xls) 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入。")
        )
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise _FileError(_("文件扩展名是 .xlsx，但内容不是有效的 Excel 文件。"))
    text, encoding = _decode(data)
    return f"csv ({encoding})", _csv_grid(text, max_rows)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = [("utf-16", "UTF-16")]
    else:
        # UTF-8 first and strictly: GBK bytes rarely form valid UTF-8, the reverse often does.
        candidates = [("utf-8-sig", "UTF-8"), ("gb18030", "GB18030")]
    for codec, label in candidates:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            break  # decodes, but it is binary data, not a table
        return text, label
    raise _FileError(_("无法读取文件：它不是 CSV 文本或 Excel (.xlsx) 文件。"))


def _csv_grid(text: str, max_rows: int) -> list[tuple[int, list]]:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        # csv counts records, as Excel counts rows (a quoted line break stays in its cell).
        grid = []
        for number, row in enumerate(reader, start=1):
            if number > max_rows + 1:  # the header and max_rows people
                raise _FileError(too_many_rows(max_rows))
            grid.append((number, row[:MAX_IMPORT_COLUMNS]))
        return grid
    except csv.Error as error:
        raise _FileError(_("CSV 格式有误（引号不成对等），无法读取。")) from error


def _xlsx_grid(data: bytes, max_rows: int, *, fast: bool = True) -> list[tuple[int, list]]:
    """Return (row number, values) of the first sheet's rows (``fast``: with training's lxml
    reader, ``xlsx.read_rows``; else, or for a sheet it leaves alone, with openpyxl's)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        size = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise _FileError(_("文件已损坏，无法作为 Excel (.xlsx) 文件读取。")) from error
    if "xl/workbook.xml" not in names:
        raise _FileError(_("这是压缩文件，不是 Excel (.xlsx) 工作簿。"))
    if size > MAX_XLSX_UNCOMPRESSED:
        raise _FileError(_("Excel 文件解压后过大，请分批导入。"))

    import openpyxl  # imported here: only XLSX uploads pay for it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many exception types on a bad file
        raise _FileError(_("Excel 文件已损坏或格式不受支持，无法读取。")) from error
    try:
        sheet = workbook.worksheets[0]
        if fast:
            try:
                found = xlsx.read_rows(
                    workbook,
                    sheet,
                    max_columns=MAX_IMPORT_COLUMNS,
                    max_rows=max_rows,
                    too_many=lambda: _FileError(too_many_rows(max_rows)),
                )
            except xlsx.Unsupported:
                found = None  # openpyxl reads it below
            if found is not None:
                return found
        grid = []
        rows = sheet.iter_rows(min_row=1, max_col=MAX_IMPORT_COLUMNS, values_only=True)
        for number, values in enumerate(rows, start=1):
            if number > max_rows + 1:  # the header and max_rows people
                raise _FileError(too_many_rows(max_rows))
            grid.append((number, list(values)))
        return grid
    except _FileError:
        raise
    except Exception as error:  # a damaged sheet can fail while streaming
        raise _FileError(_("Excel 文件已损坏或格式不受支持，无法读取。")) from error
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\u3000", " ").strip()


def _table_from_grid(grid: list[tuple[int, list]], kind: str) -> ImportTable:
    rows = [(number, cells) for number, cells in grid if any(_cell_text(c) for c in cells)]
    if not rows:
        return ImportTable([], [RowProblem(0, "", _("文件中没有任何数据。"))], kind)
    header_number, header_cells = rows[0]
    positions: dict[str, int] = {}
    problems = []
    for index, heading in enumerate(header_cells):
        key = column_of(_cell_text(heading))
        if key is None:
            continue
        if key in positions:
            problems.append(
                RowProblem(header_number, column_label(key), _("表头中这一列出现了两次。"))
            )
        positions.setdefault(key, index)
    missing = [column_label(key) for key in REQUIRED_COLUMNS.values() if key not in positions]
    if missing:
        problems.append(
            RowProblem(
                header_number,
                "",
                _(
                    "第 %(row)s 行应是表头，缺少列：%(columns)s。"
                    "表头须包含 工号、姓名、部门、入职日期（可选：邮箱、岗位、角色、负责部门、语言）。",
                    row=header_number,
                    columns=join_words(missing),
                ),
            )
        )
    if problems:
        return ImportTable([], problems, kind)

    def cell(cells: list, key: str) -> object:
        index = positions.get(key)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def optional(cells: list, key: str) -> str | None:
        return _cell_text(cell(cells, key)) if key in positions else None

    table_rows = []
    for number, cells in rows[1:]:
        hire = cell(cells, "hire_date")
        table_rows.append(
            ImportRow(
                row_number=number,
                employee_no=_cell_text(cell(cells, "employee_no")),
                name=_cell_text(cell(cells, "name")),
                department=_cell_text(cell(cells, "department")),
                hire_date=_date_cell(hire),
                email=optional(cells, "email"),
                position=optional(cells, "position"),
                role=optional(cells, "role"),
                managed=optional(cells, "managed"),
                locale=optional(cells, "locale"),
            )
        )
    if not table_rows:
        problems.append(RowProblem(0, "", _("文件只有表头，没有员工数据。")))
    return ImportTable(table_rows, problems, kind)


def column_of(heading: str) -> str | None:
    """Return the field a header cell names ("工号", "Employee no." → "employee_no"), or None."""
    text = _HEADER_NOISE.sub("", heading)
    return COLUMNS.get(text) or ENGLISH_COLUMNS.get(text.casefold())


def _date_cell(value: object) -> str | date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        # A number in the date column of a sheet: an Excel date serial without a date format.
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).date()
    return _cell_text(value)


def parse_date(value: str | date) -> date | None:
    """Return the date written as YYYY-MM-DD, YYYY/M/D or YYYY年M月D日 (or a date cell)."""
    if isinstance(value, date):
        return value
    text = _MIDNIGHT.sub("", value.strip())
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                return None
    return None


def parse_role(value: str) -> str | None:
    """Return "learner", "manager" or "hr" for a 角色 value, or None if it is not one."""
    return ROLE_VALUES.get(value.strip().lower())


def parse_locale(value: str) -> str | None:
    """Return "zh_Hans_CN" or "en" for a 语言 value (中文, English, zh-CN, en…), or None."""
    text = value.strip()
    return LOCALE_VALUES.get(text.casefold()) or normalise(text)


def parse_departments(value: str) -> tuple[str, ...]:
    """Split a 负责部门 cell ("销售部、客服部") into sorted, distinct department names."""
    return tuple(
        sorted({part.strip() for part in _DEPARTMENT_SEPARATORS.split(value) if part.strip()})
    )


def check_employee_no(value: str) -> str | None:
    """Return why a 工号 is not acceptable, or None."""
    if not value:
        return _("工号不能为空。")
    if len(value) > LIMITS["employee_no"]:
        return _("工号最多 %(n)d 个字符。", n=LIMITS["employee_no"])
    if not EMPLOYEE_NO_RE.fullmatch(value):
        return _("工号只能包含字母、数字、短横线和下划线。")
    return None


def check_email(value: str) -> str | None:
    """Return why an email address is not acceptable, or None (empty is allowed)."""
    if not value:
        return None
    if len(value) > LIMITS["email"] or not EMAIL_RE.fullmatch(value):
        return _("邮箱格式不正确。")
    return None


def by_folded_employee_no(existing: Mapping[str, ExistingUser]) -> dict[str, ExistingUser]:
    """Return the existing employees keyed by their 工号 as compared (see fold_employee_no)."""
    return {fold_employee_no(user.employee_no): user for user in existing.values()}


# The messages of the name and department cells, by field (a whole sentence each).
_EMPTY = {"name": N_("姓名不能为空。"), "department": N_("部门不能为空。")}
_TOO_LONG = {"name": N_("姓名最多 %(n)d 个字符。"), "department": N_("部门最多 %(n)d 个字符。")}


def validate(rows: list[ImportRow], existing: Mapping[str, ExistingUser]) -> list[RowProblem]:
    """Return every problem of every row, in row order; an existing 工号 is an update, not one.

    工号 match whatever their case, among the rows and against ``existing``: "e1001" is E1001.
    """
    problems: list[RowProblem] = []
    first_seen: dict[str, int] = {}
    existing = by_folded_employee_no(existing)
    for row in rows:

        def add(key: str, message: str, row: ImportRow = row) -> None:
            problems.append(RowProblem(row.row_number, column_label(key), message))

        message = check_employee_no(row.employee_no)
        if message:
            add("employee_no", message)
        else:
            folded = fold_employee_no(row.employee_no)
            if folded in first_seen:
                add("employee_no", _("工号与第 %(row)s 行重复。", row=first_seen[folded]))
            else:
                first_seen[folded] = row.row_number
        for key in ("name", "department"):
            value = getattr(row, key)
            if not value:
                add(key, _(_EMPTY[key]))
            elif len(value) > LIMITS[key]:
                add(key, _(_TOO_LONG[key], n=LIMITS[key]))
        if row.hire_date in ("", None):
            add("hire_date", _("入职日期不能为空。"))
        else:
            parsed = parse_date(row.hire_date)
            if parsed is None:
                add(
                    "hire_date",
                    _(
                        "无法识别日期“%(value)s”，请写成 2024-03-01 这样的格式。",
                        value=row.hire_date,
                    ),
                )
            elif not 1950 <= parsed.year <= 2100:
                add("hire_date", _("入职日期 %(date)s 不合理。", date=parsed.isoformat()))
        if row.email:
            message = check_email(row.email)
            if message:
                add("email", message)
        if row.position and len(row.position) > LIMITS["position"]:
            add("position", _("岗位最多 %(n)d 个字符。", n=LIMITS["position"]))
        role = parse_role(row.role) if row.role else None
        if row.role and role is None:
            add("role", _("未知角色“%(role)s”，应为 员工、部门负责人 或 人事。", role=row.role))
        current = existing.get(fold_employee_no(row.employee_no))
        if role is None and current is not None:
            role = current.role
        managed = parse_departments(row.managed) if row.managed else ()
        if managed and role not in (None, "manager"):
            add(
                "managed",
                _("只有部门负责人才填写负责部门；请把角色写成 部门负责人，或清空这一格。"),
            )
        elif role == "manager" and not managed and not (current and current.managed):
            add("managed", _("部门负责人须填写负责部门（多个部门用顿号分隔）。"))
        for name in managed:
            if len(name) > LIMITS["department"]:
                add("managed", _("部门名称最多 %(n)d 个字符。", n=LIMITS["department"]))
        if row.locale and parse_locale(row.locale) is None:
            add(
                "locale",
                _(
                    "未知语言“%(value)s”，应为 中文 或 English（也可写 zh、en），或留空。",
                    value=row.locale,
                ),
            )
    return problems


def to_record(row: ImportRow) -> EmployeeRecord:
    """Return the typed values of a row that passed validation."""
    hire_date = parse_date(row.hire_date)
    if hire_date is None:
        raise ValueError(f"row {row.row_number} has not been validated")
    return EmployeeRecord(
        row_number=row.row_number,
        employee_no=row.employee_no,
        name=row.name,
        department=row.department,
        hire_date=hire_date,
        email=row.email,
        position=row.position,
        role=parse_role(row.role) if row.role else None,
        managed=parse_departments(row.managed) if row.managed else None,
        locale=(parse_locale(row.locale) or "") if row.locale is not None else None,
    )


def plan(rows: list[ImportRow], existing: Mapping[str, ExistingUser]) -> ImportPlan:
    """Sort valid rows into new, updated (with the changes) and unchanged employees."""
    result = ImportPlan()
    existing = by_folded_employee_no(existing)
    for row in rows:
        record = to_record(row)
        current = existing.get(fold_employee_no(record.employee_no))
        if current is None:
            result.new.append(record)
            continue
        # The employee keeps the 工号 as stored; the row only found them ("e1001" is E1001).
        record = replace(record, employee_no=current.employee_no)
        changes = changes_for(record, current)
        if changes:
            result.updated.append((record, changes))
        else:
            result.unchanged.append(record)
    return result


def changes_for(record: EmployeeRecord, current: ExistingUser) -> dict[str, tuple[object, object]]:
    """Return {field: (old, new)} for what the record would change on an existing employee."""
    changes: dict[str, tuple[object, object]] = {}
    for key in (
        "name",
        "department",
        "hire_date",
        "email",
        "position",
        "role",
        "managed",
        "locale",
    ):
        new = getattr(record, key)
        if new is None or (key == "locale" and not new):
            # Column absent, or role or language left blank: keep the current value (a
            # language the employee chose themselves in the header included).
            continue
        old = getattr(current, key)
        if new != old:
            changes[key] = (old, new)
    return changes
