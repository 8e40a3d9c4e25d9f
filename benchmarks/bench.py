"""The benchmark: the app under gunicorn against bare baselines served beside it, the HR pages
at two company sizes, and ``flask notify send`` over many due reminders; checks the goals.

    .venv/bin/python benchmarks/bench.py [--quick] [--check] [--employees N]
        [--database-url postgresql+psycopg://user@host:port/name] [--workers N] [--cache DIR]

Run with ``make bench`` (``make bench BENCH_ARGS=--quick``). Prints progress on stderr and a
Markdown table on stdout, writes ``results/bench_<database>[_quick].json`` and ``.md``, and
exits 1 with ``--check`` or ``--quick`` when a goal is missed. Everything it starts, it stops;
every database it creates, it drops (``--cache`` keeps pristine builds to copy from).
"""

from __future__ import annotations

import argparse
import json
import math
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# This checkout's code, not whichever one the virtualenv's editable install points at.
sys.path[:0] = [str(REPO), str(HERE)]

import bench_learner  # noqa: E402 - after the path is set
import durable_app  # noqa: E402
import hr_scale  # noqa: E402
from common import (  # noqa: E402
    RESULTS,
    app_env,
    create_database,
    database_exists,
    database_mb,
    drop_database,
    free_port,
    git_commit,
    gunicorn,
    log,
    machine,
    rss_mb,
    set_workers,
    settle,
)
from populate import Population, migrate_and_sync  # noqa: E402
from sqlalchemy import event, make_url  # noqa: E402

from training.app import create_app  # noqa: E402

QUICK_EMPLOYEES = 2_000
QUICK_LIMIT = 90  # seconds a --quick run should stay under (it says so when it does not)
HARD_LIMIT = {"full": 3600, "quick": 600}  # SIGALRM ends a run that hangs
NOTIFY_DUE = 10_000  # due reminders for `flask notify send`
QUICK_HR_PAGES = ("dashboard", "employee_list")


@dataclass(frozen=True)
class Goal:
    key: str
    label: str
    op: str  # ">=" or "<="
    target: float

    def met(self, value: float | None) -> bool:
        if value is None or math.isnan(value):
            return False
        return value >= self.target if self.op == ">=" else value <= self.target


