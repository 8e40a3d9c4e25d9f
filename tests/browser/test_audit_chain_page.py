"""HR checks the evidence fingerprint on the audit page, on a phone and on a desk PC."""

from __future__ import annotations

from pathlib import Path

from training.audit import chain
from training.audit.services import record
from training.auth.models import Role
from training.extensions import db

SHOTS = Path(__file__).parent.parent.parent / "instance" / "screenshots"


def test_hr_reads_the_chain_heads_without_sideways_scrolling(live_server, page, t, create_user):
    hr = create_user(role=Role.HR, name="人事核对")
    for n in range(3):
        record("user.update", f"事件{n}", actor=hr)
    db.session.commit()
    fingerprint = chain.fingerprint(chain.heads())
    db.session.rollback()
    page.goto(f"{live_server}/login")
    page.get_by_label(t("工号"), exact=True).fill(hr.employee_no)
    page.get_by_label(t("密码"), exact=True).fill("Correct-Horse-42")
    page.get_by_role("button", name=t("登录"), exact=True).click()
    page.wait_for_url(f"{live_server}/hr/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, width in (("phone", 390), ("desk", 1366)):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/hr/audit/")
        assert page.get_by_role("heading", name=t("记录防篡改校验"), exact=True).is_visible()
        assert fingerprint in page.locator(".fingerprint").inner_text()
        page.get_by_text(t("各表的链头"), exact=True).click()  # the per-table heads fold open
        assert page.get_by_role("cell", name="audit_events").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SHOTS / f"audit-chain-{name}.png"), full_page=True)
