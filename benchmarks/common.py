"""What the benchmarks share: gunicorn servers, worker CPU, databases they create and drop."""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from loadgen import Client, log_in
from populate import PASSWORD
from sqlalchemy import create_engine, make_url, text

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
RESULTS = HERE / "results"
TICK = os.sysconf("SC_CLK_TCK")

# gunicorn sync workers per server; run() of bench.py sets 4 on PostgreSQL (set_workers).
WORKERS = 2
ANSWER_RE = re.compile(r'<input type="(?:radio|checkbox)" name="(q\d+)" value="(\d+)"')
STEP_RE = re.compile(r'<select name="(q\d+)-(\d+)"')


def set_workers(workers: int) -> None:
    """Set the number of gunicorn workers of every server started from now on."""
    global WORKERS
    WORKERS = workers


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

    def cpu_seconds(self) -> float:
        """Return the user + system CPU time the workers have used so far (/proc/<pid>/stat)."""
        total = 0
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / TICK


def rss_mb(pid: int) -> float:
    """Return a process's resident memory (VmRSS) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def app_env(database_url: str) -> dict[str, str]:
    """The app's environment: this checkout's code, the database, a random secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINING_")}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=os.urandom(32).hex(),
        TRAINING_SESSION_COOKIE_SECURE="false",
        PYTHONPATH=str(REPO),
    )
    return env


def bare_env(**extra: str) -> dict[str, str]:
    """The environment of a bare baseline app (nothing of the app's settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINING_")}
    env.update(extra)
    return env


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


def _wait_until_serving(server: Server, logfile: Path, timeout: float = 60.0) -> None:
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
        # Every worker must have booted (imported the app) before anything is timed.
        if len(server.worker_pids()) >= WORKERS:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not start within {timeout:.0f}s")


def clients_logged_in(port: int, employee_nos: list[str]) -> list[Client]:
    clients = []
    for employee_no in employee_nos:
        client = Client(port)
        log_in(client, employee_no, PASSWORD)
        clients.append(client)
    return clients


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


# --- the machine -----------------------------------------------------------------------------


def machine() -> dict[str, str | int | float]:
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
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


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


# --- databases the benchmarks create and drop ------------------------------------------------


def _admin(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def database_exists(url: str) -> bool:
    if url.startswith("sqlite"):
        return Path(make_url(url).database or "").exists()
    engine = _admin(url)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"),
            {"name": make_url(url).database},
        ).first()
    engine.dispose()
    return found is not None


def create_database(url: str, template: str | None = None) -> None:
    """Create an empty database (dropping one of that name), or a copy of ``template``."""
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        if template:
            shutil.copyfile(make_url(template).database or "", path)
        return
    engine = _admin(url)
    with engine.connect() as conn:
        name = make_url(url).database
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    engine.dispose()


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = make_url(url).database or ""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = _admin(url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def settle(url: str) -> None:
    """After a bulk build: SQLite folds its WAL into the file (so the file can be copied);
    PostgreSQL gets ``VACUUM ANALYZE``, what autovacuum does on a live server."""
    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database or "") as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def database_mb(url: str) -> float:
    if url.startswith("sqlite"):
        return round(Path(make_url(url).database or "").stat().st_size / 1e6, 1)
    engine = create_engine(url)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return round(size / 1e6, 1)
