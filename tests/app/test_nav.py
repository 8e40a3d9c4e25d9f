"""The header: HR's menus, managers' and learners' own links, none while a password is due."""

from __future__ import annotations

import re

import pytest

from training.auth.models import Role

HR_GROUPS = ("employees", "training", "reports", "content", "audit", "learning", "account")
HR_ONLY = (
    "/hr/employees/new",
    "/hr/employees/import",
    "/hr/audit/",
    "/hr/notifications",
    "/hr/revisions",
    "/hr/banks",
)


def _header(html: str) -> str:
    return html[html.index('<header class="site-header">') : html.index("</header>")]


def _hrefs(header: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', header)


def test_hr_sees_every_page_in_menus(client, login_as):
    login_as(Role.HR)
    header = _header(client.get("/hr/").get_data(as_text=True))
    groups = re.findall(r'data-nav-group="([a-z]+)"', header)
    assert tuple(groups) == HR_GROUPS
    # Each group is a <details> menu: it opens without JavaScript.
    assert header.count('<details class="nav-menu" name="nav-menu">') == len(HR_GROUPS)
    hrefs = _hrefs(header)
    for path in ("/hr/", "/hr/employees", "/hr/audit/", "/hr/items", "/", "/practice/"):
        assert any(h.split("?")[0] == path for h in hrefs), (path, hrefs)
    # Few items at the top level: the dashboard, the menus' buttons.
    top = re.findall(r"<summary[^>]*>(.*?)</summary>", header)
    assert [re.sub("<[^>]+>", "", t) for t in top][:6] == [
        "员工",
        "培训",
        "报表",
        "内容",
        "审计",
        "我的学习",
    ]
    # Every link of the old flat header is still there, and none twice (after the brand).
    assert hrefs[0] == "/"
    assert len(hrefs[1:]) == len(set(hrefs[1:]))
    assert len(hrefs) >= 19


def test_the_current_page_is_marked_in_its_menu(client, login_as):
    login_as(Role.HR)
    header = _header(client.get("/hr/audit/").get_data(as_text=True))
    assert '<a href="/hr/audit/" aria-current="page">审计日志</a>' in header
    audit = header[header.index('data-nav-group="audit"') :]
    assert '<summary class="is-current">审计</summary>' in audit


def test_learner_sees_only_their_links(client, login_as):
    user = login_as(Role.LEARNER, name="学员丁")
    header = _header(client.get("/").get_data(as_text=True))
    hrefs = _hrefs(header)
    assert not [h for h in hrefs if h.startswith("/hr")]
    assert 'data-nav-group="employees"' not in header
    for label in ("我的课程", "练习", "用语速查", "修改密码", "退出"):
        assert label in header
    assert f'学员丁</span><span class="whoami-no">（{user.employee_no}）' in header


def test_manager_sees_their_people_and_no_hr_links(client, login_as):
    login_as(Role.MANAGER)
    header = _header(client.get("/").get_data(as_text=True))
    hrefs = _hrefs(header)
    assert "/hr/employees" in hrefs  # 部门员工: their departments only (the page checks)
    assert "部门员工" in header
    for path in HR_ONLY + ("/hr/",):
        assert path not in hrefs
    assert "人事看板" not in header


@pytest.mark.parametrize("role", [Role.HR, Role.LEARNER])
def test_the_forced_password_page_shows_no_menu(client, create_user, role):
    user = create_user(role=role, must_change_password=True)
    client.post("/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"})
    page = client.get("/password")
    assert page.status_code == 200
    header = _header(page.get_data(as_text=True))
    assert _hrefs(header) == ["/"]  # the brand only
    assert "nav-links" not in header
    assert "<details" not in header
    assert 'action="/logout"' in header
    assert "退出" in header


def test_after_the_password_is_changed_the_menu_is_back(client, create_user):
    user = create_user(role=Role.HR, must_change_password=True)
    client.post("/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"})
    client.post(
        "/password",
        data={
            "current_password": "Correct-Horse-42",
            "new_password": "Another-Long-Phrase-77",
            "confirm": "Another-Long-Phrase-77",
        },
    )
    header = _header(client.get("/hr/").get_data(as_text=True))
    assert 'data-nav-group="employees"' in header


def test_the_header_has_no_inline_script(client, login_as):
    login_as(Role.HR)
    html = client.get("/hr/").get_data(as_text=True)
    assert "onclick" not in html.lower()
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert '<script src="/static/js/nav.js" defer></script>' in html
