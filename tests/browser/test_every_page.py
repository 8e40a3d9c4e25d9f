"""Every page, as every role, on a phone and a desk PC, in Chinese and in English: axe-core
finds no serious or critical violation, nothing scrolls sideways, and an English page shows no
Chinese outside content (the norm, lessons, questions and what HR typed, such as names).

The pages are found, not listed: every GET route of the URL map is asked for (through the test
client) with ids of the role's own records, and each that answers 200 with HTML is opened in
Chromium. So a page added later is checked without anyone remembering to add it here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import url_for
from sqlalchemy import select

from training.auth import links
from training.auth.models import ManagedDepartment, Role
from training.course.versions import current_norm_version
from training.extensions import db
from training.jobs.models import JobState
from training.jobs.runner import enqueue
from training.quizzes.services import grade_answers, record_submission, start_attempt

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desk": {"width": 1366, "height": 768}}
ROLES = ("anonymous", "learner", "manager", "hr")
# Routes that are not pages a person reads: files, redirects into flows, the API.
SKIP_PREFIXES = ("static", "api.")
SERIOUS = ("serious", "critical")
# SCREENSHOTS=dir keeps a full-page screenshot of every page checked, to look at.
SHOTS = os.environ.get("SCREENSHOTS")
LANGUAGES = {"zh": "zh-CN", "en": "en-US"}
CATALOG = Path(__file__).resolve().parents[2] / "training/translations/en/LC_MESSAGES/messages.po"
# A run of Chinese characters (with the full-width punctuation between them).
CHINESE_RUN = re.compile(r"[\u3400-\u9fff][\u3400-\u9fff\u3000-\u303f\uff00-\uffef]*")

# Every text node and every attribute a person reads or hears (a screen reader's names too)
# that holds a Chinese character, unless it is inside an element marked as Chinese (the
# language switch's "中文", content a template marks with lang="zh-CN").
CHINESE_TEXT = """() => {
  const chinese = /[\u3400-\u9fff]/;
  const marked = el => { const l = el && el.closest('[lang]'); return !!l && l.lang.startsWith('zh'); };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || ['SCRIPT', 'STYLE', 'TEMPLATE'].includes(el.tagName) || marked(el)) continue;
    if (chinese.test(node.nodeValue)) found.push({text: node.nodeValue.trim(), where: el.tagName.toLowerCase()});
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [alt], input[value]')) {
    if (marked(el)) continue;
    for (const name of ['title', 'aria-label', 'placeholder', 'alt', 'value']) {
      const value = el.getAttribute(name);
      if (value && chinese.test(value) && (name !== 'value' || ['submit', 'button'].includes(el.type)))
        found.push({text: value, where: el.tagName.toLowerCase() + '@' + name});
    }
  }
  found.push({text: document.title, where: 'title'});
  return found.filter(f => chinese.test(f.text));
}"""


def _strings(value, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
        if value[:1] in "[{":
            with contextlib.suppress(ValueError):
                _strings(json.loads(value), out)
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _strings(item, out)


def _content_text() -> str:
    """All text the database holds (lessons, the norm, questions, names, departments, …):
    what an English page may show in Chinese, because someone wrote it, not the UI."""
    out: list[str] = []
    connection = db.session.connection()
    for table in db.metadata.sorted_tables:
        for row in connection.execute(select(table)):
            _strings(list(row), out)
    db.session.rollback()
    # What a translator kept in Chinese on purpose (the Chinese column names of the import
    # file, say) is part of the English text too.
    with (CATALOG).open("rb") as f:
        out.extend(m.string for m in read_po(f) if isinstance(m.string, str))
    # Pages join a question's lines and cut it short: compare without whitespace.
    return re.sub(r"\s+", "", unescape("\n".join(out)))


def _chinese_outside_content(found: list[dict], content: str) -> list[str]:
    """The Chinese runs of ``found`` that no content holds: UI text left untranslated."""
    return [
        f"{item['where']}: {run!r} in {item['text'][:80]!r}"
        for item in found
        for run in CHINESE_RUN.findall(item["text"])
        if run not in content
    ]


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => ['serious', 'critical'].includes(v.impact))
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  // The innermost elements that reach past the viewport (a box that scrolls inside itself,
  // like an HR table's, does not widen the page and is not listed).
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1
                 && !e.parentElement.closest('.table-scroll')
                 && ![...e.children].some(c => c.getBoundingClientRect().right > width + 1))
    .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                     + ' ' + Math.round(e.getBoundingClientRect().right) + 'px');
  return {scroll: document.documentElement.scrollWidth, width, wide};
}"""


