"""Benchmark the app under gunicorn against a bare Flask app, on a populated SQLite database.

Run with `make bench`. Builds a throw-away database in a temporary directory, fills it
with 1,000 and then 10,000 employees, serves it with gunicorn (2 workers, 127.0.0.1), and
drives a bounded load against a few pages. Prints a table and writes
benchmarks/results/latest.json and latest.md. Everything it starts, it stops.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from loadgen import Client, LoadError, LoadResult, csrf_token, log_in, run_load, timed
from populate import HR_EMPLOYEE_NO, LEARNER_NOS, PASSWORD, Population, migrate_and_sync

from training.app import create_app

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
RESULTS = HERE / "results"

WORKERS = 2
REQUESTS = 200  # per endpoint
CONCURRENCY = 4
WARMUP = 20
SCALE_REQUESTS = 50  # per page and size, one at a time
RUN_LIMIT = 45.0  # seconds for a measured run; a slow page is cut short and says so
WARMUP_LIMIT = 15.0
SCALE_LIMIT = 30.0
HARD_LIMIT = 600  # seconds for the whole benchmark; SIGALRM ends it
SMALL, LARGE = 1_000, 10_000

LESSON = "3.3"
PAGES = {
    "lesson": f"/lessons/{LESSON}",
    "dashboard": "/hr/",
    "employee_list": "/hr/employees?page=1",
    "items": "/hr/items",
    "practice_stats": "/practice/stats",
}
HR_ENDPOINTS = {
    "dashboard": "reports.dashboard",
    "employee_list": "reports.employee_list",
    "items": "reports.item_analysis",
    "practice_stats": "practice.stats",
}
HR_PAGES = tuple(HR_ENDPOINTS)
ANSWER_RE = re.compile(r'<input type="(?:radio|checkbox)" name="(q\d+)" value="(\d+)"')
STEP_RE = re.compile(r'<select name="(q\d+)-(\d+)"')


def log(message: str) -> None:
    """Print progress to stderr, so stdout holds only the results."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int
    process: subprocess.Popen

    def worker_pids(self) -> list[int]:
        """Return the gunicorn workers: the master's child processes."""
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children")
        if children.exists():
            return [int(pid) for pid in children.read_text().split()]
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(stat.parent.name))
        return sorted(pids)


