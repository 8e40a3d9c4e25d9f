"""The import's optional 语言 column: new hires invited in it, updates audited, bad values."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from tests.employees.conftest import HEADER
from tests.employees.conftest import confirm_data as _confirm_data
from training.audit.models import AuditEvent
from training.auth.models import User
from training.employees import importer
from training.extensions import db
from training.notifications.models import Notification

LANG_HEADER = [*HEADER, "语言"]


@pytest.mark.parametrize(
    ("value", "locale"),
    [
        ("中文", "zh_Hans_CN"),
        ("简体中文", "zh_Hans_CN"),
        ("zh", "zh_Hans_CN"),
        ("zh-CN", "zh_Hans_CN"),
        ("Chinese", "zh_Hans_CN"),
        ("zh_Hans_CN", "zh_Hans_CN"),
        ("English", "en"),
        ("english", "en"),
        ("英文", "en"),
        ("英语", "en"),
        ("en", "en"),
        ("en-US", "en"),
        ("EN", "en"),
        ("法语", None),
        ("fr", None),
    ],
)
def test_a_language_cell_names_a_locale(value, locale):
    assert importer.parse_locale(value) == locale


@pytest.mark.parametrize("heading", ["语言", "Language", "locale", " LOCALE "])
def test_the_language_column_has_chinese_and_english_headers(heading):
    assert importer.column_of(heading.strip()) == "locale"


def _import(client, upload, data: bytes) -> str:
    html = upload(data).get_data(as_text=True)
    response = client.post("/hr/employees/import/confirm", data=_confirm_data(html))
    assert response.status_code == 302, html[:2000]
    return html


def test_new_hires_get_the_files_language_and_are_invited_in_it(client, hr, upload, csv_file):
    rows = [
        ["E4001", "赵一", "销售部", "2024-03-01", "zhao@example.com", "", "", "English"],
        ["E4002", "钱二", "客服部", "2024-03-01", "qian@example.com", "", "", ""],
        ["E4003", "孙三", "客服部", "2024-03-01", "sun@example.com", "", "", "中文"],
    ]
    _import(client, upload, csv_file(rows, header=LANG_HEADER))
    db.session.rollback()
    users = {
        u.employee_no: u for u in db.session.scalars(select(User).where(User.id != hr.id)).all()
    }
    assert {no: u.locale for no, u in users.items()} == {
        "E4001": "en",
        "E4002": None,
        "E4003": "zh_Hans_CN",
    }
    subjects = {n.user_id: n.subject for n in db.session.scalars(select(Notification)).all()}
    assert "Set your password" in subjects[users["E4001"].id], subjects
    assert "请设置密码" in subjects[users["E4002"].id], subjects
    assert "请设置密码" in subjects[users["E4003"].id], subjects
    created = {
        e.target_user_id: e.details["locale"]
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create"))
    }
    assert created == {
        users["E4001"].id: "en",
        users["E4002"].id: None,
        users["E4003"].id: "zh_Hans_CN",
    }


def _existing(create_user, employee_no: str, name: str, **fields):
    """An employee already in 销售部 (hired 2024-03-01) whom an import then updates."""
    return create_user(
        employee_no=employee_no,
        name=name,
        department="销售部",
        hire_date=date(2024, 3, 1),
        **fields,
    )


def test_an_update_changes_the_language_shows_it_and_audits_it(
    client, hr, upload, csv_file, create_user
):
    employee = _existing(create_user, "E4101", "李四")
    chosen = _existing(create_user, "E4102", "周五", locale="en")
    rows = [
        ["E4101", "李四", "销售部", "2024-03-01", "", "", "", "en-US"],
        ["E4102", "周五", "销售部", "2024-03-01", "", "", "", ""],
    ]
    html = _import(client, upload, csv_file(rows, header=LANG_HEADER))
    assert "新建 0 人，更新 1 人，1 人不变" in html
    assert "语言：未指定（邮件用中文） → English" in html
    db.session.rollback()
    assert db.session.get(User, employee.id).locale == "en"
    # An empty cell keeps the language (here one the employee may have chosen themselves).
    assert db.session.get(User, chosen.id).locale == "en"
    events = {
        event.target_user_id: event
        for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.update")
        )
    }
    assert events[employee.id].details["changes"] == {"locale": [None, "en"]}
    assert events[employee.id].summary_text == "导入更新员工 李四（E4101）：语言"
    assert chosen.id not in events

    # The same file again changes nothing; 中文 for a saved zh_Hans_CN is no change either.
    html = upload(csv_file(rows, header=LANG_HEADER)).get_data(as_text=True)
    assert "新建 0 人，更新 0 人，2 人不变" in html


def test_a_file_without_the_column_leaves_languages_alone(
    client, hr, upload, csv_file, create_user
):
    employee = _existing(create_user, "E4201", "吴六", locale="en")
    rows = [["E4201", "吴六", "客服部", "2024-03-01", "", "", ""]]
    html = _import(client, upload, csv_file(rows))
    assert "更新 1 人" in html
    assert "语言" not in html.split("更新（1 人）", 1)[1]
    db.session.rollback()
    user = db.session.get(User, employee.id)
    assert (user.department, user.locale) == ("客服部", "en")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert set(event.details["changes"]) == {"department"}


def test_an_unknown_language_is_a_row_problem_naming_row_and_column(client, hr, upload, csv_file):
    rows = [
        ["E4301", "郑七", "销售部", "2024-03-01", "", "", "", "中文"],
        ["E4302", "王八", "销售部", "2024-03-01", "", "", "", "法语"],
    ]
    html = upload(csv_file(rows, header=LANG_HEADER)).get_data(as_text=True)
    assert "发现 1 个问题" in html
    assert (
        "<td>3</td><td>语言</td><td>未知语言“法语”，应为 中文 或 English（也可写 zh、en），或留空。</td>"
    ) in html
    assert 'name="upload_id"' not in html
    problems = importer.validate(
        importer.parse_file(csv_file(rows, header=LANG_HEADER), "a.csv").rows, {}
    )
    assert [problem.text() for problem in problems] == [
        "第 3 行，语言：未知语言“法语”，应为 中文 或 English（也可写 zh、en），或留空。"
    ]


def test_the_english_header_and_message(client, hr, upload, csv_file):
    header = ["Employee no.", "Name", "Department", "Hire date", "Email", "Language"]
    rows = [["E4401", "Anna", "Sales", "2024-03-01", "", "Klingon"]]
    client.set_cookie("lang", "en")
    db.session.execute(update(User).where(User.id == hr.id).values(locale="en"))
    db.session.commit()
    html = upload(csv_file(rows, header=header)).get_data(as_text=True)
    assert "Unknown language “Klingon”" in html, html[:3000]
