"""HR pages at two company sizes, served side by side and timed in interleaved blocks.

Run with `make bench-hr` (or `.venv/bin/python benchmarks/hr_scale.py`, from the repository
root). It builds two databases with ``populate.py`` — 1,000 and 10,000 employees — serves
each with gunicorn at the same time, logs in as HR on both, and times the HR dashboard, the
employee list (page 1, default order and by name), and the API's employee list one request
at a time, alternating short blocks between the two sizes so that each ratio compares the
same minutes of a shared machine. Then it serves the large database once more with the
quiz insight's cache period at 10 s and loads the dashboard for a minute, so that its p99
shows whether a request ever pays for the insight's refresh (seconds at 10,000 employees).
It prints Markdown and writes ``results/hr_scale.json``; ``--check`` exits non-zero when a
goal is missed.

``--database-url`` points it at a PostgreSQL server instead of SQLite files: it creates
(and afterwards drops) two databases named after the URL's, ``<name>_hr_small`` and
``<name>_hr_large``. ``--keep DIR`` keeps the SQLite files (or the PostgreSQL databases)
and reuses them on the next run, upgraded to the current migrations.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# This checkout's code, not whichever one the virtualenv's editable install points at.
sys.path[:0] = [str(REPO), str(HERE)]

import common  # noqa: E402
from common import (  # noqa: E402 - after the path is set
    Server,
    app_env,
    create_database,
    database_exists,
    drop_database,
    git_commit,
    gunicorn,
    log,
    machine,
    set_workers,
    settle,
)
from loadgen import Client, LoadError, log_in  # noqa: E402
from populate import HR_EMPLOYEE_NO, PASSWORD, Population, migrate_and_sync  # noqa: E402
from sqlalchemy import event, make_url  # noqa: E402

from training.app import create_app  # noqa: E402

RESULTS = HERE / "results"
SMALL, LARGE = 1_000, 10_000
BLOCK = 5  # requests per page and size before switching to the other size
ROUNDS = 12  # blocks per page and size
REFRESH_SECONDS = 10  # the quiz-insight cache period while the refresh is measured
REFRESH_RUN = 60.0  # seconds of dashboard requests, one at a time, 0.1 s apart
HARD_LIMIT = 1500
GOALS = {"dashboard": 1.5, "employee_list": 1.3}
REFRESH_P99_GOAL = 3.0  # dashboard p99 ÷ p50 with the insight refreshing

PAGES = {
    "dashboard": "/hr/",
    "employee_list": "/hr/employees?page=1",
    "employee_list_by_name": "/hr/employees?page=1&sort=name",
    "employee_list_overdue": "/hr/employees?page=1&status=overdue",
    "api_employees": "/api/v1/employees?limit=50",
    "practice_stats": "/practice/stats",
}


@dataclass
class Target:
    """One populated database and, while it is served, its server and HR client."""

    size: int
    url: str
    api_token: str = ""
    server: Server | None = None
    client: Client | None = None
    latencies: dict[str, list[float]] = field(default_factory=dict)


# --- databases -------------------------------------------------------------------------------


def _build_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})


def build(target: Target, reuse: bool) -> float | None:
    """Populate a fresh database, or upgrade the kept one, and give it an API token.

    Returns the seconds the build took (None when a kept database was reused).
    """
    from flask_migrate import upgrade

    app = _build_app(target.url)
    seconds = None
    if reuse and database_exists(target.url):
        with app.app_context():
            upgrade()
        log(f"{target.size:,} employees: reusing {target.url}")
    else:
        create_database(target.url)
        started = time.perf_counter()
        migrate_and_sync(app)
        Population(app).add(target.size)
        seconds = round(time.perf_counter() - started, 1)
        log(f"{target.size:,} employees in {seconds:.0f}s")
        settle(target.url)
    give_api_token(target)
    return seconds


def give_api_token(target: Target) -> None:
    """Create an API token for the target's database (HR's, as the API page makes one)."""
    from training.api import tokens
    from training.extensions import db

    app = _build_app(target.url)
    with app.app_context():
        _token, target.api_token = tokens.create("bench", None, actor=None)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def count_statements(target: Target, pages: dict[str, str] | None = None) -> dict[str, int]:
    """Count the SQL statements of each page with the Flask test client (BEGIN not counted)."""
    from training.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": target.url,
            "SECRET_KEY": secrets.token_hex(16),
            "SESSION_COOKIE_SECURE": False,
            "WTF_CSRF_ENABLED": False,
            "API_RATE_PER_MINUTE": 1_000_000,
            "LOG_LEVEL": "ERROR",  # the request log of the counted requests is not wanted
        }
    )
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    client = app.test_client()
    data = {"employee_no": HR_EMPLOYEE_NO, "password": PASSWORD}
    if client.post("/login", data=data).status_code != 302:
        raise RuntimeError("could not log in as HR in process")
    headers = {"Authorization": f"Bearer {target.api_token}"}
    counts = {}
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for name, path in (pages or PAGES).items():
            client.get(path, headers=headers)  # warm: first-request work is not counted
            _settle()
            client.get(path, headers=headers)
            statements.clear()
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code}")
            counts[name] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        engine.dispose()
    return counts


def _settle() -> None:
    """Wait for the quiz statistics' background refresh, where there is one, so that its
    statements (on the same engine) are not counted as a page's."""
    try:
        from training.reports.items import statistics
    except ImportError:  # computed in the request: nothing runs beside it
        return
    statistics.wait(120)