GOALS = (
    Goal("lesson_rps", "lesson page GET ÷ bare hello, throughput", ">=", 0.40),
    Goal("lesson_cpu", "lesson page GET ÷ bare hello, worker CPU per request", ">=", 0.40),
    Goal("quiz_submit_rps", "quiz submit POST ÷ bare durable insert, throughput", ">=", 0.60),
    Goal("quiz_start_rps", "quiz start POST ÷ bare durable insert, throughput", ">=", 0.50),
    Goal("dashboard_scale", "HR dashboard p50, large ÷ small (one at a time)", "<=", 1.5),
    Goal("list_scale", "employee list p50, large ÷ small (one at a time)", "<=", 1.3),
    Goal("dashboard_p99", "HR dashboard p99 ÷ its p50, insight refreshing", "<=", 3.0),
    Goal("login_storm", "quiz submit p95 during a login storm ÷ alone", "<=", 2.0),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run (under 90 s), checks")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--employees", type=int, help="the large size (10,000; --quick 2,000)")
    parser.add_argument("--small", type=int, help="the small size (a tenth of --employees)")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite files)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (SQLite 2, PostgreSQL 4)")
    parser.add_argument("--notify", type=int, help="due reminders to send (10,000; --quick 0)")
    parser.add_argument("--rounds", type=int, help="learner rounds (5; --quick 2)")
    parser.add_argument("--cache", help="build pristine databases here once, copy them per run")
    args = parser.parse_args(argv)
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL (postgresql+psycopg://…)")
    args.employees = args.employees or (QUICK_EMPLOYEES if args.quick else 10_000)
    args.small = args.small or max(10, args.employees // 10)
    if args.small >= args.employees:
        parser.error("--small must be fewer employees than --employees")
    args.workers = args.workers or (4 if args.database_url else 2)
    args.notify = (0 if args.quick else NOTIFY_DUE) if args.notify is None else args.notify
    if args.cache is None and args.quick:
        args.cache = str(HERE / "out" / "cache")
    args.plan = bench_learner.QUICK if args.quick else bench_learner.FULL
    if args.rounds:
        args.plan = bench_learner.Plan(**{**args.plan.__dict__, "rounds": args.rounds})
    args.kind = "postgresql" if args.database_url else "sqlite"
    return args


# --- databases -------------------------------------------------------------------------------


def database_urls(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    """The URLs of the run's databases: created by the run and dropped after it."""
    labels = ("small", "large", "notify", "durable")
    if not args.database_url:
        return {label: f"sqlite:///{workdir / f'{label}.sqlite'}" for label in labels}
    base = make_url(args.database_url)
    return {
        label: base.set(database=f"{base.database}_{label}").render_as_string(hide_password=False)
        for label in labels
    }


def cache_url(args: argparse.Namespace, label: str, size: int) -> str | None:
    if not args.cache:
        return None
    if not args.database_url:
        Path(args.cache).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(args.cache).resolve() / f'{label}-{size}.sqlite'}"
    base = make_url(args.database_url)
    name = f"{base.database}_cache_{label}_{size}"
    return base.set(database=name).render_as_string(hide_password=False)


def populate_into(url: str, size: int, unfinished: bool = False) -> float:
    """Build a fresh database of ``size`` employees; return the seconds it took."""
    from training.extensions import db

    create_database(url)
    started = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    migrate_and_sync(app)
    Population(app, unfinished=unfinished).add(size)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    seconds = round(time.perf_counter() - started, 1)
    settle(url)
    return seconds


def prepare(url: str, size: int, cached: str | None, unfinished: bool = False) -> float | None:
    """Fill the run's database: a fresh build, or a copy of the cached one (built if missing).

    Returns the build's seconds, None when a cached build was copied.
    """
    from flask_migrate import upgrade

    from training.extensions import db

    if cached is None:
        return populate_into(url, size, unfinished)
    seconds = None
    if database_exists(cached):
        app = create_app({"SQLALCHEMY_DATABASE_URI": cached, "SECRET_KEY": "bench"})
        with app.app_context():
            upgrade()
            db.engine.dispose()
    else:
        seconds = populate_into(cached, size, unfinished)
    create_database(url, template=cached)
    return seconds


# --- flask notify send -----------------------------------------------------------------------


def notify_run(url: str) -> dict:
    """Run `flask notify send` in process over the due reminders, mail to a local SMTP sink
    (aiosmtpd, its own process); time it and count its SQL statements."""
    from training.extensions import db

    port = free_port()
    sink = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(HERE / "smtp_sink.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None  # noqa: S101 - a pipe was asked for
        if sink.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": secrets.token_hex(16),
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": port,
                "NOTIFY_QUIET_HOURS": "",  # send whatever the hour of the run
                "LOG_LEVEL": "ERROR",
            }
        )
        with app.app_context():
            engine = db.engine
        statements = 0

        def listener(*_args):
            nonlocal statements
            statements += 1

        event.listen(engine, "before_cursor_execute", listener)
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=["notify", "send"])
        seconds = time.perf_counter() - started
        event.remove(engine, "before_cursor_execute", listener)
        engine.dispose()
        if result.exit_code != 0:
            raise RuntimeError(f"flask notify send failed: {result.output[-2000:]}")
    finally:
        sink.terminate()
        out, _ = sink.communicate(timeout=30)
    received = int(out.split()[-1]) if out.split() else 0
    return {
        "output": result.output.strip().splitlines(),
        "seconds": round(seconds, 1),
        "statements": statements,
        "mails_received": received,
        "mails_per_s": round(received / seconds, 1) if seconds else 0.0,
    }


# --- the run ---------------------------------------------------------------------------------