def rss_mb(pid: int) -> float:
    """Return a process's resident memory (VmRSS) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], logfile: Path, *extra: str) -> Iterator[Server]:
    """Serve an app with gunicorn on a free 127.0.0.1 port; stop it whatever happens."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        *("--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"),
        *("--log-level", "warning", "--timeout", "120"),
        *extra,
        app_spec,
    ]
    with logfile.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn, fixed arguments
            command, cwd=REPO, env=env, stdout=out, stderr=out, start_new_session=True
        )
    server = Server(port, process)
    try:
        _wait_until_serving(server, logfile)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _wait_until_serving(server: Server, logfile: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{logfile.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                pass
        except OSError:
            time.sleep(0.1)
            continue
        # Both workers must have booted (imported the app) before anything is timed.
        if len(server.worker_pids()) >= WORKERS:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not start within {timeout:.0f}s")


# --- scenarios -------------------------------------------------------------------------------


def clients_logged_in(port: int, employee_nos: list[str]) -> list[Client]:
    clients = []
    for employee_no in employee_nos:
        client = Client(port)
        log_in(client, employee_no, PASSWORD)
        clients.append(client)
    return clients


def measure_get(
    name: str, clients: list[Client], path: str, total: int, limit: float = RUN_LIMIT
) -> LoadResult:
    """Warm up, then time ``total`` GETs of a page (fewer if the time limit is reached)."""

    def step(client: Client, _index: int) -> float:
        return timed(client, "GET", path)

    run_load(f"{name} warm-up", clients, step, WARMUP, WARMUP_LIMIT)
    result = run_load(name, clients, step, total, limit)
    _report_errors(result)
    return result


def _report_errors(result: LoadResult) -> None:
    if result.errors:
        log(f"{result.name}: {len(result.errors)} errors, first: {result.errors[0]}")
    if result.timed_out:
        log(f"{result.name}: stopped at its time limit after {result.done} requests")


def quiz_answers(html: str) -> list[tuple[str, str]]:
    """Fill in an attempt's form as a learner might: first option, steps in shown order."""
    answers: dict[str, str] = {}
    for name, value in ANSWER_RE.findall(html):
        answers.setdefault(name, value)
    fields = list(answers.items())
    steps: dict[str, list[int]] = {}
    for name, position in STEP_RE.findall(html):
        steps.setdefault(name, []).append(int(position))
    for name, positions in steps.items():
        fields += [(f"{name}-{p}", str(rank)) for rank, p in enumerate(positions, start=1)]
    return fields


class QuizFlow:
    """Start attempts (POST, timed), fetch each form (untimed), later submit it (POST, timed)."""

    def __init__(self, clients: list[Client]) -> None:
        self.tokens = {id(c): csrf_token(c.get(f"/lessons/{LESSON}").text) for c in clients}
        self.ready: dict[int, list[tuple[str, list[tuple[str, str]]]]] = {
            id(c): [] for c in clients
        }

    def start(self, client: Client, _index: int = 0) -> float:
        started = time.perf_counter()
        response = client.request(
            "POST", f"/lessons/{LESSON}/quiz", {"csrf_token": self.tokens[id(client)]}
        )
        elapsed = time.perf_counter() - started
        if response.status != 302 or not response.location.startswith("/quiz/"):
            raise LoadError(f"quiz start: {response.status} to {response.location!r}")
        page = client.get(response.location).text
        self.tokens[id(client)] = csrf_token(page)
        form = [("csrf_token", self.tokens[id(client)]), *quiz_answers(page)]
        self.ready[id(client)].append((response.location, form))
        return elapsed

    def submit(self, client: Client, _index: int = 0) -> float:
        if not self.ready[id(client)]:
            self.start(client)
        path, form = self.ready[id(client)].pop()
        started = time.perf_counter()
        response = client.request("POST", path, form)
        elapsed = time.perf_counter() - started
        if response.status != 302 or response.location != f"{path}/result":
            raise LoadError(f"quiz submit: {response.status} to {response.location!r}")
        return elapsed


class LoginStorm:
    """Log in with the right password over and over, from other connections, while a
    measurement runs (issue 15: logins must not stall quiz submits: their password hashing
    sits outside any write transaction)."""

    def __init__(self, port: int, employee_no: str, threads: int = 2) -> None:
        self.port = port
        self.employee_no = employee_no
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        self.stop = threading.Event()
        self.logins = 0
        self.started = 0.0
        self.seconds = 0.0
        self._lock = threading.Lock()

    def _run(self) -> None:
        while not self.stop.is_set():
            client = Client(self.port)
            try:
                log_in(client, self.employee_no, PASSWORD)
                with self._lock:
                    self.logins += 1
            except (OSError, http.client.HTTPException):
                pass
            finally:
                client.close()

    def __enter__(self) -> LoginStorm:
        self.started = time.perf_counter()
        for thread in self.threads:
            thread.start()
        time.sleep(0.5)  # the storm is under way before the measurement starts
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        self.seconds = time.perf_counter() - self.started


LOGIN_STORM_BUDGET = 2.0  # quiz submit p95 during a login storm ÷ p95 alone, at most


# --- query counts in process -----------------------------------------------------------------


def compute_times(database_url: str) -> dict[str, float]:
    """Time the cached HR computations uncached, in process (median of three runs, ms)."""
    from zoneinfo import ZoneInfo

    from training.db import utcnow
    from training.practice.store import practice_stats
    from training.practice.views import STATS_WEEKS
    from training.reports.insight import quiz_insight
    from training.reports.items import item_analysis

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    times: dict[str, float] = {}
    with app.app_context():
        for name, work in (
            ("item analysis", item_analysis),
            ("quiz insight", quiz_insight),
            ("practice statistics", lambda: practice_stats(utcnow(), zone, STATS_WEEKS)),
        ):
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                work()
                runs.append((time.perf_counter() - started) * 1000)
            times[name] = round(sorted(runs)[1], 1)
    return times


def count_queries(database_url: str, hr_pages: bool) -> dict[str, int]:
    """Count the SQL statements each measured request runs, with the Flask test client."""
    from sqlalchemy import event
    from werkzeug.datastructures import MultiDict

    from training.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": secrets.token_hex(16),
            "SESSION_COOKIE_SECURE": False,
        }
    )
    # Requests run outside any app context of ours: an app context held across requests
    # would share `g` (and the CSRF token cached in it) between them.
    with app.app_context():
        engine = db.engine
    counts: dict[str, int] = {}
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    def counted(name: str, client, method: str, path: str, data=None):
        statements.clear()
        form = None if data is None else MultiDict(data)
        response = client.open(path, method=method, data=form)
        counts[name] = len(statements)
        return response

    def logged_in(employee_no: str):
        client = app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        data = {"csrf_token": token, "employee_no": employee_no, "password": PASSWORD}
        assert client.post("/login", data=data).status_code == 302  # noqa: S101
        return client

    event.listen(engine, "before_cursor_execute", listener)
    try:
        learner = logged_in(LEARNER_NOS[0])
        learner.get(PAGES["lesson"])  # first request of the process: not counted
        page = counted("lesson", learner, "GET", PAGES["lesson"]).get_data(as_text=True)
        data = {"csrf_token": csrf_token(page)}
        started = counted("quiz_start", learner, "POST", f"/lessons/{LESSON}/quiz", data)
        attempt = started.headers["Location"]
        form = learner.get(attempt).get_data(as_text=True)
        answers = [("csrf_token", csrf_token(form)), *quiz_answers(form)]
        counted("quiz_submit", learner, "POST", attempt, answers)
        if hr_pages:
            hr = logged_in(HR_EMPLOYEE_NO)
            for name in HR_PAGES:
                hr.get(PAGES[name])
                counted(name, hr, "GET", PAGES[name])
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        engine.dispose()
    return counts


