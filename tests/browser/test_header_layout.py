"""The header in a real browser: one row at 1366 px, nothing sideways at 360 px, menus by keyboard."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest

from tests.browser.test_revision_flow import _log_in
from tests.reports.conftest import Records
from training.auth.models import Role

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOTS")
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}
DEPARTMENTS = ("销售部", "客户服务与质量管理部", "人事行政部", "仓储物流部", "技术研发中心")

# The top of each item of the header's first level (the brand, links, menu buttons).
TOPS = """() => [...document.querySelectorAll('.nav > .brand, .nav-links > li')]
  .map((el) => Math.round(el.getBoundingClientRect().top))"""
HEADER_HEIGHT = "() => document.querySelector('.site-header').getBoundingClientRect().height"
SCROLL_WIDTH = "() => document.documentElement.scrollWidth"
# Header entries whose label does not fit their box (cut off or spilling over a neighbour).
CUT_LABELS = """() => [...document.querySelectorAll('.nav-links > li > a, .nav-menu > summary')]
  .filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent.trim())"""
# Elements whose right edge is past the viewport (what would scroll sideways).
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5
    && !el.closest('.table-scroll') && !el.closest('details:not([open]) > :not(summary)')
    && el.getClientRects().length)
  .map((el) => el.tagName + '.' + el.className + ' ' + el.textContent.slice(0, 20)
    + ' ' + Math.round(el.getBoundingClientRect().right))"""


@pytest.fixture
def company(create_user, lessons):
    """HR, a learner and employees in five departments, some done, some late."""
    records = Records(create_user)
    due = date.today() + timedelta(days=10)
    for n in range(15):
        user = records.employee(
            department=DEPARTMENTS[n % len(DEPARTMENTS)],
            due=due if n % 4 else date.today() - timedelta(days=3),
        )
        if n % 3 == 0:
            records.complete(user, lessons)
    hr = create_user(role=Role.HR, name="人事甲", employee_no="HR0001", department="人事行政部")
    learner = create_user(name="前台小李", employee_no="E9001", department="销售部")
    return hr, learner


def _shot(page, tmp_path, name: str) -> None:
    page.screenshot(path=f"{SHOTS or tmp_path}/{name}.png")


def _left(page, selector: str) -> float:
    return page.evaluate(f"() => document.querySelector('{selector}').getBoundingClientRect().left")


def test_hr_header_is_one_row_on_a_desktop_and_lines_up_with_wide_pages(
    live_server, page, company, tmp_path
):
    hr, _ = company
    page.set_viewport_size(DESKTOP)
    _log_in(page, live_server, hr.employee_no)
    for path in ("/hr/", "/hr/employees"):
        page.goto(f"{live_server}{path}")
        tops = page.evaluate(TOPS)
        assert len(tops) >= 8
        assert max(tops) - min(tops) <= 6, tops  # one row
        assert page.evaluate(HEADER_HEIGHT) <= 64
        # The header's content starts where the page's does (same width and padding).
        brand = _left(page, ".nav > .brand")
        heading = _left(page, "main h1")
        assert abs(brand - heading) <= 1, (path, brand, heading)
        assert page.evaluate(SCROLL_WIDTH) <= DESKTOP["width"]
    page.goto(f"{live_server}/hr/")
    _shot(page, tmp_path, "hr-dashboard-1366")


def test_hr_menus_work_by_keyboard_and_close_on_escape_and_elsewhere(live_server, page, t, company):
    hr, _ = company
    page.set_viewport_size(DESKTOP)
    _log_in(page, live_server, hr.employee_no)
    menu = page.locator('[data-nav-group="employees"] details')
    summary = menu.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("open") is not None
    link = page.get_by_role("link", name=t("导入员工"), exact=True)
    assert link.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == t("员工列表")
    page.keyboard.press("Escape")
    assert menu.get_attribute("open") is None
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    # One menu at a time, and a click elsewhere closes it.
    summary.click()
    page.locator('[data-nav-group="content"] summary').click()
    assert menu.get_attribute("open") is None
    page.mouse.click(DESKTOP["width"] - 10, DESKTOP["height"] - 10)  # the page, not the menu
    assert page.locator("details.nav-menu[open]").count() == 0
    # A link in a menu goes where it says.
    page.locator('[data-nav-group="audit"] summary').click()
    page.get_by_role("link", name=t("审计日志"), exact=True).click()
    page.wait_for_url(f"{live_server}/hr/audit/")


def test_nothing_overflows_on_a_phone_and_the_chart_labels_stay_readable(
    live_server, page, company, tmp_path
):
    hr, learner = company
    page.set_viewport_size(PHONE)
    _log_in(page, live_server, hr.employee_no)
    for path in ("/hr/", "/hr/employees"):
        page.goto(f"{live_server}{path}")
        assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], page.evaluate(OVERFLOWING)
        assert page.evaluate(OVERFLOWING) == []
        # The header: the brand, then two tidy rows of four (HR's eight entries), each label
        # whole (an English one wraps onto a second line in its cell).
        assert page.evaluate(HEADER_HEIGHT) <= 150
        assert page.evaluate(CUT_LABELS) == []
    page.goto(f"{live_server}/hr/")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('.bar-label, .bar-value')]
          .map((el) => parseFloat(getComputedStyle(el).fontSize))"""
    )
    assert len(sizes) == 2 * len(DEPARTMENTS)
    assert min(sizes) >= 12, sizes
    _shot(page, tmp_path, "hr-dashboard-360")
    page.locator(".chart-figure").screenshot(path=f"{SHOTS or tmp_path}/hr-chart-360.png")
    # A menu opens within the screen.
    page.locator('[data-nav-group="training"] summary').click()
    panel = page.locator('[data-nav-group="training"] .nav-panel').bounding_box()
    assert panel is not None
    assert panel["x"] >= 0
    assert panel["x"] + panel["width"] <= PHONE["width"]
    _shot(page, tmp_path, "hr-menu-open-360")

    page.context.clear_cookies()
    _log_in(page, live_server, learner.employee_no)
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], page.evaluate(OVERFLOWING)
    tops = page.evaluate(TOPS)
    assert len(set(tops[1:])) == 1, tops  # a learner's links: one row under the brand
    _shot(page, tmp_path, "learner-home-360")
    page.set_viewport_size(DESKTOP)
    assert max(page.evaluate(TOPS)) - min(page.evaluate(TOPS)) <= 6
    _shot(page, tmp_path, "learner-home-1366")