def run(args: argparse.Namespace, workdir: Path) -> dict:
    urls = database_urls(args, workdir)
    hr_pages = (
        {name: hr_scale.PAGES[name] for name in QUICK_HR_PAGES} if args.quick else hr_scale.PAGES
    )
    rounds, block = (6, 3) if args.quick else (hr_scale.ROUNDS, hr_scale.BLOCK)
    figures: dict = {
        "machine": machine(),
        "commit": git_commit(),
        "quick": args.quick,
        "database": (
            "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL, BEGIN IMMEDIATE)"
        ),
        "workers": args.workers,
        "employees": {"small": args.small, "large": args.employees},
        "build_seconds": {},
    }
    try:
        small = hr_scale.Target(args.small, urls["small"])
        large = hr_scale.Target(args.employees, urls["large"])
        for label, target in (("small", small), ("large", large)):
            seconds = prepare(target.url, target.size, cache_url(args, label, target.size))
            figures["build_seconds"][f"{target.size}"] = seconds
            log(f"{target.size:,} employees: {'copied' if seconds is None else f'{seconds}s'}")
            hr_scale.give_api_token(target)
        figures["database_mb"] = database_mb(large.url)
        targets = [small, large]
        figures["statements"] = {
            str(t.size): hr_scale.count_statements(t, hr_pages) for t in targets
        }
        figures["statements"]["learner"] = bench_learner.count_queries(large.url)
        log(f"statements per request: {figures['statements']}")
        with ExitStack() as stack:
            for target in targets:
                hr_scale._serve(stack, target, workdir / f"hr-{target.size}.log")
            hr_scale.interleaved(targets, hr_pages, rounds, block)
        figures["pages"] = {
            name: {
                str(t.size): {
                    "requests": len(t.latencies[name]),
                    "p50_ms": round(hr_scale._p(t.latencies[name], 50), 2),
                    "p99_ms": round(hr_scale._p(t.latencies[name], 99), 2),
                }
                for t in targets
            }
            | {
                "ratio": round(
                    hr_scale._p(large.latencies[name], 50) / hr_scale._p(small.latencies[name], 50),
                    2,
                )
            }
            for name in hr_pages
        }
        insight = 4 if args.quick else hr_scale.REFRESH_SECONDS
        with ExitStack() as stack:
            hr_scale._serve(stack, large, workdir / "refresh.log", insight_seconds=insight)
            refresh = hr_scale.refresh_run(large, 10.0 if args.quick else hr_scale.REFRESH_RUN)
        figures["refresh"] = refresh | {"insight_seconds": insight}
        log(f"dashboard with the insight refreshing: {figures['refresh']}")

        create_database(urls["durable"])
        durable_app.create_tables(urls["durable"])
        specs = bench_learner.baseline_specs(urls["durable"])
        logfile = workdir / "learner.log"
        with ExitStack() as stack:
            app = stack.enter_context(gunicorn("wsgi:app", app_env(large.url), logfile))
            hello_spec, hello_env, hello_extra = specs["hello"]
            hello = stack.enter_context(gunicorn(hello_spec, hello_env, logfile, *hello_extra))
            durable_spec, durable_env, durable_extra = specs["durable"]
            durable = stack.enter_context(
                gunicorn(durable_spec, durable_env, logfile, *durable_extra)
            )
            figures["learner"] = bench_learner.learner_blocks(app, hello, durable, args.plan)
            figures["login_storm"] = bench_learner.login_storm(app, args.plan)
            log(f"login storm: {figures['login_storm']}")
            figures["rss_mb"] = {
                name: [round(rss_mb(pid), 1) for pid in server.worker_pids()]
                for name, server in (("app", app), ("hello", hello), ("durable", durable))
            }
        if args.notify:
            # Learners S100001–S100004 are hired three days ago: not yet due a reminder.
            seconds = prepare(
                urls["notify"],
                args.notify + 4,
                cache_url(args, "notify", args.notify),
                unfinished=True,
            )
            figures["build_seconds"][f"notify {args.notify}"] = seconds
            log(f"{args.notify:,} due reminders: {'copied' if seconds is None else f'{seconds}s'}")
            figures["notify"] = notify_run(urls["notify"]) | {"due_reminders": args.notify}
            log(f"notify send: {figures['notify']}")
    finally:
        for url in urls.values():
            drop_database(url)
    return figures