# --- the run ---------------------------------------------------------------------------------


def machine() -> dict[str, str | int]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
    }


def app_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINING_")}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_hex(32),
        TRAINING_SESSION_COOKIE_SECURE="false",
    )
    return env


def scale_run(server: Server, hr_pages: bool) -> dict[str, dict]:
    """Time the HR pages one request at a time (latency, not throughput)."""
    if not hr_pages:
        return {}
    hr = clients_logged_in(server.port, [HR_EMPLOYEE_NO])
    results = {}
    for name in HR_PAGES:
        results[name] = measure_get(
            f"{name} (1 at a time)", hr, PAGES[name], SCALE_REQUESTS, SCALE_LIMIT
        )
        log(f"  {name}: p50 {results[name].percentile(50):.1f} ms")
    for client in hr:
        client.close()
    return {name: r.as_dict() for name, r in results.items()}


def run(workdir: Path) -> dict:
    """Build the databases, run every measurement, and return the figures."""
    database = workdir / "bench.sqlite"
    url = f"sqlite:///{database}"
    logfile = workdir / "gunicorn.log"
    figures: dict = {"machine": machine(), "settings": {}}
    figures["settings"] = {
        "workers": WORKERS,
        "requests": REQUESTS,
        "concurrency": CONCURRENCY,
        "scale_requests": SCALE_REQUESTS,
        "database": "SQLite (WAL, synchronous=FULL)",
    }

    build_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    hr_pages = all(endpoint in build_app.view_functions for endpoint in HR_ENDPOINTS.values())
    if not hr_pages:
        log("the HR dashboard or employee list does not exist yet: measuring learner pages only")
    started = time.perf_counter()
    migrate_and_sync(build_app)
    population = Population(build_app)
    population.add(SMALL)
    log(f"{SMALL:,} employees in {time.perf_counter() - started:.1f}s")

    scale: dict[str, dict] = {}
    env = app_env(url)
    with gunicorn("wsgi:app", env, logfile) as server:
        scale[str(SMALL)] = scale_run(server, hr_pages)

    started = time.perf_counter()
    population.add(LARGE - SMALL)
    figures["build"] = {
        "employees": population.count,
        "seconds_for_the_last_9000": round(time.perf_counter() - started, 1),
        "database_mb": round(database.stat().st_size / 1e6),
        "standing": dict(population.mix.most_common()),
        "rows": _row_counts(database),
    }
    log(f"{LARGE:,} employees; database {figures['build']['database_mb']} MB")

    figures["queries"] = count_queries(url, hr_pages)
    log(f"queries per request: {figures['queries']}")
    if hr_pages:
        figures["compute_ms"] = compute_times(url)
        log(f"uncached computations: {figures['compute_ms']}")

    hello_env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINING_")}
    with gunicorn("hello_app:app", hello_env, logfile, "--pythonpath", str(HERE)) as server:
        client_list = [Client(server.port) for _ in range(CONCURRENCY)]
        hello = measure_get("hello", client_list, "/", REQUESTS)
        for client in client_list:
            client.close()
        figures["hello_rss_mb"] = [round(rss_mb(pid), 1) for pid in server.worker_pids()]
    log(f"hello: {hello.rps:.0f} req/s")

    loads: dict[str, LoadResult] = {"hello": hello}
    with gunicorn("wsgi:app", env, logfile) as server:
        learners = clients_logged_in(server.port, list(LEARNER_NOS[:CONCURRENCY]))
        loads["lesson"] = measure_get("lesson", learners, PAGES["lesson"], REQUESTS)
        log(f"lesson: {loads['lesson'].rps:.0f} req/s")
        flow = QuizFlow(learners)
        run_load("quiz warm-up", learners, flow.submit, WARMUP, WARMUP_LIMIT)
        loads["quiz_start"] = run_load("quiz start", learners, flow.start, REQUESTS, RUN_LIMIT)
        _report_errors(loads["quiz_start"])
        loads["quiz_submit"] = run_load("quiz submit", learners, flow.submit, REQUESTS, RUN_LIMIT)
        _report_errors(loads["quiz_submit"])
        log(f"quiz submit: {loads['quiz_submit'].rps:.0f} req/s")
        with LoginStorm(server.port, HR_EMPLOYEE_NO) as storm:
            loads["quiz_submit_logins"] = run_load(
                "quiz submit during logins", learners, flow.submit, REQUESTS, RUN_LIMIT
            )
        _report_errors(loads["quiz_submit_logins"])
        alone = loads["quiz_submit"].percentile(95)
        during = loads["quiz_submit_logins"].percentile(95)
        figures["login_storm"] = {
            "logins": storm.logins,
            "logins_per_s": round(storm.logins / storm.seconds, 1) if storm.seconds else 0,
            "submit_p95_alone_ms": round(alone, 1),
            "submit_p95_during_ms": round(during, 1),
            "ratio": round(during / alone, 2) if alone else None,
            "budget": LOGIN_STORM_BUDGET,
        }
        log(f"login storm: {figures['login_storm']}")
        if hr_pages:
            hr = clients_logged_in(server.port, [HR_EMPLOYEE_NO] * CONCURRENCY)
            for name in HR_PAGES:
                loads[name] = measure_get(name, hr, PAGES[name], REQUESTS)
                log(f"{name}: {loads[name].rps:.1f} req/s")
        scale[str(LARGE)] = scale_run(server, hr_pages)
        figures["app_rss_mb"] = {str(pid): round(rss_mb(pid), 1) for pid in server.worker_pids()}

    base = loads["hello"]
    figures["load"] = {}
    for name, result in loads.items():
        entry = result.as_dict()
        entry["rps_vs_hello"] = round(result.rps / base.rps, 4) if base.rps else None
        entry["p50_vs_hello"] = round(result.percentile(50) / base.percentile(50), 1)
        figures["load"][name] = entry
    figures["scale"] = scale
    return figures