@pytest.fixture
def site(app, lessons, create_user):
    """A learner with a failed attempt, a department head and HR; ids of the learner's own."""
    learner = create_user(name="学员甲", department="测试部", email="jia@example.com")
    manager = create_user(role=Role.MANAGER, name="测试部负责人", department="测试部")
    manager.managed.append(ManagedDepartment(department="测试部"))
    hr = create_user(role=Role.HR, name="人事丙")
    attempt = start_attempt(learner.id, lessons[0])
    record_submission(attempt, grade_answers(attempt, {}))
    newcomer = create_user(name="新人丁")
    token = links.issue_setup_links([newcomer.id])[newcomer.id]
    job = enqueue("employee_import", title="导入员工:x.csv", params={}, actor=hr)
    job.state = JobState.DONE
    job.result = {"created": 0, "updated": 0, "unchanged": 1, "created_ids": [], "mailed": 0}
    db.session.commit()
    values = {
        "user_id": learner.id,
        "attempt_id": attempt.id,
        "version_id": current_norm_version().id,
        "number": lessons[0].number,
        "lesson": lessons[0].number,
        "employee_no": learner.employee_no,
        "department": "测试部",
        "token": token,  # the set-password page, for anyone holding the link
        "job_id": job.id,
    }
    return {"anonymous": None, "learner": learner, "manager": manager, "hr": hr, "values": values}


def _pages(app, user, values) -> list[str]:
    """The URLs of every GET route that shows this user (None: anyone) an HTML page."""
    client = app.test_client()
    if user is not None:
        response = client.post(
            "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
        )
        assert response.status_code == 302
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint.startswith(SKIP_PREFIXES):
                continue
            if not set(rule.arguments) <= values.keys():
                continue
            urls.append(url_for(rule.endpoint, **{k: values[k] for k in rule.arguments}))
    pages = []
    for url in sorted(set(urls)):
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            pages.append(url)
        response.close()
        # The test's app context is the requests' too: end what a page left open, so the
        # live server's writes do not wait for this session.
        db.session.rollback()
    return pages


def test_the_chinese_check_tells_ui_text_from_content():
    content = "第一条接听电话时，先问候。学员甲测试部"
    found = [
        {"text": "Lesson 1: 接听电话时", "where": "h1"},
        {"text": "学员甲 (测试部)", "where": "td"},
        {"text": "保存成功。", "where": "p"},
        {"text": "Sign out", "where": "button"},
    ]
    assert _chinese_outside_content(found, content) == ["p: '保存成功。' in '保存成功。'"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_accessible_and_fits(app, make_app, site, page, role, viewport, lang):
    language = lang  # zh or en: the page fixture runs every browser test in both
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make setup-dev` (npm ci --prefix tests/a11y)")
    from tests.browser.conftest import serving

    user = site[role]
    pages = _pages(app, user, site["values"])  # the test app: CSRF off for its test client
    app = make_app(WTF_CSRF_ENABLED=True)
    assert len(pages) >= {"anonymous": 1, "learner": 8, "manager": 8, "hr": 25}[role], pages
    content = _content_text() if language != "zh" else ""
    context = page.context.browser.new_context(
        locale=LANGUAGES[language], viewport=VIEWPORTS[viewport], bypass_csp=True
    )
    tab = context.new_page()
    problems: list[str] = []
    try:
        with serving(app) as base:
            if user is not None:
                tab.goto(f"{base}/login")
                tab.locator("input[name=employee_no]").fill(user.employee_no)
                tab.locator("input[name=password]").fill("Correct-Horse-42")
                tab.locator("form:has(input[name=password]) [type=submit]").click()
                tab.wait_for_url(lambda url: "/login" not in url)
            for url in pages:
                tab.goto(base + url)
                tab.add_script_tag(path=str(AXE))
                for violation in tab.evaluate(AXE_RUN):
                    problems.append(
                        f"{url}: {violation['impact']} {violation['id']} ({violation['help']}) "
                        f"at {violation['nodes']}"
                    )
                if language != "zh":
                    problems.extend(
                        f"{url}: Chinese UI text on an English page: {line}"
                        for line in _chinese_outside_content(tab.evaluate(CHINESE_TEXT), content)
                    )
                if SHOTS:
                    name = f"{role}-{viewport}-{language}{url.replace('/', '_') or '_'}.png"
                    tab.screenshot(path=str(Path(SHOTS) / name), full_page=True)
                fit = tab.evaluate(OVERFLOW)
                if fit["scroll"] > fit["width"] + 1:
                    problems.append(
                        f"{url}: scrolls sideways ({fit['scroll']} px in {fit['width']} px): "
                        f"{fit['wide']}"
                    )
    finally:
        context.close()
    assert not problems, "\n".join(problems)