# --- serving and timing ----------------------------------------------------------------------


def _env(target: Target, insight_seconds: float | None = None) -> dict[str, str]:
    env = app_env(target.url)
    env["PYTHONPATH"] = str(REPO)
    env["TRAINING_API_RATE_PER_MINUTE"] = "1000000"
    if insight_seconds is not None:
        env["TRAINING_INSIGHT_CACHE_SECONDS"] = str(insight_seconds)
    return env


def _get(target: Target, path: str) -> float:
    """GET a page as HR (the API with the bearer token); return the latency in seconds."""
    assert target.client is not None  # noqa: S101 - served targets only
    started = time.perf_counter()
    if path.startswith("/api/"):
        conn = http.client.HTTPConnection("127.0.0.1", target.client.port, timeout=120)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {target.api_token}"})
            response = conn.getresponse()
            response.read()
            status = response.status
        finally:
            conn.close()
    else:
        status = target.client.request("GET", path).status
    elapsed = time.perf_counter() - started
    if status != 200:
        raise LoadError(f"GET {path} at {target.size}: {status}")
    return elapsed


def _serve(stack: ExitStack, target: Target, logfile: Path, **env: float) -> None:
    target.server = stack.enter_context(gunicorn("wsgi:app", _env(target, **env), logfile))
    target.client = Client(target.server.port)
    log_in(target.client, HR_EMPLOYEE_NO, PASSWORD)
    stack.callback(target.client.close)


def _until_computed(target: Target) -> None:
    """Load the dashboard until each worker shows the quiz insight (untimed).

    Where the insight is computed in the background, a worker's first dashboard says
    "正在计算" until its first run is done; timing starts once eight in a row have it.
    """
    assert target.client is not None  # noqa: S101 - served targets only
    in_a_row, deadline = 0, time.monotonic() + 180
    while in_a_row < 8 and time.monotonic() < deadline:
        computing = 'data-insight="computing"' in target.client.get(PAGES["dashboard"]).text
        in_a_row = 0 if computing else in_a_row + 1
        if computing:
            time.sleep(0.5)


def interleaved(
    targets: list[Target],
    pages: dict[str, str] | None = None,
    rounds: int = ROUNDS,
    block: int = BLOCK,
) -> None:
    """Time every page on every target in alternating blocks (warm-up first, untimed)."""
    pages = pages or PAGES
    for target in targets:
        _until_computed(target)
        for path in pages.values():
            for _ in range(3):
                _get(target, path)
    for name, path in pages.items():
        for target in targets:
            target.latencies[name] = []
        for round_ in range(rounds):
            order = targets if round_ % 2 == 0 else targets[::-1]
            for target in order:
                for _ in range(block):
                    target.latencies[name].append(_get(target, path))
        small, large = (_p(t.latencies[name], 50) for t in targets)
        log(f"  {name}: p50 {small:.1f} ms / {large:.1f} ms, ratio {large / small:.2f}")


