"""A real OpenID Provider (oidc-provider under node, tests/oidc/provider.mjs) for the tests,
and the browser's part of a sign-in through it."""

from __future__ import annotations

import http.cookiejar
import json
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from tests.auth.slapd import free_port

HERE = Path(__file__).parent
CLIENT_ID = "training-test"
CLIENT_SECRET = "test-only-client-secret"  # noqa: S105 - a test client's secret
REDIRECT_URI = "http://localhost/login/sso/oidc/callback"  # the Flask test client's host
MISSING = (
    "tests/oidc needs node and its oidc-provider (npm): run `make setup-dev`, or "
    "`npm ci --prefix tests/oidc`"
)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class OpenIdProvider:
    """One oidc-provider process on a free port of 127.0.0.1."""

    process: subprocess.Popen
    issuer: str
    calls: list[str] = field(default_factory=list)

    @classmethod
    def start(cls) -> OpenIdProvider:
        node = shutil.which("node")
        if node is None or not (HERE / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(MISSING)
        port = free_port()
        process = subprocess.Popen(  # noqa: S603
            [node, str(HERE / "provider.mjs"), str(port), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()  # "ready <issuer>" once it listens
        if not line.startswith("ready "):
            process.kill()
            raise RuntimeError(f"oidc-provider did not start: {line!r}")
        return cls(process, line.split()[1])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def settings(self, **overrides) -> dict:
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        } | overrides

    def _post(self, path: str, payload: dict) -> None:
        request = urllib.request.Request(  # noqa: S310 - the test provider on 127.0.0.1
            self.issuer + path,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def set_accounts(self, accounts: dict[str, dict]) -> None:
        """The people who can sign in here: account id (the login_hint) -> their claims."""
        self._post("/__test/accounts", accounts)

    def set_clock(self, offset_seconds: int) -> None:
        """Move the provider's clock (negative: behind ours)."""
        self._post("/__test/clock", {"offset": offset_seconds})

    def publish_foreign_key(self, foreign: bool = True) -> None:
        """Serve a JWKS whose key (same kid) is not the one the ID tokens are signed with."""
        self._post("/__test/jwks", {"foreign": foreign})

    def authorize(self, url: str, login_hint: str) -> str:
        """Be the person's browser at the provider: from the authorize URL our app sent it
        to, until the provider sends it back; return that callback URL (path and query)."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query)) | {"login_hint": login_hint}
        url = urlunsplit(parts._replace(query=urlencode(query)))
        for _ in range(10):
            self.calls.append(url)
            try:
                with opener.open(url, timeout=10) as response:
                    raise AssertionError(f"the provider answered {response.status} at {url}")
            except urllib.error.HTTPError as error:
                if error.code not in (302, 303):
                    raise AssertionError(f"{error.code} at {url}: {error.read()[:500]!r}") from None
                location = error.headers["Location"]
                error.close()
            url = urljoin(url, location)
            if url.startswith(REDIRECT_URI):
                back = urlsplit(url)
                return f"{back.path}?{back.query}"
        raise AssertionError("the provider never sent the browser back")
