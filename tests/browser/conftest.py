"""A live server and a headless Debian Chromium driven by Playwright, in each UI language.

Every test that takes ``page`` runs twice, ids ``zh`` and ``en``: the browser asks for the page
in that language (Accept-Language, from the context's locale), as a first visit does. Tests
find UI text through ``t`` (the ``t`` fixture, or ``page.t`` in helpers that only get the page):
``t("登录")`` is the text the page shows for that message id in the test's language, read from
the English catalog; content (lessons, questions, norm text, names) is Chinese in both.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
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


def _buffered(app):
    """The app with each response read whole and its iterable closed before anything is sent.

    A browser drops connections it no longer needs (a static file while the page moves on);
    werkzeug's development server then leaves a file response unclosed, and its ResourceWarning
    fails whichever test is running. Closed at once, a response holds no file while it is sent.
    """

    def wrapped(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    return wrapped


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve an app on a free loopback port for the block; yield its base URL."""
    server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
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


ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "training" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# The UI languages a browser test runs in: its id -> the browser's locale (Accept-Language).
LOCALES = {"zh": "zh-CN", "en": "en-US"}
# A placeholder of a message id (%(name)s, %(n)d, …) or a literal %% .
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")


@cache
def english(path: str | None = None) -> dict[str, str]:
    """The English catalog's translations by message id (untranslated and fuzzy ones left out,
    as the compiled catalog the app reads leaves them out). I18N_TEST_PO names another .po
    (a check that the tests find UI text by its exact message id)."""
    with open(path or os.environ.get("I18N_TEST_PO") or CATALOG, "rb") as f:
        catalog = read_po(f)
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): m.string
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else (m.string,)) and not m.fuzzy
    }


@cache
def message_ids() -> frozenset[str]:
    """Every message id of the English catalog, translated or not (obsolete ones left out)."""
    with open(CATALOG, "rb") as f:
        return frozenset(m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id)


class Translator:
    """A message id's text in one UI language: the English translation, or the message id
    itself (Chinese, and an English message not translated yet, which the app shows too)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.locale = LOCALES[lang]

    def text(self, msgid: str, count: int | None = None) -> str:
        """The message as the page shows it, placeholders unfilled. A message id the catalog
        does not hold fails the test: a stale literal would otherwise only mismatch in Chinese."""
        if msgid not in message_ids():
            raise AssertionError(f"not a message id of the catalog: {msgid!r}")
        if self.lang == "en":
            text = english().get(msgid, msgid)
            if isinstance(text, tuple):  # a message with a count: English's one or other form
                return text[0] if count == 1 else text[1]
            return text
        return msgid

    def __call__(self, msgid: str, /, **params) -> str:
        """The message with its placeholders filled: ``t("共 %(n)s 题", n=5)``; a message
        with a count (ngettext) takes its form from ``n``."""
        text = self.text(msgid, params.get("n"))
        return text % params if params else text

    def pattern(self, msgid: str, /, **params) -> re.Pattern:
        """A pattern of the whole message with the given placeholders filled and any other
        matching any text: ``t.pattern("已发布第 %(lesson)s 课题库：…", lesson="1.1")``."""

        def part(match: re.Match) -> str:
            name = match.group(1)
            if name is None:
                return "%"
            if name in params:
                return re.escape(match.group(0) % params)
            return ".+?"

        text = self.text(msgid, params.get("n"))
        pieces, last = [], 0
        for match in PLACEHOLDER.finditer(text):
            pieces += [re.escape(text[last : match.start()]), part(match)]
            last = match.end()
        pieces.append(re.escape(text[last:]))
        return re.compile("".join(pieces))


@pytest.fixture(params=list(LOCALES))
def lang(request) -> str:
    """The UI language of the test's browser: "zh" or "en"."""
    return request.param


@pytest.fixture
def t(lang) -> Translator:
    """UI text in the test's language: ``t("退出")``, ``t("共 %(n)s 题", n=5)``, ``t.pattern(…)``."""
    return Translator(lang)


@pytest.fixture
def page(lang):
    """Yield a Playwright page in Debian's Chromium (skipped only where it is not installed),
    asking for pages in the test's language; ``page.lang`` and ``page.t`` carry it to helpers."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale=LOCALES[lang], viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.lang = lang
        page.t = Translator(lang)
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
    page.get_by_role("button", name=page.t("退出"), exact=True).click()


def open_from_menu(page, menu: str, link: str) -> None:
    """Open one of HR's pages through its header menu (员工, 培训, 报表, 内容, 审计, …): the
    menu's and the link's message ids, shown in the page's language."""
    label = re.compile(rf"^\s*{re.escape(page.t(menu))}\s*$")
    page.locator("details.nav-menu > summary", has_text=label).click()
    page.get_by_role("link", name=page.t(link), exact=True).click()