def _row_counts(database: Path) -> dict[str, int]:
    tables = (
        "users",
        "assignments",
        "read_events",
        "quiz_attempts",
        "certificates",
        "practice_reviews",
    )
    with sqlite3.connect(database) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # noqa: S608 - fixed names


# --- output ----------------------------------------------------------------------------------

LABELS = {
    "hello": "bare Flask hello (baseline)",
    "lesson": f"lesson page GET /lessons/{LESSON}",
    "quiz_start": f"quiz start POST /lessons/{LESSON}/quiz",
    "quiz_submit": "quiz submit POST /quiz/{id}",
    "quiz_submit_logins": "quiz submit POST /quiz/{id}, logins running beside it",
    "dashboard": "HR dashboard GET /hr/",
    "employee_list": "employee list GET /hr/employees?page=1",
    "items": "item analysis GET /hr/items",
    "practice_stats": "practice statistics GET /practice/stats",
}


def render(figures: dict) -> str:
    """Return the figures as Markdown tables."""
    m = figures["machine"]
    s = figures["settings"]
    b = figures["build"]
    lines = [
        f"Measured {figures['when']} on {m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB RAM, "
        f"Python {m['python']}, SQLite {m['sqlite']} (commit {figures['commit']}).",
        f"gunicorn {s['workers']} sync workers on 127.0.0.1; {s['requests']} requests per "
        f"endpoint at concurrency {s['concurrency']} after {WARMUP} warm-up requests; "
        f"{b['employees']:,} employees ("
        + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in b["standing"].items())
        + f"), database {b['database_mb']} MB.",
        "",
        "| endpoint | requests | req/s | p50 ms | p99 ms | req/s ÷ hello | p50 × hello | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, e in figures["load"].items():
        lines.append(
            f"| {LABELS[name]} | {e['requests']}{'*' if e['timed_out'] else ''} "
            f"| {e['rps']:.1f} | {e['p50_ms']:.1f} | {e['p99_ms']:.1f} "
            f"| {e['rps_vs_hello']:.3f} | {e['p50_vs_hello']:.1f} | {e['errors']} |"
        )
    storm = figures.get("login_storm")
    if storm:
        verdict = (
            "within" if storm["ratio"] is not None and storm["ratio"] <= storm["budget"] else "OVER"
        )
        lines += [
            "",
            f"Login storm: {storm['logins']} logins ({storm['logins_per_s']}/s, argon2 hashing) beside "
            f"the quiz submits: submit p95 {storm['submit_p95_during_ms']} ms against "
            f"{storm['submit_p95_alone_ms']} ms alone, ratio {storm['ratio']} "
            f"({verdict} the budget of {storm['budget']}).",
        ]
    if any(e["timed_out"] for e in figures["load"].values()):
        lines += ["", f"\\* cut short by the {RUN_LIMIT:.0f}s limit of a measured run."]
    lines += ["", "| SQL statements per request (test client, BEGIN not counted) | count |"]
    lines.append("| --- | ---: |")
    for name, count in figures["queries"].items():
        lines.append(f"| {name.replace('_', ' ')} | {count} |")
    if any(figures["scale"].values()):
        lines += [
            "",
            f"| one request at a time, up to {s['scale_requests']} each | @ {SMALL:,}: n "
            f"| p50 ms | p99 ms | @ {LARGE:,}: n | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        small, large = figures["scale"][str(SMALL)], figures["scale"][str(LARGE)]
        for name in small:
            row = [LABELS[name]]
            for size in (small, large):
                e = size[name]
                row += [str(e["requests"]), f"{e['p50_ms']:.1f}", f"{e['p99_ms']:.1f}"]
            lines.append("| " + " | ".join(row) + " |")
    if figures.get("compute_ms"):
        lines += [
            "",
            f"| computed once per cache period (in process, uncached, {LARGE:,} employees) | ms |",
            "| --- | ---: |",
        ]
        lines += [f"| {name} | {ms:.1f} |" for name, ms in figures["compute_ms"].items()]
    workers = ", ".join(f"{mb:.0f} MiB" for mb in figures["app_rss_mb"].values())
    hello_rss = ", ".join(f"{mb:.0f} MiB" for mb in figures["hello_rss_mb"])
    lines += ["", f"Worker resident memory (VmRSS) at the end: app {workers}; hello {hello_rss}."]
    return "\n".join(lines) + "\n"


def git_commit() -> str:
    try:
        out = subprocess.run(  # noqa: S603 - fixed command
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _alarm(signum, frame):
    raise TimeoutError(f"benchmark exceeded {HARD_LIMIT}s")


def main() -> int:
    """Run the benchmark; return the exit status."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HARD_LIMIT)
    workdir = Path(tempfile.mkdtemp(prefix="training-bench-"))
    started = time.perf_counter()
    try:
        figures = run(workdir)
    except Exception:
        log_path = workdir / "gunicorn.log"
        if log_path.exists():
            log(f"gunicorn log:\n{log_path.read_text()[-3000:]}")
        raise
    finally:
        signal.alarm(0)
        shutil.rmtree(workdir, ignore_errors=True)
    figures["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    figures["commit"] = git_commit()
    figures["seconds"] = round(time.perf_counter() - started)
    table = render(figures)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "latest.md").write_text("# Last benchmark figures\n\n" + table)
    log(f"done in {figures['seconds']}s; wrote {RESULTS / 'latest.md'} and latest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