def goal_values(figures: dict) -> dict[str, float]:
    ratios = figures["learner"]["ratios"]
    refresh = figures["refresh"]
    return {
        "lesson_rps": ratios["lesson"]["rps"],
        "lesson_cpu": ratios["lesson"]["cpu"],
        "quiz_submit_rps": ratios["quiz_submit"]["rps"],
        "quiz_start_rps": ratios["quiz_start"]["rps"],
        "dashboard_scale": figures["pages"]["dashboard"]["ratio"],
        "list_scale": figures["pages"]["employee_list"]["ratio"],
        "dashboard_p99": (
            round(refresh["p99_ms"] / refresh["p50_ms"], 2) if refresh["p50_ms"] else math.nan
        ),
        "login_storm": figures["login_storm"]["ratio"],
    }


def missed(figures: dict) -> list[str]:
    values = goal_values(figures)
    return [
        f"{goal.label}: {values[goal.key]} (goal {goal.op} {goal.target})"
        for goal in GOALS
        if not goal.met(values[goal.key])
    ]


BLOCK_LABELS = {
    "hello": "bare hello GET / (hello_app.py)",
    "lesson": f"lesson page GET {bench_learner.LESSON_PATH}",
    "durable": "bare durable insert POST / (durable_app.py), before the quiz starts",
    "quiz_start": f"quiz start POST {bench_learner.LESSON_PATH}/quiz",
    "quiz_submit": "quiz submit POST /quiz/{id}",
    "durable_after": "bare durable insert POST /, after the quiz submits",
}


