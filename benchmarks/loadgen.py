"""A small, bounded HTTP load generator: threads, http.client, a cookie jar per client."""

from __future__ import annotations

import http.client
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

HOST = "127.0.0.1"  # the only host this generator talks to
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class LoadError(RuntimeError):
    """A response other than the one the scenario expects."""


@dataclass
class Response:
    status: int
    location: str
    text: str


class Client:
    """One browser-like client: a keep-alive connection to 127.0.0.1 and its cookies."""

    def __init__(self, port: int, timeout: float = 120.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | list | None = None) -> Response:
        """Send one request (reconnecting once if the server closed the connection)."""
        headers = {"Connection": "keep-alive", "User-Agent": "training-bench/1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for retry in (True, False):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                raw = self.conn.getresponse()
                data = raw.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                if not retry:
                    raise
            except BaseException:
                # A timeout leaves the connection mid-request; start the next one afresh.
                self.conn.close()
                raise
        for header in raw.headers.get_all("Set-Cookie") or []:
            self._store_cookie(header)
        location = urlsplit(raw.headers.get("Location", ""))
        path_only = location.path + (f"?{location.query}" if location.query else "")
        return Response(raw.status, path_only, data.decode("utf-8", "replace"))

    def _store_cookie(self, header: str) -> None:
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
            if expired or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str, expect: int = 200) -> Response:
        response = self.request("GET", path)
        if response.status != expect:
            raise LoadError(f"GET {path}: {response.status}, expected {expect}")
        return response

    def post(self, path: str, form: dict | list, expect: int = 302) -> Response:
        response = self.request("POST", path, form)
        if response.status != expect:
            raise LoadError(f"POST {path}: {response.status}, expected {expect}")
        return response

    def close(self) -> None:
        self.conn.close()


def csrf_token(html: str) -> str:
    """Return the CSRF token a rendered form carries, as a browser would submit it."""
    match = CSRF_RE.search(html)
    if not match:
        raise LoadError("no csrf_token in the page")
    return match.group(1)


def log_in(client: Client, employee_no: str, password: str) -> None:
    """Log in through the real login form, CSRF token included."""
    token = csrf_token(client.get("/login").text)
    client.post("/login", {"csrf_token": token, "employee_no": employee_no, "password": password})


@dataclass
class LoadResult:
    """Latencies of one fixed-size run; rates over the wall time of the run."""

    name: str
    planned: int
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    timed_out: bool = False

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.done / self.wall if self.wall else 0.0

    def percentile(self, p: float) -> float:
        """Return the p-th percentile latency in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000

    def as_dict(self) -> dict:
        return {
            "requests": self.done,
            "planned": self.planned,
            "concurrency": self.concurrency,
            "errors": len(self.errors),
            "first_errors": self.errors[:3],
            "timed_out": self.timed_out,
            "wall_s": round(self.wall, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
        }


# A step sends what it measures and returns that request's latency in seconds; it may do
# untimed work around it (fetching the form it submits, say).
Step = Callable[[Client, int], float]


def timed(client: Client, method: str, path: str, form=None, expect: int = 200) -> float:
    """Send one request and return its latency, raising LoadError on an unexpected status."""
    started = time.perf_counter()
    response = client.request(method, path, form)
    elapsed = time.perf_counter() - started
    if response.status != expect:
        raise LoadError(f"{method} {path}: {response.status}, expected {expect}")
    return elapsed


def run_load(
    name: str, clients: list[Client], step: Step, total: int, time_limit: float
) -> LoadResult:
    """Run ``total`` steps spread over one thread per client; stop early at the time limit."""
    result = LoadResult(name, total, len(clients))
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.monotonic() + time_limit

    def worker(client: Client) -> None:
        while True:
            if time.monotonic() > deadline:
                result.timed_out = True
                return
            with lock:
                index = next(counter, None)
            if index is None:
                return
            try:
                latency = step(client, index)
            except (LoadError, OSError, http.client.HTTPException) as exc:
                with lock:
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                if len(result.errors) > total // 10:
                    return  # something is broken; do not hammer it
                continue
            with lock:
                result.latencies.append(latency)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        # Requests time out on their own; this join only guards against a hung socket.
        thread.join(timeout=max(1.0, deadline - time.monotonic()) + 35)
    result.wall = time.perf_counter() - started
    return result
