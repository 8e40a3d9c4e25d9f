"""Every page, as every role, on a phone and a desk PC: axe-core finds no serious or critical
violation, and nothing scrolls sideways.

The pages are found, not listed: every GET route of the URL map is asked for (through the test
client) with ids of the role's own records, and each that answers 200 with HTML is opened in
Chromium. So a page added later is checked without anyone remembering to add it here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import url_for

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


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_accessible_and_fits(app, make_app, site, page, role, viewport):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make setup-dev` (npm ci --prefix tests/a11y)")
    from tests.browser.conftest import serving

    user = site[role]
    pages = _pages(app, user, site["values"])  # the test app: CSRF off for its test client
    app = make_app(WTF_CSRF_ENABLED=True)
    assert len(pages) >= {"anonymous": 1, "learner": 8, "manager": 8, "hr": 25}[role], pages
    context = page.context.browser.new_context(
        locale="zh-CN", viewport=VIEWPORTS[viewport], bypass_csp=True
    )
    tab = context.new_page()
    problems: list[str] = []
    try:
        with serving(app) as base:
            if user is not None:
                tab.goto(f"{base}/login")
                tab.get_by_label("工号").fill(user.employee_no)
                tab.get_by_label("密码").fill("Correct-Horse-42")
                tab.get_by_role("button", name="登录").click()
                tab.wait_for_url(lambda url: "/login" not in url)
            for url in pages:
                tab.goto(base + url)
                tab.add_script_tag(path=str(AXE))
                for violation in tab.evaluate(AXE_RUN):
                    problems.append(
                        f"{url}: {violation['impact']} {violation['id']} ({violation['help']}) "
                        f"at {violation['nodes']}"
                    )
                if SHOTS:
                    name = f"{role}-{viewport}{url.replace('/', '_') or '_'}.png"
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
