"""The columns of the employee list and the attempt export: one definition for screen and files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l

from training.reports.status import STATUS_LABELS, Filters


def company_zone() -> ZoneInfo:
    """Return the company's time zone (the one Flask-Babel shows dates in)."""
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")


@dataclass(frozen=True)
class Column:
    """One column: its key, its Chinese header and how to read its value from a row."""

    key: str
    label: str
    get: Callable[[Any], Any]
    zone: ZoneInfo

    def value(self, row: Any) -> Any:
        """Return the cell value for a spreadsheet: numbers, dates, naive local datetimes."""
        value = self.get(row)
        if isinstance(value, datetime):
            return value.astimezone(self.zone).replace(tzinfo=None)
        return value

    def text(self, row: Any) -> str:
        """Return the cell as text, as the screen and the CSV show it."""
        value = self.value(row)
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, date):
            return value.isoformat()
        return str(value)


def _progress(row: Any) -> str:
    return f"{row.completed_count} / {row.total}"


def _columns(specs: list[tuple[str, Any, Callable[[Any], Any]]]) -> list[Column]:
    """Build columns with their labels translated and the time zone looked up once."""
    zone = company_zone()
    return [Column(key, str(label), get, zone) for key, label, get in specs]


def employee_columns(filters: Filters) -> list[Column]:
    """Return the employee list's columns (an account column when deactivated ones are shown)."""
    statuses = {key: str(label) for key, label in STATUS_LABELS.items()}
    specs = [
        ("employee_no", _l("工号"), lambda r: r.employee_no),
        ("name", _l("姓名"), lambda r: r.name),
        ("department", _l("部门"), lambda r: r.department),
        ("position", _l("岗位"), lambda r: r.position),
        ("hire_date", _l("入职日期"), lambda r: r.hire_date),
        ("status", _l("状态"), lambda r: statuses.get(r.status, r.status)),
        ("progress", _l("完成课数"), _progress),
        ("read_count", _l("已阅读"), lambda r: r.read_count),
        ("passed_count", _l("测验通过"), lambda r: r.passed_count),
        ("due_date", _l("截止日期"), lambda r: r.due_date),
        ("last_activity", _l("最近学习"), lambda r: r.last_activity),
        ("completed_at", _l("完成时间"), lambda r: r.completed_at),
    ]
    if filters.include_inactive:
        active, inactive = str(_l("正常")), str(_l("已停用"))
        specs.append(("active", _l("账号"), lambda r: active if r.active else inactive))
    return _columns(specs)


def sheet_columns(columns: list[Column]) -> list[Column]:
    """The columns as a spreadsheet wants them: the screen's "3 / 14" becomes two numbers."""
    result: list[Column] = []
    for column in columns:
        if column.key != "progress":
            result.append(column)
            continue
        result.append(
            Column("completed_count", column.label, lambda r: r.completed_count, column.zone)
        )
        result.append(Column("lesson_total", str(_l("总课数")), lambda r: r.total, column.zone))
    return result


def score_percent(correct: int | None, total: int | None) -> int | None:
    """Return the score as a whole percentage rounded half up (as QuizSubmission does)."""
    if correct is None or not total:
        return None
    return (correct * 100 * 2 + total) // (2 * total)


def attempt_columns() -> list[Column]:
    """Return the attempt export's columns."""
    yes, no, unsent = str(_l("是")), str(_l("否")), str(_l("未提交"))

    def passed(row: Any) -> str:
        if row.submitted_at is None:
            return unsent
        return yes if row.passed else no

    return _columns(
        [
            ("employee_no", _l("工号"), lambda r: r.employee_no),
            ("name", _l("姓名"), lambda r: r.name),
            ("department", _l("部门"), lambda r: r.department),
            ("lesson_number", _l("课程编号"), lambda r: r.lesson_number),
            ("lesson_title", _l("课程"), lambda r: r.lesson_title),
            ("started_at", _l("开始时间"), lambda r: r.started_at),
            ("submitted_at", _l("提交时间"), lambda r: r.submitted_at),
            ("score", _l("得分"), lambda r: score_percent(r.correct_count, r.total)),
            ("passed", _l("是否通过"), passed),
            ("lesson_hash", _l("内容版本"), lambda r: (r.lesson_hash or "")[:12]),
            ("norm_version", _l("规范版本"), lambda r: (r.norm_sha or "")[:12]),
        ]
    )
