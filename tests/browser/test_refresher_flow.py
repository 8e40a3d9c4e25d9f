"""A learner whose certificate expired takes the refresher on a phone and is renewed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.conftest import serving
from tests.quizzes.conftest import form_for_items
from training.course.certificates import certificate_code
from training.course.models import Certificate, CertificateRenewal
from training.course.versions import current_norm_version
from training.db import utcnow
from training.extensions import db
from training.refresher import services
from training.refresher.models import RefresherAttempt

SHOTS = Path(__file__).parent.parent.parent / "instance" / "screenshots"


@pytest.fixture
def recertify_server(make_app):
    with serving(make_app(WTF_CSRF_ENABLED=True, RECERTIFY_DAYS=365)) as url:
        yield url


def test_an_expired_certificate_is_renewed_by_the_refresher_on_a_phone(
    recertify_server, page, t, create_user, lessons
):
    from tests.reports.conftest import Records

    base = recertify_server
    user = create_user(name="老员工")
    db.session.add(
        Certificate(
            user_id=user.id,
            source_sha256=current_norm_version().source_sha256,
            norm_title="公司服务规范",
            code=certificate_code(),
            issued_at=utcnow() - timedelta(days=400),
        )
    )
    db.session.commit()
    Records(create_user).complete(user, lessons)

    page.goto(f"{base}/login")
    page.get_by_label(t("工号"), exact=True).fill(user.employee_no)
    page.get_by_label(t("密码"), exact=True).fill("Correct-Horse-42")
    page.get_by_role("button", name=t("登录"), exact=True).click()
    page.wait_for_url(f"{base}/")
    assert page.locator('[data-certificate="expired"]').count() == 1
    page.get_by_role("link", name=t("参加复训测验"), exact=True).click()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "refresher-start-phone.png"), full_page=True)
    page.get_by_role("button", name=t("开始复训测验"), exact=True).click()
    page.wait_for_url("**/refresher/*")

    # Answer every question with its key, as someone who knows the norm would.
    db.session.rollback()
    attempt = db.session.scalar(select(RefresherAttempt))
    for name, values in form_for_items(services.shown(attempt)).items():
        if "-" in name:  # an order question's step: its rank
            page.locator(f'select[name="{name}"]').select_option(values[0])
        else:
            for value in values:
                page.locator(f'input[name="{name}"][value="{value}"]').check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "refresher-attempt-phone.png"), full_page=True)
    page.get_by_role("button", name=t("提交答案"), exact=True).click()
    page.wait_for_url("**/result")
    page.screenshot(path=str(SHOTS / "refresher-result-phone.png"), full_page=True)
    result = page.locator("main").inner_text()
    renewed = t.pattern("证书已续期，有效期至 %(date)s，核验码 %(code)s。")
    assert renewed.search(result) or t.pattern("通过：%(rule)s").search(result), result

    db.session.rollback()
    [renewal] = db.session.scalars(select(CertificateRenewal)).all()
    page.goto(f"{base}/certificate")
    assert renewal.code in page.content()
    assert page.locator('[data-expired="yes"]').count() == 0
