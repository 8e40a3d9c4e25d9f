"""The benchmark's own parts, without timing anything: the bare durable-insert app writes its
two rows durably on SQLite and PostgreSQL, the arguments are read as documented, and the
ratios and goal checks are computed from the blocks as described in benchmarks/README.md."""

from __future__ import annotations

import importlib.util
import math
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    if str(BENCHMARKS) not in sys.path:
        sys.path.append(str(BENCHMARKS))  # the benchmarks import each other by plain name
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


durable_app = _load("durable_app")
bench = _load("bench")
bench_learner = sys.modules["bench_learner"]
common = sys.modules["common"]


def _database_urls(tmp_path: Path) -> list[str]:
    urls = [f"sqlite:///{tmp_path / 'durable.sqlite'}"]
    server = os.environ.get("TEST_DATABASE_URL", "")
    if server.startswith("postgresql"):
        base = make_url(server)
        name = f"{base.database}_durable_{os.getpid()}"
        urls.append(base.set(database=name).render_as_string(hide_password=False))
    return urls


@pytest.fixture(params=["sqlite", "postgresql"])
def durable_url(request, tmp_path):
    urls = {url.split(":", 1)[0].split("+")[0]: url for url in _database_urls(tmp_path)}
    if request.param not in urls:
        pytest.skip("TEST_DATABASE_URL is not PostgreSQL")
    url = urls[request.param]
    common.create_database(url)
    try:
        yield url
    finally:
        if durable_app._connection is not None:
            durable_app._connection.close()
        durable_app._connection = None
        common.drop_database(url)


def test_durable_app_writes_a_row_and_its_audit_row_per_post(durable_url, monkeypatch):
    durable_app.create_tables(durable_url)
    durable_app.create_tables(durable_url)  # a second run finds the tables there
    monkeypatch.setattr(durable_app, "URL", durable_url)
    client = durable_app.app.test_client()
    ids = [client.post("/").get_data(as_text=True) for _ in range(3)]
    assert ids == ["1", "2", "3"]
    assert client.get("/").status_code == 405  # a write baseline: POST only

    conn = durable_app.connect(durable_url)
    items = conn.execute("SELECT id, payload FROM items ORDER BY id").fetchall()
    audit = conn.execute("SELECT action FROM audit ORDER BY id").fetchall()
    assert [tuple(row) for row in items] == [(1, "x"), (2, "x"), (3, "x")]
    assert [row[0] for row in audit] == ["item 1", "item 2", "item 3"]
    if isinstance(conn, sqlite3.Connection):  # as durable as the app's SQLite
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        served = durable_app._connection
        assert served.execute("PRAGMA synchronous").fetchone()[0] == 2
    conn.close()


def test_arguments_default_to_the_full_run_on_sqlite():
    args = bench.parse_args([])
    assert (args.employees, args.small, args.workers) == (10_000, 1_000, 2)
    assert args.notify == 10_000
    assert args.cache is None
    assert args.plan == bench_learner.FULL
    assert not args.quick
    assert not args.check


def test_quick_is_small_cached_and_skips_the_reminders():
    args = bench.parse_args(["--quick"])
    assert (args.employees, args.small, args.notify) == (2_000, 200, 0)
    assert args.cache == str(BENCHMARKS / "out" / "cache")
    assert args.plan == bench_learner.QUICK
    assert bench_learner.QUICK.rounds < bench_learner.FULL.rounds


def test_postgresql_serves_four_workers_and_names_its_databases():
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_pg"
    args = bench.parse_args(
        ["--database-url", url, "--employees", "100000", "--rounds", "3", "--cache", "x"]
    )
    assert (args.workers, args.employees, args.small, args.plan.rounds) == (4, 100_000, 10_000, 3)
    urls = bench.database_urls(args, Path("/unused"))
    assert {make_url(u).database for u in urls.values()} == {
        "bench_pg_small",
        "bench_pg_large",
        "bench_pg_notify",
        "bench_pg_durable",
    }
    assert make_url(bench.cache_url(args, "large", 100_000)).database == (
        "bench_pg_cache_large_100000"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--database-url", "mysql://x@localhost/db"],
        ["--employees", "1000", "--small", "1000"],
        ["--employees", "many"],
    ],
)
def test_bad_arguments_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.parse_args(argv)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err


def _block(rps: float, cpu_ms: float) -> dict:
    return {"requests": 100, "rps": rps, "cpu_ms": cpu_ms, "p50_ms": 1.0, "p99_ms": 2.0}


def test_each_round_compares_an_app_block_with_the_baseline_beside_it():
    blocks = {
        "hello": _block(1000, 0.5),
        "lesson": _block(250, 2.0),
        "durable": _block(200, 1.0),
        "quiz_start": _block(100, 4.0),
        "quiz_submit": _block(90, 5.0),
        "durable_after": _block(300, 1.0),
    }
    ratios = bench_learner.round_ratios(blocks)
    assert ratios["lesson"] == {"rps": 0.25, "cpu": 0.25}
    assert ratios["quiz_start"] == {"rps": 0.5, "cpu": 0.25}  # the durable block before it
    assert ratios["quiz_submit"] == {"rps": 0.3, "cpu": 0.2}  # the durable block after it
    blocks["lesson"] = _block(0, 0)  # a block that served nothing
    assert math.isnan(bench_learner.round_ratios(blocks)["lesson"]["cpu"])


def test_the_figure_is_the_median_of_the_rounds_ratios():
    rounds = [
        {name: {"rps": value, "cpu": value / 2} for name in bench_learner.RATIOS}
        for value in (0.1, 0.9, 0.3)
    ]
    assert bench_learner.median_ratios(rounds)["lesson"] == {"rps": 0.3, "cpu": 0.15}


def _figures(lesson: float, dashboard: float, p99: float, storm: float) -> dict:
    ratios = {"rps": lesson, "cpu": lesson}
    return {
        "learner": {
            "ratios": {"lesson": ratios, "quiz_start": ratios, "quiz_submit": ratios | {"rps": 1}}
        },
        "pages": {"dashboard": {"ratio": dashboard}, "employee_list": {"ratio": 1.0}},
        "refresh": {"p50_ms": 10.0, "p99_ms": p99},
        "login_storm": {"ratio": storm},
    }


def test_goals_are_checked_against_the_figures():
    assert bench.missed(_figures(0.9, 1.5, 30.0, 2.0)) == []  # every goal met, at the edges
    problems = bench.missed(_figures(0.39, 1.51, 31.0, math.nan))
    assert [p.split(":")[0] for p in problems] == [
        "lesson page GET ÷ bare hello, throughput",
        "lesson page GET ÷ bare hello, worker CPU per request",
        "quiz start POST ÷ bare durable insert, throughput",
        "HR dashboard p50, large ÷ small (one at a time)",
        "HR dashboard p99 ÷ its p50, insight refreshing",
        "quiz submit p95 during a login storm ÷ alone",  # no figure is a miss
    ]
