"""In a real browser: the 本课要点 box opens the lesson, and a retraining employee sees the
changed clause marked (underlined insertion, struck deletion, a 本次修订 badge)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import log_out
from tests.browser.test_revision_flow import _complete_everything, _log_in
from tests.revisions.conftest import EFFECTIVE
from training.extensions import db

pytestmark = pytest.mark.browser

SEED = Path(__file__).resolve().parents[2] / "content" / "source" / "service-norm.txt"
VIEWPORTS = {"phone": (360, 740), "desktop": (1366, 768)}


def _publish_phone_revision(runner, tmp_path) -> None:
    revised = tmp_path / "service-norm-2027.txt"
    revised.write_text(
        SEED.read_text("utf-8").replace("一般不得超过三声", "一般不得超过两声"), "utf-8"
    )
    result = runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised),
            "--label",
            "2027 年修订版",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.rollback()


def _shot(page, tmp_path, name):
    folder = Path(os.environ.get("LESSON_SHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))
    page.screenshot(path=str(folder / f"{name}-full.png"), full_page=True)


def _top(page, selector):
    return page.locator(selector).first.bounding_box()["y"]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_retraining_employee_sees_key_points_first_and_the_change_marked(
    live_server, page, runner, create_user, lessons, tmp_path, viewport
):
    retrainer = create_user(name="老员工")
    _complete_everything(retrainer)
    new_hire = create_user(name="新员工")
    _publish_phone_revision(runner, tmp_path)
    width, height = VIEWPORTS[viewport]
    page.set_viewport_size({"width": width, "height": height})

    _log_in(page, live_server, retrainer.employee_no)
    page.goto(f"{live_server}/lessons/4.2")
    # The box's heading and the marks' hidden labels are part of the rendered lesson
    # (content/render.py), Chinese in both UI languages like the lesson itself.
    box = page.locator("section.key-points")
    assert box.is_visible()
    assert box.get_by_role("heading", name="本课要点").is_visible()
    assert _top(page, "section.key-points") < _top(page, 'li:has([id="s-4.2.1.1"])')
    assert _top(page, "section.key-points") < height  # on the first screen
    badge = page.locator('li:has([id="s-4.2.1.2"]) .revision-badge')
    assert badge.count() == 1
    assert badge.is_visible()
    assert page.locator(".lesson .revision-badge").count() == 1
    ins = page.locator('li:has([id="s-4.2.1.2"]) ins')
    deleted = page.locator('li:has([id="s-4.2.1.2"]) del')
    assert "两" in ins.inner_text()
    assert "三" in deleted.inner_text()
    # Not by colour alone: the insertion is underlined, the deletion struck through, and
    # screen readers are told which is which.
    assert "underline" in ins.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" in deleted.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert ins.locator(".visually-hidden").text_content() == "新增："
    assert deleted.locator(".visually-hidden").text_content() == "删除："
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shot(page, tmp_path, f"4.2-retraining-{viewport}")
    page.locator('li:has([id="s-4.2.1.2"])').scroll_into_view_if_needed()
    _shot(page, tmp_path, f"4.2-retraining-clause-{viewport}")

    log_out(page)
    _log_in(page, live_server, new_hire.employee_no)
    page.goto(f"{live_server}/lessons/4.2")
    assert page.locator(".lesson .revision-badge").count() == 0
    assert page.locator(".lesson ins, .lesson del").count() == 0
    assert page.locator("section.key-points").is_visible()
    page.goto(f"{live_server}/lessons/1.1")
    assert "对内部员工、公司的服务" in page.locator("section.key-points").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shot(page, tmp_path, f"1.1-new-hire-{viewport}")
