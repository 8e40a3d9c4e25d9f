"""A new hire logs in on a phone-sized screen, reads a lesson and confirms it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_login_read_lesson_and_status_changes(live_server, page, create_user, lessons):
    user = create_user(name="李新")
    page.goto(f"{live_server}/")
    assert "/login" in page.url

    page.get_by_label("工号").fill(user.employee_no)
    page.get_by_label("密码").fill("Correct-Horse-42")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_text("李新").is_visible()

    item = page.locator(".lesson-item", has_text="服务的重大意义")
    assert item.locator(".status").inner_text().strip() == "未阅读"
    item.get_by_role("link").click()
    page.wait_for_url(f"{live_server}/lessons/2.1")
    assert page.locator("#s-2\\.1").count() == 1

    page.get_by_role("button", name="我已阅读并理解").click()
    page.wait_for_url(f"{live_server}/lessons/2.1")
    assert page.locator('[data-status="read"]').is_visible()

    page.get_by_role("link", name="我的课程").first.click()
    item = page.locator(".lesson-item", has_text="服务的重大意义")
    assert item.locator(".status").inner_text().strip() == "已阅读"
    assert "已阅读 1 / 14 课" in page.content()