def render(figures: dict) -> str:
    m = figures["machine"]
    sizes = figures["employees"]
    plan = figures["plan"]
    builds = ", ".join(
        f"{k}: {'copied from the cache' if v is None else f'{v:.0f} s'}"
        for k, v in figures["build_seconds"].items()
    )
    lines = [
        f"{'Quick run' if figures['quick'] else 'Full run'} {figures['when']}, commit "
        f"{figures['commit']}, {figures['seconds']} s; {figures['database']}, gunicorn "
        f"{figures['workers']} sync workers per server; {m['nproc']} × {m['cpu']}, "
        f"{m['ram_gib']} GiB; load average {m['load_average_at_start']} at the start (a shared "
        f"machine: other work ran beside it). {sizes['small']:,} and {sizes['large']:,} "
        f"employees (large database {figures['database_mb']:.0f} MB; built in {builds}).",
        "",
        "| goal | now | goal | |",
        "| --- | ---: | ---: | --- |",
    ]
    values = goal_values(figures)
    for goal in GOALS:
        value = values[goal.key]
        lines.append(
            f"| {goal.label} | {value:.2f} | {goal.op.replace('>=', '≥').replace('<=', '≤')} "
            f"{goal.target:g} | {'met' if goal.met(value) else '**missed**'} |"
        )
    learner = figures["learner"]
    lines += [
        "",
        f"Learner blocks: app, hello and durable insert served at once, {plan['rounds']} rounds "
        f"of the blocks below in this order, {bench_learner.CONCURRENCY} clients; medians over "
        "the rounds (ratios above: the median of each round's ratio).",
        "",
        "| block | requests | req/s | worker CPU ms/request | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, med in learner["medians"].items():
        requests = learner["rounds"][0][name]["requests"]
        lines.append(
            f"| {BLOCK_LABELS[name]} | {requests} | {med['rps']:.1f} | {med['cpu_ms']:.2f} "
            f"| {med['p50_ms']:.1f} | {med['p99_ms']:.1f} | {med['errors']} |"
        )
    ratios = learner["ratios"]
    lines += [
        "",
        "| ratio (median of rounds) | throughput | CPU per request (baseline's ÷ app's) |",
        "| --- | ---: | ---: |",
        f"| lesson ÷ hello | {ratios['lesson']['rps']:.3f} | {ratios['lesson']['cpu']:.3f} |",
        f"| quiz start ÷ durable insert | {ratios['quiz_start']['rps']:.3f} "
        f"| {ratios['quiz_start']['cpu']:.3f} |",
        f"| quiz submit ÷ durable insert | {ratios['quiz_submit']['rps']:.3f} "
        f"| {ratios['quiz_submit']['cpu']:.3f} |",
    ]
    storm = figures["login_storm"]
    lines += [
        "",
        f"Login storm: {storm['logins']} logins ({storm['logins_per_s']}/s, argon2) beside "
        f"{storm['submits_during']} quiz submits: submit p95 {storm['submit_p95_during_ms']} ms "
        f"against {storm['submit_p95_alone_ms']} ms for {storm['submits_alone']} alone "
        f"(alternating blocks), ratio {storm['ratio']}; {storm['errors']} errors.",
        "",
    ]
    hr = {k: figures[k] for k in ("machine", "commit", "workers", "pages", "refresh")}
    hr["database"] = figures["database"]
    hr["statements"] = {k: v for k, v in figures["statements"].items() if k != "learner"}
    rounds, block = (6, 3) if figures["quick"] else (hr_scale.ROUNDS, hr_scale.BLOCK)
    lines.append(hr_scale.render(hr, sizes["small"], sizes["large"], rounds, block).rstrip())
    counts = figures["statements"]["learner"]
    lines += [
        "",
        "SQL statements per learner request (test client; BEGIN/COMMIT not counted): "
        + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
        + ".",
    ]
    notify = figures.get("notify")
    if notify:
        lines += [
            "",
            f"`flask notify send` over {notify['due_reminders']:,} due reminders (in process, mail "
            f"to a local aiosmtpd sink): {notify['seconds']} s, {notify['statements']:,} SQL "
            f"statements, {notify['mails_received']:,} mails received "
            f"({notify['mails_per_s']}/s); it said: " + " / ".join(notify["output"]) + ".",
        ]
    rss = figures["rss_mb"]
    lines += [
        "",
        "Worker resident memory at the end (MiB): "
        + "; ".join(f"{k} {', '.join(f'{v:.0f}' for v in vs)}" for k, vs in rss.items())
        + ".",
    ]
    return "\n".join(lines) + "\n"


def _alarm(signum, frame):
    raise TimeoutError("the benchmark exceeded its time limit")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_workers(args.workers)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HARD_LIMIT["quick" if args.quick else "full"])
    workdir = Path(tempfile.mkdtemp(prefix="training-bench-"))
    started = time.perf_counter()
    try:
        figures = run(args, workdir)
    except BaseException:
        for log_path in sorted(workdir.glob("*.log")):
            log(f"{log_path.name}:\n{log_path.read_text()[-2000:]}")
        raise
    finally:
        signal.alarm(0)
        shutil.rmtree(workdir, ignore_errors=True)
    figures["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    figures["seconds"] = round(time.perf_counter() - started)
    figures["plan"] = args.plan.__dict__
    table = render(figures)
    print(table)
    name = f"bench_{args.kind}{'_quick' if args.quick else ''}"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / f"{name}.md").write_text("# Benchmark figures\n\n" + table)
    log(f"done in {figures['seconds']}s; wrote {RESULTS / name}.md and .json")
    if args.quick and figures["seconds"] > QUICK_LIMIT:
        log(f"the quick run took {figures['seconds']}s, more than its {QUICK_LIMIT}s")
    problems = missed(figures)
    for problem in problems:
        log(f"goal missed: {problem}")
    return 1 if (args.check or args.quick) and problems else 0


if __name__ == "__main__":
    sys.exit(main())
