"""Time the employee import at 10,000 and 100,000 rows: the preview, and the job that writes it.

Run with `.venv/bin/python benchmarks/bench_import.py` from the repository root. For each size
it builds a file in the import template (工号、姓名、部门、入职日期、邮箱、岗位、角色; every row has
an e-mail address, so every new employee is also queued an invitation: the heaviest case; an
XLSX is written by openpyxl, whose inline strings are more to parse than Excel's shared ones),
takes a fresh database (a copy of one migrated and synced with the course), logs in as HR
through the real login form and then, as HR does in the browser: uploads the file (the
preview: parse, validate against the database, plan, render), confirms it (the job is queued)
and runs the queued job (``runner.run_pending``, as ``flask jobs run`` does). Wall-clock
times of each step are printed as a Markdown table, with the preview page's size and the CPU
seconds this process spent on the three steps (on a shared machine the wall-clock times
follow the load; on SQLite the CPU time includes the database's work, on PostgreSQL the
server's is not in it).

``--database-url`` points it at a PostgreSQL server instead of SQLite files: it creates (and
afterwards drops) databases named after the URL's (``<name>_import_template``,
``<name>_import_<rows>``). ``--format csv|xlsx`` picks the file type (default xlsx, which HR
usually has); ``--rows`` the sizes (default 10000,100000); ``--profile FILE`` writes a
cProfile of the job of the first size. ``--check`` exits 1 when the 10,000-row import (the
preview, the confirm and the job together) takes more than 5 s.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# This checkout's code, not whichever one the virtualenv's editable install points at.
sys.path[:0] = [str(REPO), str(HERE)]

import openpyxl  # noqa: E402 - after the path is set
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, func, make_url, select, text  # noqa: E402

from training.app import create_app  # noqa: E402
from training.auth.models import Role, User  # noqa: E402
from training.auth.passwords import hash_password  # noqa: E402
from training.extensions import db  # noqa: E402
from training.jobs import runner  # noqa: E402
from training.jobs.models import Job, JobState  # noqa: E402
from training.revisions.sync import sync_course  # noqa: E402

HEADER = ["工号", "姓名", "部门", "入职日期", "邮箱", "岗位", "角色"]
DEPARTMENTS = [
    *(f"{name}部" for name in ("销售", "客服", "市场", "财务", "人事", "行政", "采购", "物流")),
    *(f"{city}门店" for city in ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京")),
    *("仓储部", "生产部", "西安门店", "重庆门店"),
]
POSITIONS = ["专员", "主管", "店员", "收银员", "客服代表", "经理助理"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
BUDGET_ROWS, BUDGET_SECONDS = 10_000, 5.0
PASSWORD = "Bench-Import-42"  # noqa: S105 - the benchmark HR account's, in a scratch database
_UPLOAD_ID = re.compile(r'name="upload_id" type="hidden" value="([^"]+)"')
_FINGERPRINT = re.compile(r'name="fingerprint" type="hidden" value="([^"]+)"')


def rows(count: int) -> list[list[str]]:
    """Return ``count`` employees as rows of the import template (hire dates over two years)."""
    start = date(2025, 1, 1)
    return [
        [
            f"B{n:07d}",
            SURNAMES[n % len(SURNAMES)] + GIVEN[(n // 20) % len(GIVEN)] + GIVEN[n % 7],
            DEPARTMENTS[n % len(DEPARTMENTS)],
            (start + timedelta(days=n % 700)).isoformat(),
            f"b{n:07d}@example.com",
            POSITIONS[n % len(POSITIONS)],
            "员工",
        ]
        for n in range(1, count + 1)
    ]


def build_file(count: int, kind: str) -> bytes:
    """Return the rows as an XLSX workbook or a UTF-8 CSV, laid out as Excel saves them."""
    data = rows(count)
    if kind == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(data)
        return buffer.getvalue().encode("utf-8")
    # A normal workbook, not write-only: shared strings and a dimension, as Excel saves them.
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "员工"
    sheet.append(HEADER)
    for row in data:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _config(url: str, instance: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-import-secret",
        "SESSION_COOKIE_SECURE": False,
        "JOBS_RUN": "worker",  # the confirm only queues; the benchmark runs the job itself
        "INSIGHT_CACHE_SECONDS": 0,
        "IMPORT_MAX_BYTES": 64 * 1024 * 1024,
        "MAX_CONTENT_LENGTH": 80 * 1024 * 1024,
    }


@contextmanager
def databases(server: str | None, sizes: list[int], workdir: Path) -> Iterator[dict[int, str]]:
    """Yield a fresh database URL per size, each a copy of one migrated and synced template."""
    if server is None:
        template = workdir / "template.sqlite"
        _build(f"sqlite:///{template}", workdir)
        urls = {}
        for size in sizes:
            target = workdir / f"import-{size}.sqlite"
            shutil.copyfile(template, target)
            urls[size] = f"sqlite:///{target}"
        yield urls
        return
    base = make_url(server)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    template_name = f"{base.database}_import_template"
    names = [template_name] + [f"{base.database}_import_{size}" for size in sizes]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{template_name}"'))
        _build(base.set(database=template_name).render_as_string(hide_password=False), workdir)
        with admin.connect() as conn:
            for name in names[1:]:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
        yield {
            size: base.set(database=name).render_as_string(hide_password=False)
            for size, name in zip(sizes, names[1:], strict=True)
        }
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _build(url: str, workdir: Path) -> None:
    app = create_app(_config(url, workdir))
    with app.app_context():
        upgrade()
        sync_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
        db.session.add(
            User(
                employee_no="HR0001",
                name="人事专员",
                department="人事部",
                role=Role.HR,
                password_hash=hash_password(PASSWORD),
            )
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@dataclass
class Timing:
    rows: int
    file_bytes: int
    preview: float
    page_bytes: int
    confirm: float
    job: float
    created: int
    cpu: float  # this process's CPU seconds over the three steps (SQLite's work included)

    @property
    def total(self) -> float:
        return self.preview + self.confirm + self.job


def time_import(url: str, size: int, kind: str, workdir: Path, profile: Path | None) -> Timing:
    """Upload, confirm and run the import of ``size`` rows on a fresh database; return times."""
    data = build_file(size, kind)
    app = create_app(_config(url, workdir))
    app.instance_path = str(workdir / f"instance-{size}")
    # Requests outside an app context of the benchmark's own: each request gets its own `g`
    # (Flask-WTF keeps the CSRF token there), as in a server.
    client = app.test_client()
    cpu = 0.0
    login_page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "employee_no": "HR0001",
            "password": PASSWORD,
            "csrf_token": _csrf(login_page),
        },
    )
    if response.status_code != 302:
        raise SystemExit("the HR login failed")
    form = client.get("/hr/employees/import").get_data(as_text=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.post(
        "/hr/employees/import",
        data={
            "file": (io.BytesIO(data), f"staff.{kind}"),
            "csrf_token": _csrf(form),
        },
        content_type="multipart/form-data",
    )
    preview = time.perf_counter() - started
    cpu += time.process_time() - cpu_started
    page = response.get_data(as_text=True)
    upload_id, fingerprint = _UPLOAD_ID.search(page), _FINGERPRINT.search(page)
    if response.status_code != 200 or not upload_id or not fingerprint:
        raise SystemExit(f"{size} rows: the preview offers no confirmation:\n{page[:2000]}")
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.post(
        "/hr/employees/import/confirm",
        data={
            "upload_id": upload_id.group(1),
            "fingerprint": fingerprint.group(1),
            "policy": "strict",
            "csrf_token": _csrf(page),
        },
    )
    confirm = time.perf_counter() - started
    cpu += time.process_time() - cpu_started
    if response.status_code != 302:
        raise SystemExit(
            f"{size} rows: the confirm failed:\n{response.get_data(as_text=True)[:2000]}"
        )
    with app.app_context():
        profiler = cProfile.Profile() if profile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        ran = runner.run_pending()
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        job = time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        if [state for _id, state in ran] != [JobState.DONE]:
            error = db.session.scalar(select(Job.error).order_by(Job.id.desc()))
            raise SystemExit(f"{size} rows: the job did not finish: {ran} {error}")
        created = db.session.scalar(select(func.count()).select_from(User)) - 1
        if created != size:
            raise SystemExit(f"{size} rows: {created} employees were created")
        db.session.remove()
        db.engine.dispose()
    return Timing(size, len(data), preview, len(page.encode()), confirm, job, created, cpu)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise SystemExit("no csrf_token in the page")
    return match.group(1)


def table(timings: list[Timing], kind: str, database: str) -> str:
    lines = [
        f"Employee import, {kind.upper()}, {database}",
        "",
        "| rows | file | preview | preview page | confirm | job | total | CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        lines.append(
            f"| {t.rows:,} | {t.file_bytes / 1e6:.1f} MB | {t.preview:.2f} s "
            f"| {t.page_bytes / 1e3:,.0f} kB | {t.confirm:.2f} s | {t.job:.2f} s "
            f"| {t.total:.2f} s | {t.cpu:.2f} s |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: SQLite files)")
    parser.add_argument("--rows", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the first size's job")
    parser.add_argument("--check", action="store_true", help="exit 1 past 5 s at 10,000 rows")
    args = parser.parse_args(argv)
    sizes = [int(part) for part in args.rows.split(",") if part.strip()]
    database = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
    workdir = Path(tempfile.mkdtemp(prefix="training-import-"))
    timings = []
    try:
        with databases(args.database_url, sizes, workdir) as urls:
            for index, size in enumerate(sizes):
                log(f"== {size:,} rows ({args.format})")
                timing = time_import(
                    urls[size], size, args.format, workdir, args.profile if index == 0 else None
                )
                log(
                    f"   preview {timing.preview:.2f} s, confirm {timing.confirm:.2f} s, "
                    f"job {timing.job:.2f} s"
                )
                timings.append(timing)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(timings, args.format, database))
    if args.check:
        budget = [t for t in timings if t.rows == BUDGET_ROWS]
        if not budget:
            log(f"--check needs a run of {BUDGET_ROWS} rows")
            return 1
        if budget[0].total > BUDGET_SECONDS:
            log(f"FAIL: {BUDGET_ROWS:,} rows took {budget[0].total:.2f} s (> {BUDGET_SECONDS} s)")
            return 1
        log(f"ok: {BUDGET_ROWS:,} rows in {budget[0].total:.2f} s (≤ {BUDGET_SECONDS} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
