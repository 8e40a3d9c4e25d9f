"""The learner's requests against bare baselines served beside them, in interleaved blocks.

Used by ``bench.py`` (``make bench``). The app, the bare hello app (``hello_app.py``) and the
bare durable-insert app (``durable_app.py``) are served at the same time, by gunicorn with the
same worker settings, and loaded in alternating short blocks: hello, the lesson page, durable
inserts, quiz starts, (the attempt pages, unmeasured), quiz submits, durable inserts again.
Each ratio compares an app block with the baseline block beside it, in the same minute, and
the figure is the median of the rounds' ratios. For every block the workers' user + system
CPU time is read from ``/proc/<pid>/stat`` before and after and divided by the requests
served: CPU per request moves less than throughput when something else shares the machine.

The login storm follows: quiz submits alone and quiz submits while two other connections log
in over and over (argon2 hashing in every request), alternately; the figure is the submits'
p95 during the storm ÷ their p95 alone.
"""

from __future__ import annotations

import http.client
import secrets
import statistics
import threading
import time
from dataclasses import dataclass

from common import HERE, Server, bare_env, clients_logged_in, log, quiz_answers
from loadgen import Client, LoadError, LoadResult, csrf_token, log_in, run_load, timed
from populate import HR_EMPLOYEE_NO, LEARNER_NOS, PASSWORD

from training.app import create_app

LESSON = "3.3"
LESSON_PATH = f"/lessons/{LESSON}"
CONCURRENCY = 4  # clients per block
BLOCK_LIMIT = 60.0  # seconds a block may take before its threads are abandoned


@dataclass(frozen=True)
class Plan:
    """How much load: requests per block (app pages), rounds, the login storm's size."""

    block: int = 100
    hello_block: int = 1000  # hello is cheap: more requests, for the 10 ms clock tick
    durable_block: int = 300
    rounds: int = 5
    storm_rounds: int = 2
    storm_block: int = 100
    warm: int = 5  # per client and endpoint, untimed


FULL = Plan()
QUICK = Plan(block=60, hello_block=600, durable_block=120, rounds=2, storm_rounds=1, storm_block=48)

