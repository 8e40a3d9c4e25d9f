"""A live server and a headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve an app on a free loopback port for the block; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live_server(make_app) -> Iterator[str]:
    """Serve a test app on a free loopback port, CSRF protection on as in production."""
    with serving(make_app(WTF_CSRF_ENABLED=True)) as url:
        yield url


@pytest.fixture
def page():
    """Yield a Playwright page in Debian's Chromium (skipped only where it is not installed)."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def log_out(page) -> None:
    """Log out through the header: 退出 is in the account menu (the one-time password page
    shows it on its own)."""
    account = page.locator('[data-nav-group="account"] summary')
    if account.count():
        account.click()
    page.get_by_role("button", name="退出").click()


def open_from_menu(page, menu: str, link: str) -> None:
    """Open one of HR's pages through its header menu (员工, 培训, 报表, 内容, 审计, …)."""
    page.locator("details.nav-menu > summary", has_text=menu).first.click()
    page.get_by_role("link", name=link, exact=True).click()
