"""A real SMTP server (aiosmtpd) and a real HTTP endpoint for group robots, in the test process."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask

from tests.reports.conftest import records  # noqa: F401 - fixture for test_every_kind
from tests.revisions.conftest import complete_lessons, revised  # noqa: F401 - fixtures

MAIL_USER = "training-bot"
MAIL_SECRET = "mail-Secret-9"  # noqa: S105 - the test server's own login


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailbox:
    """What the SMTP server received, as parsed messages."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.endswith("@refused.example.com"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return part.get_content()


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == MAIL_USER.encode()
        and auth_data.password == MAIL_SECRET.encode()
    )
    return AuthResult(success=ok)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), which the app trusts as MAIL_CA_FILE."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make the test mail server's certificate"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class SmtpServer:
    """An SMTP server with STARTTLS that accepts mail only after a login over TLS."""

    port: int
    mailbox: Mailbox
    certificate: tuple[Path, Path]
    controller: Controller | None = None

    def settings(self) -> dict:
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": self.port,
            "MAIL_USE_TLS": True,
            "MAIL_CA_FILE": str(self.certificate[0]),
            "MAIL_USERNAME": MAIL_USER,
            "MAIL_PASSWORD": MAIL_SECRET,
            "MAIL_DEFAULT_SENDER": "training@example.com",
            "NOTIFY_QUIET_HOURS": "",
        }

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*self.certificate)
        controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            authenticator=_authenticate,
            auth_required=True,
            auth_require_tls=True,
        )
        controller.start()
        self.controller = controller


@pytest.fixture
def smtp(certificate) -> Iterator[SmtpServer]:
    """Start an SMTP server that requires a login and keeps every message it accepts."""
    server = SmtpServer(free_port(), Mailbox(), certificate)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(make_app, smtp) -> Iterator[Flask]:
    """Here the app sends through the test SMTP server (and every fixture uses this app)."""
    app = make_app(**smtp.settings())
    with app.app_context():
        yield app


@pytest.fixture
def mail_app(app) -> Flask:
    return app


@dataclass
class Robot:
    """A group-robot endpoint: records each JSON body; answers with ``reply``."""

    url: str
    received: list[dict] = field(default_factory=list)
    reply: dict = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    status: int = 200


@pytest.fixture
def robot() -> Iterator[Robot]:
    port = free_port()
    state = Robot(url=f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=test")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            length = int(self.headers["Content-Length"])
            state.received.append(json.loads(self.rfile.read(length)))
            body = json.dumps(state.reply).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def send(mail_app) -> Callable[..., object]:
    """Run `flask notify send` once; return the CLI result."""
    runner = mail_app.test_cli_runner()

    def run():
        return runner.invoke(args=["notify", "send"])

    return run
