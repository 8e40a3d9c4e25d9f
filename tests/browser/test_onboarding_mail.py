"""HR imports three people with e-mails; the invitations arrive at a real SMTP server; one of
them sets a password from the mail's link and sees the due date on a phone."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.notifications.conftest import certificate, smtp, text_of  # noqa: F401 - fixtures
from training.auth.models import Role
from training.db import company_today

PASSWORD = "Correct-Horse-42"
SHOTS = Path(__file__).parent.parent.parent / "instance" / "screenshots"


@pytest.fixture
def app(make_app, smtp):  # noqa: F811 - the SMTP fixture above
    """The app every fixture and command here uses: mail to the test SMTP server, CSRF on."""
    # A thread of the server runs background jobs, as under `make run`.
    app = make_app(WTF_CSRF_ENABLED=True, JOBS_RUN="thread", **smtp.settings())
    with app.app_context():
        yield app


@pytest.fixture
def mail_server(app):
    """A live server of that app, whose links point at itself."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_imported_staff_get_invitations_and_one_sets_a_password_from_the_mail(
    mail_server,
    smtp,  # noqa: F811
    page,
    t,
    create_user,
    lessons,
    tmp_path,
):
    app, base = mail_server
    hr = create_user(role=Role.HR, name="人事")
    hire = company_today() - timedelta(days=3)
    due = hire + timedelta(days=app.config["ONBOARDING_DAYS"])
    staff = tmp_path / "staff.csv"
    staff.write_text(
        "工号,姓名,部门,入职日期,邮箱\r\n"
        + "".join(
            f"N10{i},新员工{i},客服部,{hire.isoformat()},n10{i}@example.com\r\n" for i in (1, 2, 3)
        ),
        "utf-8",
    )

    page.goto(f"{base}/login")
    page.get_by_label(t("工号"), exact=True).fill(hr.employee_no)
    page.get_by_label(t("密码"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t("登录"), exact=True).click()
    page.wait_for_url(f"{base}/hr/")
    page.goto(f"{base}/hr/employees/import")
    page.get_by_label(t("员工名单文件"), exact=True).set_input_files(str(staff))
    page.get_by_role("button", name=t("上传并预览"), exact=True).click()
    page.get_by_role("button", name=t("确认导入"), exact=True).wait_for()
    assert due.isoformat() in page.content()  # each new person's due date in the preview
    _shot(page, "import-preview-phone")
    page.get_by_role("button", name=t("确认导入"), exact=True).click()
    # The import runs in the background; its page refreshes itself until it is done.
    done = t(
        "导入完成：新建 %(new)d 人，更新 %(updated)d 人，%(unchanged)d 人不变。",
        new=3,
        updated=0,
        unchanged=0,
    )
    page.get_by_text(done, exact=True).wait_for(timeout=30_000)
    _shot(page, "import-job-done-phone")
    issue = t("生成并显示新账号的设置密码链接（%(n)d 人）", n=3)
    page.get_by_role("button", name=issue, exact=True).click()
    page.wait_for_load_state()
    assert "N101" in page.content()

    # The sender runs (cron or a systemd timer in production), and the mails arrive.
    result = app.test_cli_runner().invoke(args=["notify", "send"])
    assert result.exit_code == 0, result.output
    for i in (1, 2, 3):
        [mail] = smtp.mailbox.to(f"n10{i}@example.com")
        assert f"新员工{i}" in text_of(mail)
    body = text_of(smtp.mailbox.to("n102@example.com")[0])
    [link] = re.findall(rf"{re.escape(base)}/set-password/\S+", body)

    # The new hire opens the link on a phone (the page fixture is 390 × 844) in a fresh browser,
    # in the test's language.
    context = page.context.browser.new_context(
        locale=t.locale, viewport={"width": 390, "height": 844}
    )
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    phone.goto(link)
    phone.get_by_label(t("新密码"), exact=True).fill("Quiet-Reception-2026")
    phone.get_by_label(t("再次输入新密码"), exact=True).fill("Quiet-Reception-2026")
    phone.get_by_role("button", name=t("设置密码"), exact=True).click()
    phone.wait_for_url(f"{base}/login?employee_no=N102")
    # The 工号 is filled in and the cursor waits in the password field.
    assert phone.get_by_label(t("工号"), exact=True).input_value() == "N102"
    assert phone.evaluate("document.activeElement.id") == "password"
    phone.keyboard.type("Quiet-Reception-2026")
    phone.get_by_role("button", name=t("登录"), exact=True).click()
    phone.wait_for_url(f"{base}/")
    notice = phone.locator(f'[data-due="{due.isoformat()}"]')
    assert t("请在 %(date)s 前完成", date=due.isoformat()) in notice.inner_text()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no horizontal scrolling on the phone
    _shot(phone, "learner-home-due-phone")

    # The link worked once: opened again it is refused.
    phone.goto(link)
    assert phone.locator("h1").inner_text() == t("链接无效或已失效")
    context.close()
