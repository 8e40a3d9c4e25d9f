"""HR checks the learning-record feed and pushes it now, in a real browser, on a desk PC and
a phone; the statements arrive at a real ralph LRS."""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import log_out, open_from_menu, serving
from tests.browser.test_revision_flow import _log_in
from tests.reports.conftest import Records
from tests.xapi.conftest import PASSWORD, USER, lrs  # noqa: F401 - fixture
from training.auth.models import Role

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SCREENSHOTS")  # a directory to keep the screenshots in, if set


@pytest.fixture
def xapi_server(make_app, lrs):  # noqa: F811 - the fixture imported above
    app = make_app(
        WTF_CSRF_ENABLED=True,
        BASE_URL="https://training-browser.example.com",
        XAPI_ENDPOINT=lrs.url,
        XAPI_USERNAME=USER,
        XAPI_PASSWORD=PASSWORD,
    )
    with serving(app) as url:
        yield url


def test_hr_pushes_the_feed_from_the_page(
    xapi_server,
    page,
    t,
    create_user,
    lessons,
    lrs,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    records = Records(create_user)
    learner = records.employee(employee_no="E9001", name="新员工")
    records.read(learner, lessons[0])
    records.attempt(learner, lessons[0])
    hr = create_user(role=Role.HR, name="人事")
    shots = SHOTS or str(tmp_path)
    for size in ({"width": 1366, "height": 900}, {"width": 360, "height": 780}):
        page.set_viewport_size(size)
        _log_in(page, xapi_server, hr.employee_no)
        open_from_menu(page, "报表", "学习记录")
        assert page.locator("h1").inner_text() == t("学习记录（xAPI）")
        if size["width"] > 1000:
            page.get_by_role("button", name=t("立即推送"), exact=True).click()
            notice = page.locator(".flash, [role=status], .notice").first.inner_text()
            sent = t.pattern("新加入 %(queued)s 条，送达 %(sent)s 条。")
            failed = t.pattern(
                "新加入 %(queued)s 条，送达 %(sent)s 条，%(failed)s 条未送达（稍后自动重试）：%(error)s"
            )
            assert sent.search(notice) or failed.search(notice), notice
        assert page.locator("[data-queued]").inner_text() == "0"
        assert int(page.locator("[data-sent]").inner_text()) >= 8  # read, attempt, 5 answers…
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=f"{shots}/xapi-{size['width']}.png", full_page=True)
        assert width <= size["width"], width
        page.screenshot(path=f"{shots}/xapi-{size['width']}.png", full_page=True)
        log_out(page)
    held = {s["actor"]["account"]["name"] for s in lrs.all()}
    assert "E9001" in held
