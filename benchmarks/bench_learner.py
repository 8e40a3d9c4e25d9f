"""Worker CPU per request for the learner's pages: lesson GET, quiz start, quiz submit.

    .venv/bin/python benchmarks/bench_learner.py [--database FILE] [--rounds 3]

Serves the app with gunicorn (2 sync workers, as ``make bench``) on a populated SQLite
database and, beside it, the bare hello app; loads them in alternating short blocks so
each figure of a round compares the same minute. For every block it reads the workers'
user + system CPU time from ``/proc/<pid>/stat`` before and after, and divides by the
requests served: the steadier figure on a shared machine, where wall-clock rates swing with
whatever else runs. Prints the median over the rounds.

``--database`` reuses a database built before (by this script with ``--keep``, or by
``populate.py``); the blocks add attempts and submissions to it, nothing else. Without it
a temporary database of 10,000 employees is built first (a few minutes).
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import (
    CONCURRENCY,
    LESSON,
    PAGES,
    Server,
    app_env,
    clients_logged_in,
    gunicorn,
    log,
    quiz_answers,
)
from loadgen import Client, LoadError, LoadResult, csrf_token, timed
from populate import LEARNER_NOS, Population, migrate_and_sync

from training.app import create_app

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")
BLOCK = 100  # requests per block (the hello app: ten times as many, for the clock tick)
BLOCK_LIMIT = 60.0


def cpu_seconds(server: Server) -> float:
    """Return the user + system CPU time the server's workers have used so far."""
    total = 0
    for pid in server.worker_pids():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / TICK


def run_each(name: str, clients: list[Client], step, per_client: int) -> LoadResult:
    """Run ``per_client`` steps on each client, one thread per client (an attempt started
    by a client is fetched and submitted by the same client, so shares must be equal)."""
    result = LoadResult(name, per_client * len(clients), len(clients))
    lock = threading.Lock()

    def worker(client: Client) -> None:
        for index in range(per_client):
            try:
                latency = step(client, index)
            except (LoadError, OSError, http.client.HTTPException) as exc:
                with lock:
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                result.latencies.append(latency)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BLOCK_LIMIT + 60)
    result.wall = time.perf_counter() - started
    return result


def block(server: Server, name: str, clients: list[Client], step, total: int) -> dict:
    """Run one block of requests and return its CPU per request and its latencies."""
    before = cpu_seconds(server)
    result = run_each(name, clients, step, total // len(clients))
    used = cpu_seconds(server) - before
    if result.errors:
        log(f"{name}: {len(result.errors)} errors, first: {result.errors[0]}")
    return {
        "cpu_ms": used * 1000 / result.done if result.done else float("nan"),
        "p50_ms": result.percentile(50),
        "rps": result.rps,
        "errors": len(result.errors),
    }


class Quizzes:
    """Quiz starts and submits measured apart: the attempt pages are fetched between blocks."""

    def __init__(self, clients: list[Client]) -> None:
        self.tokens = {id(c): csrf_token(c.get(PAGES["lesson"]).text) for c in clients}
        self.started: dict[int, list[str]] = {id(c): [] for c in clients}
        self.ready: dict[int, list[tuple[str, list[tuple[str, str]]]]] = {
            id(c): [] for c in clients
        }

    def start(self, client: Client, _index: int = 0) -> float:
        form = {"csrf_token": self.tokens[id(client)]}
        started = time.perf_counter()
        response = client.request("POST", f"/lessons/{LESSON}/quiz", form)
        elapsed = time.perf_counter() - started
        if response.status != 302 or not response.location.startswith("/quiz/"):
            raise LoadError(f"quiz start: {response.status} to {response.location!r}")
        self.started[id(client)].append(response.location)
        return elapsed

    def fetch(self, client: Client, _index: int = 0) -> float:
        """Fetch one started attempt's page and fill in its form (not measured)."""
        path = self.started[id(client)].pop()
        page = client.get(path).text
        self.ready[id(client)].append(
            (path, [("csrf_token", csrf_token(page)), *quiz_answers(page)])
        )
        return 0.0

    def submit(self, client: Client, _index: int = 0) -> float:
        path, form = self.ready[id(client)].pop()
        started = time.perf_counter()
        response = client.request("POST", path, form)
        elapsed = time.perf_counter() - started
        if response.status != 302 or response.location != f"{path}/result":
            raise LoadError(f"quiz submit: {response.status} to {response.location!r}")
        return elapsed


def build(path: Path) -> None:
    url = f"sqlite:///{path}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    started = time.perf_counter()
    migrate_and_sync(app)
    Population(app).add(10_000)
    log(f"built 10,000 employees in {time.perf_counter() - started:.0f}s: {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", type=Path, help="a populated SQLite file to reuse")
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="training-bench-learner-"))
    try:
        database = args.database or args.keep or workdir / "bench.sqlite"
        if args.database is None:
            build(database)
        return run(database, workdir, args.rounds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(database: Path, workdir: Path, rounds: int) -> int:
    env = app_env(f"sqlite:///{database}")
    hello_env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINING_")}
    logfile = workdir / "gunicorn.log"
    figures: dict[str, list[dict]] = {}
    with (
        gunicorn("wsgi:app", env, logfile) as app_server,
        gunicorn("hello_app:app", hello_env, logfile, "--pythonpath", str(HERE)) as hello_server,
    ):
        learners = clients_logged_in(app_server.port, list(LEARNER_NOS[:CONCURRENCY]))
        hello_clients = [Client(hello_server.port) for _ in range(CONCURRENCY)]
        quizzes = Quizzes(learners)

        def lesson(client: Client, _index: int) -> float:
            return timed(client, "GET", PAGES["lesson"])

        def hello(client: Client, _index: int) -> float:
            return timed(client, "GET", "/")

        warm = 5  # per client
        for clients, step in (
            (learners, lesson),
            (learners, quizzes.start),
            (learners, quizzes.fetch),
            (learners, quizzes.submit),
            (hello_clients, hello),
        ):
            run_each("warm-up", clients, step, warm)
        for number in range(1, rounds + 1):
            blocks = (
                ("hello", hello_server, hello_clients, hello),
                ("lesson", app_server, learners, lesson),
                ("quiz_start", app_server, learners, quizzes.start),
                ("quiz_submit", app_server, learners, quizzes.submit),
            )
            for name, server, clients, step in blocks:
                if name == "quiz_submit":  # the forms of the attempts just started
                    run_each("fetch", learners, quizzes.fetch, BLOCK // len(learners))
                size = BLOCK * 10 if name == "hello" else BLOCK
                figure = block(server, name, clients, step, size)
                figures.setdefault(name, []).append(figure)
            log(
                f"round {number}: "
                + ", ".join(f"{n} {f[-1]['cpu_ms']:.2f} ms" for n, f in figures.items())
            )
    print(f"worker CPU per request, median of {rounds} rounds of {BLOCK} ({database}):")
    print("| endpoint | CPU ms/request | p50 ms | req/s | errors |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, runs in figures.items():
        label = {"lesson": f"lesson GET {PAGES['lesson']}"}.get(name, name.replace("_", " "))
        if name in ("quiz_start", "quiz_submit"):
            label += f" ({LESSON})"
        print(
            f"| {label} | {statistics.median(r['cpu_ms'] for r in runs):.2f} "
            f"| {statistics.median(r['p50_ms'] for r in runs):.1f} "
            f"| {statistics.median(r['rps'] for r in runs):.0f} "
            f"| {sum(r['errors'] for r in runs)} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
