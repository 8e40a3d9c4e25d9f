"""标准用语速查 in a real browser: readable on a phone, and one A4 page when printed."""

from __future__ import annotations

import os
import re

import pytest

from tests.browser.test_revision_flow import _log_in

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOTS")


def test_the_phrasebook_fits_a_phone_and_prints_on_one_page(
    live_server, page, t, create_user, lessons, tmp_path
):
    learner = create_user(name="前台小李")
    shots = SHOTS or str(tmp_path)
    _log_in(page, live_server, learner.employee_no)
    for size in ({"width": 1366, "height": 900}, {"width": 360, "height": 780}):
        page.set_viewport_size(size)
        page.get_by_role("link", name=t("用语速查"), exact=True).click()
        assert page.locator("h1").inner_text() == t("标准用语速查")
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=f"{shots}/phrasebook-{size['width']}.png", full_page=True)
        assert width <= size["width"], width
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=False)
    (tmp_path / "phrasebook.pdf").write_bytes(pdf)
    if SHOTS:
        (tmp_path / "phrasebook.pdf").replace(f"{SHOTS}/phrasebook.pdf")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, pages
