"""The login page: what it says about set-password links, and the 工号 filled in after one."""

from __future__ import annotations

import pathlib
import re

import pytest

import training
from training.auth import links
from training.extensions import db

NEW_PASSWORD = "Brand-New-Phrase-58"


def test_login_page_explains_set_password_links(client):
    page = client.get("/login").get_data(as_text=True)
    assert "设置密码”链接" in page
    assert "人事行政部" in page
    assert "初始密码" not in page


def test_no_initial_password_wording_anywhere_in_the_ui():
    root = pathlib.Path(training.__file__).parent
    found = [
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.suffix in {".html", ".py", ".js", ".po"}
        and "migrations" not in path.parts
        and "初始密码" in path.read_text(encoding="utf-8")
    ]
    assert found == []


def _value(html: str) -> str | None:
    match = re.search(r'<input[^>]*id="employee_no"[^>]*>', html)
    assert match
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else None


def test_the_login_page_opens_with_the_employee_no_filled_in(client):
    html = client.get("/login?employee_no=E1001").get_data(as_text=True)
    assert _value(html) == "E1001"
    # The cursor waits in the password field.
    assert re.search(
        r'<input[^>]*autofocus[^>]*id="password"|<input[^>]*id="password"[^>]*autofocus', html
    )
    assert not re.search(r'<input[^>]*id="employee_no"[^>]*autofocus', html)


@pytest.mark.parametrize(
    "given",
    ['"><script>alert(1)</script>', "E1001 OR 1=1", "x" * 33, "-E1", "工号", ""],
)
def test_anything_but_an_employee_no_is_not_filled_in(client, given):
    html = client.get("/login", query_string={"employee_no": given}).get_data(as_text=True)
    assert _value(html) in (None, "")
    assert "<script>alert" not in html


def test_setting_a_password_through_a_link_opens_login_with_the_employee_no(client, create_user):
    user = create_user(employee_no="e8001", must_change_password=True)
    path = f"/set-password/{links.issue_link(user, 'reset')}"
    db.session.commit()
    response = client.post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _value(login_page) == "e8001"
    assert "密码已设置" in login_page
    # The form posts to the same address; the 工号 in it is what counts.
    login = client.post(
        response.headers["Location"], data={"employee_no": "E8001", "password": NEW_PASSWORD}
    )
    assert login.headers["Location"] == "/"