def refresh_run(target: Target, seconds: float = REFRESH_RUN) -> dict[str, float]:
    """Time the dashboard for a minute while the quiz insight's cache period runs out.

    Untimed first: each worker's first computation (``_until_computed``).
    """
    _until_computed(target)
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        latencies.append(_get(target, PAGES["dashboard"]))
        time.sleep(0.1)
    return {
        "requests": len(latencies),
        "p50_ms": round(_p(latencies, 50), 1),
        "p99_ms": round(_p(latencies, 99), 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def _p(latencies: list[float], p: float) -> float:
    if not latencies:
        return float("nan")
    if p == 50:
        return statistics.median(latencies) * 1000
    ordered = sorted(latencies)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1] * 1000


# --- the run ---------------------------------------------------------------------------------


@contextmanager
def databases(args: argparse.Namespace) -> Iterator[list[Target]]:
    """Yield the two targets; remove what was built unless it is to be kept."""
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="training-hr-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.database_url:
        base = make_url(args.database_url)
        urls = [
            base.set(database=f"{base.database}_hr_{label}").render_as_string(hide_password=False)
            for label in ("small", "large")
        ]
    else:
        urls = [f"sqlite:///{workdir / f'hr-{label}.sqlite'}" for label in ("small", "large")]
    targets = [Target(args.small, urls[0]), Target(args.large, urls[1])]
    try:
        yield targets
    finally:
        if not args.keep:
            for target in targets:
                drop_database(target.url)
            shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace) -> dict:
    figures: dict = {"machine": machine(), "commit": git_commit(), "workers": common.WORKERS}
    figures["database"] = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
    with databases(args) as targets:
        for target in targets:
            build(target, reuse=bool(args.keep))
        figures["statements"] = {str(t.size): count_statements(t) for t in targets}
        log(f"statements per page: {figures['statements']}")
        logdir = Path(tempfile.mkdtemp(prefix="training-hr-log-"))
        try:
            with ExitStack() as stack:
                for target in targets:
                    _serve(stack, target, logdir / f"{target.size}.log")
                interleaved(targets)
            figures["pages"] = {
                name: {
                    str(t.size): {
                        "requests": len(t.latencies[name]),
                        "p50_ms": round(_p(t.latencies[name], 50), 2),
                        "p99_ms": round(_p(t.latencies[name], 99), 2),
                    }
                    for t in targets
                }
                | {
                    "ratio": round(
                        _p(targets[1].latencies[name], 50) / _p(targets[0].latencies[name], 50), 2
                    )
                }
                for name in PAGES
            }
            large = targets[1]
            with ExitStack() as stack:
                _serve(stack, large, logdir / "refresh.log", insight_seconds=REFRESH_SECONDS)
                figures["refresh"] = refresh_run(large) | {"insight_seconds": REFRESH_SECONDS}
            log(f"dashboard with the insight refreshing: {figures['refresh']}")
        finally:
            shutil.rmtree(logdir, ignore_errors=True)
    return figures


def render(figures: dict, small: int, large: int, rounds: int = ROUNDS, block: int = BLOCK) -> str:
    m = figures["machine"]
    lines = [
        f"HR pages at {small:,} and {large:,} employees, {figures['database']}, gunicorn "
        f"{figures['workers']} sync workers per size, both served at once; one request at a "
        f"time in alternating blocks of {block} ({rounds} blocks per page and size); "
        f"{m['nproc']} × {m['cpu']}, commit {figures['commit']}.",
        "",
        f"| page | p50 @ {small:,} | p99 | p50 @ {large:,} | p99 | ratio | goal | statements |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    statements = figures["statements"]
    for name, entry in figures["pages"].items():
        s, lg = entry[str(small)], entry[str(large)]
        goal = GOALS.get(name)
        counts = {statements[str(small)][name], statements[str(large)][name]}
        lines.append(
            f"| {PAGES[name]} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} | {lg['p50_ms']:.1f} "
            f"| {lg['p99_ms']:.1f} | {entry['ratio']:.2f} | {f'≤ {goal}' if goal else ''} "
            f"| {' / '.join(str(c) for c in sorted(counts))} |"
        )
    r = figures["refresh"]
    lines += [
        "",
        f"Dashboard at {large:,} with the quiz-insight cache period at {r['insight_seconds']} s: "
        f"{r['requests']} requests, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
        f"max {r['max_ms']} ms (goal: p99 ≤ {REFRESH_P99_GOAL:g} × p50).",
    ]
    return "\n".join(lines) + "\n"


def missed(figures: dict) -> list[str]:
    """Return the goals the figures miss."""
    out = [
        f"{name}: ratio {figures['pages'][name]['ratio']} > {goal}"
        for name, goal in GOALS.items()
        if figures["pages"][name]["ratio"] > goal
    ]
    r = figures["refresh"]
    if r["p99_ms"] > REFRESH_P99_GOAL * r["p50_ms"]:
        out.append(f"dashboard p99 {r['p99_ms']} ms > {REFRESH_P99_GOAL:g} × p50 {r['p50_ms']} ms")
    return out


def _alarm(signum, frame):
    raise TimeoutError(f"HR benchmark exceeded {HARD_LIMIT}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: SQLite files)")
    parser.add_argument("--small", type=int, default=SMALL)
    parser.add_argument("--large", type=int, default=LARGE)
    parser.add_argument("--keep", help="keep the databases in (or reuse them from) this directory")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    args = parser.parse_args(argv)
    set_workers(args.workers)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HARD_LIMIT)
    try:
        figures = run(args)
    finally:
        signal.alarm(0)
    table = render(figures, args.small, args.large)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    name = "hr_scale_postgresql" if args.database_url else "hr_scale"
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    problems = missed(figures)
    for problem in problems:
        log(f"goal missed: {problem}")
    return 1 if args.check and problems else 0


if __name__ == "__main__":
    sys.exit(main())
