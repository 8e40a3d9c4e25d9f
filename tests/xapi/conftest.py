"""A real ralph LRS for the xAPI tests, started from .venv-ralph (`make setup-dev`)."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RALPH = ROOT / ".venv-ralph" / "bin" / "ralph"
RALPH_PYTHON = ROOT / ".venv-ralph" / "bin" / "python"
VALIDATOR = Path(__file__).with_name("ralph_validate.py")
SERVER = Path(__file__).with_name("ralph_server.py")
USER, PASSWORD = "lrs-writer", "lrs-test-password-1"


def _need_ralph() -> None:
    if not RALPH.exists():
        pytest.fail(f"{RALPH} is missing: run `make setup-dev` (it builds .venv-ralph)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lrs:
    url: str  # the xAPI base, ending in "/"

    def get(self, path: str) -> tuple[int, dict]:
        pair = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the test's own LRS, over http
            self.url + path,
            headers={"Authorization": f"Basic {pair}", "X-Experience-API-Version": "1.0.3"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, {}

    def all(self) -> list[dict]:
        """Every statement the LRS holds, following its `more` links.

        ralph's file backend does not filter (statementId, agent): read everything back.
        """
        found: list[dict] = []
        path = "statements?limit=500"
        while path:
            status, body = self.get(path)
            assert status == 200, (status, body)
            found.extend(body["statements"])
            more = body.get("more") or ""
            path = more.split("/xAPI/", 1)[1] if "/xAPI/" in more else ""
        return found

    def statement(self, statement_id: str) -> dict | None:
        return next((s for s in self.all() if s["id"] == statement_id), None)


@pytest.fixture(scope="session")
def lrs(tmp_path_factory) -> Iterator[Lrs]:
    """A ralph LRS (file backend) on a free port, with one basic-auth account."""
    _need_ralph()
    home = tmp_path_factory.mktemp("ralph")
    env = {
        **os.environ,
        "RALPH_APP_DIR": str(home / "app"),
        "RALPH_AUTH_FILE": str(home / "auth.json"),
        "RALPH_RUNSERVER_BACKEND": "fs",
        "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(home / "data"),
    }
    (home / "data").mkdir()
    subprocess.run(  # noqa: S603 - our own paths and values
        [RALPH, "auth", "-u", USER, "-p", PASSWORD, "-s", "all"]
        + ["-M", "mailto:lrs-writer@example.com", "-w"],
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    log = (home / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603 - see above
        [RALPH_PYTHON, SERVER, "127.0.0.1", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lrs = Lrs(f"http://127.0.0.1:{port}/xAPI/")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if lrs.get("statements?limit=1")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("ralph did not start: " + (home / "server.log").read_text()[-2000:])
            time.sleep(0.3)
        yield lrs
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def ralph_validate():
    """Validate statements with ralph's xAPI models; return the per-statement results."""

    def validate(statements: list[dict]) -> list[dict]:
        _need_ralph()
        lines = "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in statements)
        done = subprocess.run(  # noqa: S603 - see above
            [RALPH_PYTHON, VALIDATOR], input=lines, capture_output=True, text=True, check=True
        )
        return [json.loads(line) for line in done.stdout.splitlines()]

    return validate
