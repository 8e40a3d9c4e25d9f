"""The SCORM package in a real SCORM 1.2 runtime (scorm-again) in Chromium: a learner takes a
lesson's quiz and the runtime receives the status, the score and every interaction."""

from __future__ import annotations

import functools
import http.server
import io
import json
import shutil
import threading
import zipfile
from pathlib import Path

import pytest

from training.auth.models import Role

pytestmark = pytest.mark.browser

RUNTIME = Path(__file__).resolve().parents[1] / "scorm/node_modules/scorm-again/dist/scorm12.js"
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="scorm12.js"></script>
<script>window.API = new Scorm12API({autocommit: false, logLevel: 5});</script>
</head><body><iframe id="sco" src="package/lesson-1-1/index.html"
style="width:100%;height:2000px"></iframe></body></html>"""


@pytest.fixture
def lms(client, login_as, lessons, tmp_path):
    """Serve the course package beside the runtime, as an LMS would."""
    if not RUNTIME.is_file():
        pytest.fail(f"{RUNTIME} is missing: run `make setup-dev` (npm ci --prefix tests/scorm)")
    login_as(Role.HR)
    data = client.get("/hr/content/banks/scorm.zip").data
    root = tmp_path / "lms"
    zipfile.ZipFile(io.BytesIO(data)).extractall(root / "package")
    shutil.copy(RUNTIME, root / "scorm12.js")
    (root / "index.html").write_text(PAGE, "utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def _answer(frame, data: dict, *, right: bool) -> None:
    by_id = {q["id"]: q for q in data["questions"]}
    for box in frame.locator("fieldset.question").all():
        question = by_id[box.get_attribute("data-qid")]
        keys = [o["key"] for o in question["options"] if o["correct"] == right]
        if question["kind"] != "multiple" or not right:
            keys = keys[:1]
        for key in keys:
            box.locator(f"input[value='{key}']").check()


@pytest.mark.parametrize("right", [True, False])
def test_a_sco_reports_to_a_real_scorm_runtime(page, lms, right):
    base, root = lms
    data = json.loads(
        (root / "package/lesson-1-1/index.html")
        .read_text("utf-8")
        .split('id="quiz-data">')[1]
        .split("</script>")[0]
    )
    page.goto(f"{base}/index.html")
    frame = page.frame_locator("#sco")
    frame.locator("fieldset.question").first.wait_for()
    assert page.evaluate("window.API.cmi.core.lesson_status") == "incomplete"
    assert frame.locator("fieldset.question").count() == data["size"]
    _answer(frame, data, right=right)
    # The package is static and Chinese (banks/scorm_assets/sco.js), whatever the browser's
    # language: its text is not a UI message of the app.
    frame.get_by_role("button", name="提交答案").click()
    frame.locator("#quiz-result").filter(has_text="答对").wait_for()
    status = page.evaluate("window.API.LMSGetValue('cmi.core.lesson_status')")
    raw = page.evaluate("window.API.LMSGetValue('cmi.core.score.raw')")
    count = page.evaluate("window.API.LMSGetValue('cmi.interactions._count')")
    assert status == ("passed" if right else "failed")
    assert raw == ("100" if right else "0")
    assert count == str(data["size"])
    # Interactions are write-only to a SCO; the runtime's own record of what it received:
    cmi = page.evaluate("JSON.parse(JSON.stringify(window.API.cmi))")
    interactions = cmi["interactions"]
    interactions = list(interactions.values()) if isinstance(interactions, dict) else interactions
    results = {item["id"]: item["result"] for item in interactions}
    assert len(results) == data["size"]
    assert set(results.values()) == {"correct" if right else "wrong"}
    assert set(results) <= {q["id"] for q in data["questions"]}
    page.screenshot(path=str(root / f"sco-{right}.png"), full_page=True)