# app block ÷ baseline block: (the app's block, the baseline block it is compared with)
RATIOS = {
    "lesson": ("lesson", "hello"),
    "quiz_start": ("quiz_start", "durable"),
    "quiz_submit": ("quiz_submit", "durable_after"),
}


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
    """Run one block of requests and return its throughput, CPU per request and latencies."""
    before = server.cpu_seconds()
    result = run_each(name, clients, step, total // len(clients))
    used = server.cpu_seconds() - before
    if result.errors:
        log(f"{name}: {len(result.errors)} errors, first: {result.errors[0]}")
    return {
        "requests": result.done,
        "rps": round(result.rps, 1),
        "cpu_ms": round(used * 1000 / result.done, 3) if result.done else float("nan"),
        "p50_ms": round(result.percentile(50), 2),
        "p99_ms": round(result.percentile(99), 2),
        "errors": len(result.errors),
    }


def round_ratios(blocks: dict[str, dict]) -> dict[str, dict[str, float]]:
    """One round's ratios: throughput app ÷ baseline, and CPU per request baseline ÷ app
    (so that, like throughput, 1 means as cheap as the baseline and less is dearer)."""
    out = {}
    for name, (app_block, base_block) in RATIOS.items():
        app, base = blocks[app_block], blocks[base_block]
        out[name] = {
            "rps": app["rps"] / base["rps"] if base["rps"] else float("nan"),
            "cpu": base["cpu_ms"] / app["cpu_ms"] if app["cpu_ms"] else float("nan"),
        }
    return out


def median_ratios(rounds: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """The median over the rounds of each round's ratio."""
    return {
        name: {
            kind: round(statistics.median(r[name][kind] for r in rounds), 3)
            for kind in ("rps", "cpu")
        }
        for name in RATIOS
    }


class Quizzes:
    """Quiz starts and submits (POST, timed); the attempt pages are fetched in between."""

    def __init__(self, clients: list[Client]) -> None:
        self.tokens = {id(c): csrf_token(c.get(LESSON_PATH).text) for c in clients}
        self.started: dict[int, list[str]] = {id(c): [] for c in clients}
        self.ready: dict[int, list[tuple[str, list[tuple[str, str]]]]] = {
            id(c): [] for c in clients
        }

    def start(self, client: Client, _index: int = 0) -> float:
        form = {"csrf_token": self.tokens[id(client)]}
        started = time.perf_counter()
        response = client.request("POST", f"{LESSON_PATH}/quiz", form)
        elapsed = time.perf_counter() - started
        if response.status != 302 or not response.location.startswith("/quiz/"):
            raise LoadError(f"quiz start: {response.status} to {response.location!r}")
        self.started[id(client)].append(response.location)
        return elapsed

    def fetch(self, client: Client, _index: int = 0) -> float:
        """Fetch every started attempt's page and fill in its form (not measured)."""
        while self.started[id(client)]:
            path = self.started[id(client)].pop()
            page = client.get(path).text
            self.tokens[id(client)] = csrf_token(page)
            self.ready[id(client)].append(
                (path, [("csrf_token", self.tokens[id(client)]), *quiz_answers(page)])
            )
        return 0.0

    def submit(self, client: Client, _index: int = 0) -> float:
        if not self.ready[id(client)]:  # the storm's submits start their own, untimed
            self.start(client)
            self.fetch(client)
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
            except (OSError, http.client.HTTPException, LoadError):
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


def learner_blocks(app: Server, hello: Server, durable: Server, plan: Plan) -> dict:
    """Load the three servers in interleaved blocks; return every block and the ratios."""
    learners = clients_logged_in(app.port, list(LEARNER_NOS[:CONCURRENCY]))
    hello_clients = [Client(hello.port) for _ in range(CONCURRENCY)]
    durable_clients = [Client(durable.port) for _ in range(CONCURRENCY)]
    quizzes = Quizzes(learners)

    def lesson(client: Client, _index: int) -> float:
        return timed(client, "GET", LESSON_PATH)

    def hello_get(client: Client, _index: int) -> float:
        return timed(client, "GET", "/")

    def insert(client: Client, _index: int) -> float:
        return timed(client, "POST", "/", {"x": "1"}, expect=201)

    for clients, step in (
        (learners, lesson),
        (learners, quizzes.start),
        (learners, quizzes.fetch),
        (learners, quizzes.submit),
        (hello_clients, hello_get),
        (durable_clients, insert),
    ):
        run_each("warm-up", clients, step, plan.warm)
    sequence = (
        ("hello", hello, hello_clients, hello_get, plan.hello_block),
        ("lesson", app, learners, lesson, plan.block),
        ("durable", durable, durable_clients, insert, plan.durable_block),
        ("quiz_start", app, learners, quizzes.start, plan.block),
        ("quiz_submit", app, learners, quizzes.submit, plan.block),
        ("durable_after", durable, durable_clients, insert, plan.durable_block),
    )
    rounds: list[dict[str, dict]] = []
    for number in range(1, plan.rounds + 1):
        blocks = {}
        for name, server, clients, step, size in sequence:
            if name == "quiz_submit":  # the forms of the attempts just started, unmeasured
                run_each("fetch", learners, quizzes.fetch, 1)
            blocks[name] = block(server, name, clients, step, size)
        rounds.append(blocks)
        ratios = round_ratios(blocks)
        log(
            f"round {number}: "
            + ", ".join(
                f"{n} {r['rps']:.3f} (CPU {r['cpu']:.3f})" for n, r in sorted(ratios.items())
            )
        )
    for client in (*learners, *hello_clients, *durable_clients):
        client.close()
    return {
        "rounds": rounds,
        "ratios": median_ratios([round_ratios(r) for r in rounds]),
        "medians": {
            name: {
                key: round(statistics.median(r[name][key] for r in rounds), 3)
                for key in ("rps", "cpu_ms", "p50_ms", "p99_ms")
            }
            | {"errors": sum(r[name]["errors"] for r in rounds)}
            for name in rounds[0]
        },
    }


def percentile(latencies: list[float], p: float) -> float:
    result = LoadResult("", 0, 0, latencies=latencies)
    return result.percentile(p)


def login_storm(app: Server, plan: Plan) -> dict:
    """Quiz submits alone and during a login storm, in alternating blocks."""
    learners = clients_logged_in(app.port, list(LEARNER_NOS[:CONCURRENCY]))
    flow = Quizzes(learners)
    alone: list[float] = []
    during: list[float] = []
    logins, seconds, errors = 0, 0.0, 0
    for _ in range(plan.storm_rounds):
        result = run_load("submit alone", learners, flow.submit, plan.storm_block, BLOCK_LIMIT)
        alone += result.latencies
        errors += len(result.errors)
        with LoginStorm(app.port, HR_EMPLOYEE_NO) as storm:
            result = run_load(
                "submit during logins", learners, flow.submit, plan.storm_block, BLOCK_LIMIT
            )
        during += result.latencies
        errors += len(result.errors)
        logins += storm.logins
        seconds += storm.seconds
    for client in learners:
        client.close()
    p95_alone, p95_during = percentile(alone, 95), percentile(during, 95)
    return {
        "submits_alone": len(alone),
        "submits_during": len(during),
        "errors": errors,
        "logins": logins,
        "logins_per_s": round(logins / seconds, 1) if seconds else 0.0,
        "submit_p95_alone_ms": round(p95_alone, 1),
        "submit_p95_during_ms": round(p95_during, 1),
        "ratio": round(p95_during / p95_alone, 2) if p95_alone else float("nan"),
    }


def baseline_specs(durable_url: str) -> dict[str, tuple[str, dict[str, str], tuple[str, ...]]]:
    """The gunicorn app spec, environment and extra arguments of the two baselines."""
    path = ("--pythonpath", str(HERE))
    return {
        "hello": ("hello_app:app", bare_env(), path),
        "durable": ("durable_app:app", bare_env(BENCH_DURABLE_URL=durable_url), path),
    }


def count_queries(database_url: str) -> dict[str, int]:
    """Count the SQL statements of the lesson page, quiz start and submit (test client)."""
    from sqlalchemy import event
    from werkzeug.datastructures import MultiDict

    from training.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": secrets.token_hex(16),
            "SESSION_COOKIE_SECURE": False,
            "LOG_LEVEL": "ERROR",  # the request log of the counted requests is not wanted
        }
    )
    # Requests run outside any app context of ours: an app context held across requests
    # would share `g` (and the CSRF token cached in it) between them.
    with app.app_context():
        engine = db.engine
    counts: dict[str, int] = {}
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    def counted(name: str, client, method: str, path: str, data=None):
        statements.clear()
        form = None if data is None else MultiDict(data)
        response = client.open(path, method=method, data=form)
        counts[name] = len(statements)
        return response

    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    login = {"csrf_token": token, "employee_no": LEARNER_NOS[0], "password": PASSWORD}
    if client.post("/login", data=login).status_code != 302:
        raise RuntimeError("could not log in as a learner in process")
    event.listen(engine, "before_cursor_execute", listener)
    try:
        client.get(LESSON_PATH)  # first request of the process: not counted
        page = counted("lesson", client, "GET", LESSON_PATH).get_data(as_text=True)
        started = counted(
            "quiz_start", client, "POST", f"{LESSON_PATH}/quiz", {"csrf_token": csrf_token(page)}
        )
        attempt = started.headers["Location"]
        form = client.get(attempt).get_data(as_text=True)
        answers = [("csrf_token", csrf_token(form)), *quiz_answers(form)]
        counted("quiz_submit", client, "POST", attempt, answers)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        engine.dispose()
    return counts
