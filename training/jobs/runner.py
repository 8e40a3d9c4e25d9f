"""Run background jobs: queue one, claim it once, run it all or nothing, survive a crash.

The pattern is the notification outbox's. ``enqueue`` adds a job in the transaction of the
request that asks for it. A runner — a thread of the web process (``JOBS_RUN = "thread"``,
the default, which is what ``make run`` uses), the request itself (``"inline"``, for tests),
or ``flask jobs run`` from cron or a systemd service (``"worker"``) — claims the oldest queued
job (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), so two runners never
take the same job, and runs its handler in **one** transaction that also marks the job done.
So a job's work is committed exactly when the job is done: an error rolls everything back and
marks the job failed with a message; a runner that dies (``kill -9``, a restart) leaves the
job "running" with nothing written, and the next runner takes it over once the claim's lease
has run out or, on the same host, as soon as the claiming process is gone, and runs it again
from the start. No partial work, no work done twice.

Progress is reported while the job's transaction is open, so it cannot be written in that
transaction. On PostgreSQL it goes to the job's row on a separate connection (which also
renews the lease), so the progress page on any app host reads it there. SQLite cannot take
a second writer while the job holds the write lock, and a SQLite site is one host by nature:
there it goes to a small file in ``instance/jobs/``.

Two variations, chosen when a kind is registered:

- ``own_transactions``: the handler commits its own units of work (the notification outbox
  commits each claim and each outcome, so that a message once sent is marked sent whatever
  happens next). The runner marks the job done after it, still only under its own claim. A
  run that dies keeps what it committed; the run that takes over starts again and relies on
  the handler's own bookkeeping not to do anything twice.
- ``single``: at most one such job is queued or running at a time (``enqueue`` hands back the
  open one); the runner's schedules use it to queue periodic work once.

Schedules (``schedule``) are small functions that queue work when it is due (mail waiting,
old export files to remove); ``tick`` runs them, then the queue. ``flask jobs run`` ticks, and
with ``JOBS_RUN = "thread"`` each web process ticks in a thread every ``JOBS_TICK_SECONDS``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app, has_request_context
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import OperationalError

from training.audit import services as audit
from training.auth.models import User
from training.db import insert_returning_id, utcnow, write_transaction
from training.extensions import db
from training.jobs.models import Job, JobState

LEASE = timedelta(minutes=10)  # a claim not renewed for this long is taken over
MAX_ATTEMPTS = 3  # a job whose runner died this many times is given up


class JobFailed(Exception):
    """A job that cannot be done; the message tells HR why (nothing was written)."""


Handler = Callable[[Job, "Progress"], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """What a kind of job does, and which template shows its result."""

    name: str
    handler: Handler
    result_template: str | None
    own_transactions: bool = False
    single: bool = False


_KINDS: dict[str, Kind] = {}
_SCHEDULES: list[Callable[[], None]] = []


def register(
    name: str,
    *,
    result_template: str | None = None,
    own_transactions: bool = False,
    single: bool = False,
) -> Callable[[Handler], Handler]:
    """Register the handler of a kind of job (features call this at import time)."""

    def decorator(handler: Handler) -> Handler:
        _KINDS[name] = Kind(name, handler, result_template, own_transactions, single)
        return handler

    return decorator


def schedule(function: Callable[[], None]) -> Callable[[], None]:
    """Register a function that queues work when it is due (it commits what it queues)."""
    _SCHEDULES.append(function)
    return function


def _single_key(kind: str) -> str:
    return f"single:{kind}"


def kind_of(job: Job) -> Kind | None:
    return _KINDS.get(job.kind)


def enqueue(
    kind: str,
    *,
    title: str,
    params: dict[str, Any],
    payload: bytes | None = None,
    actor: User | None = None,
    key: str | None = None,
) -> Job:
    """Add a job to the queue in the current transaction (the caller commits).

    With a ``key``, a second request for the same work gets the job the first one queued
    (one statement, so two requests at once cannot both queue it).
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    if _KINDS[kind].single:
        key = _single_key(kind)  # released when the job finishes (see _finished_values)
    if has_request_context() and "locale" not in params:
        # What the job writes for its requester (an export's headers, its messages) is in the
        # language of the page they asked from, not the runner's default.
        params = {**params, "locale": str(get_locale())}
    job_id = insert_returning_id(
        Job,
        kind=kind,
        key=key,
        title=title,
        params=params,
        payload=payload,
        created_by=actor.id if actor else None,
        state=JobState.QUEUED.value,
        created_at=utcnow(),
        attempts=0,
        progress_done=0,
        progress_total=0,
    )
    if job_id is None:
        job = db.session.scalars(select(Job).where(Job.key == key)).one()
    else:
        job = db.session.get_one(Job, job_id)
    return job


def _claimant() -> str:
    """This runner's mark on a claim: host, process and a token of this claim alone."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _abandoned(job: Job, now: datetime) -> bool:
    """A running job whose runner is gone: on this host, its process died (whatever the
    lease says: a long SQLite job cannot renew it); elsewhere, its lease ran out."""
    host, _, rest = (job.claimed_by or "").partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit():
        return not _alive(int(pid))
    return job.claimed_until is None or job.claimed_until < now


def claim(now: datetime | None = None) -> int | None:
    """Take the oldest job that is queued or abandoned; return its id (None: nothing to do)."""
    now = now or utcnow()
    with write_transaction():
        stmt = (
            select(Job)
            .where(Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
            .order_by(Job.id)
            .limit(50)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        for job in db.session.scalars(stmt):
            if job.state == JobState.RUNNING and not _abandoned(job, now):
                continue
            if job.attempts >= MAX_ATTEMPTS:
                job.state = JobState.FAILED
                job.error = _(
                    "任务已尝试 %(attempts)s 次都未能完成，已放弃；未写入任何数据。",
                    attempts=job.attempts,
                )
                job.finished_at = now
                job.payload = None
                job.key = _released_key(job)
                continue
            job.state = JobState.RUNNING
            job.attempts += 1
            job.claimed_by = _claimant()
            job.claimed_until = now + LEASE
            job.started_at = now
            job.progress_done = job.progress_total = 0
            return job.id
    return None


def run(job_id: int) -> JobState:
    """Run a claimed job in one transaction; mark it done with its result, or failed.

    The job is finished only by the claim that started this run: if another runner took it
    over meanwhile (this one was thought dead), this run's work is rolled back, not written.
    A kind with ``own_transactions`` commits its own work as it goes; only its "done" waits.
    """
    claim_mark = db.session.scalar(select(Job.claimed_by).where(Job.id == job_id))
    progress = Progress(job_id)
    heartbeat = _Heartbeat(job_id, claim_mark)
    try:
        job = db.session.get(Job, job_id)
        kind = kind_of(job) if job is not None else None
        if kind is not None and kind.own_transactions:
            if job is None or job.state != JobState.RUNNING or job.claimed_by != claim_mark:
                return job.state if job else JobState.FAILED
            with audit.channel(job.params.get("channel", "cli")), _in_locale(job):
                result = kind.handler(job, progress)
            with write_transaction():
                _mark_done(job_id, claim_mark, result, progress)
            return JobState.DONE
        with write_transaction():
            job = db.session.get(Job, job_id)
            if job is None or job.state != JobState.RUNNING or job.claimed_by != claim_mark:
                return job.state if job else JobState.FAILED
            kind = kind_of(job)
            if kind is None:
                raise JobFailed(_("未知的任务类型 %(kind)s。", kind=job.kind))
            with audit.channel(job.params.get("channel", "cli")), _in_locale(job):
                result = kind.handler(job, progress)
            _mark_done(job_id, claim_mark, result, progress)
        return JobState.DONE
    except _TakenOver:
        current_app.logger.warning("job.taken_over", extra={"job_id": job_id})
        return JobState.RUNNING
    except JobFailed as exc:
        _fail(job_id, claim_mark, str(exc))
    except Exception as exc:
        current_app.logger.exception("job.failed", extra={"job_id": job_id})
        db.session.rollback()
        _fail(job_id, claim_mark, _unexpected(job_id, exc))
    finally:
        heartbeat.stop()
        progress.clear()
    return JobState.FAILED


def _in_locale(job: Job) -> AbstractContextManager[None]:
    """The language the job was requested in; the default for older jobs and those a command
    or a schedule queued (not the language of whatever request happens to run the queue)."""
    locale = job.params.get("locale")
    if not (isinstance(locale, str) and locale):
        locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    return force_locale(locale)


def _unexpected(job_id: int, exc: Exception) -> str:
    """HR's message for a job that broke: what was kept depends on the kind."""
    job = db.session.get(Job, job_id)
    kind = kind_of(job) if job is not None else None
    if kind is not None and kind.own_transactions:
        return _(
            "任务出错（%(error)s），已完成的部分已保存，其余下次运行时继续。"
            "请查看详情或联系管理员。",
            error=type(exc).__name__,
        )
    return _(
        "任务出错（%(error)s），未写入任何数据。请重试或联系管理员。", error=type(exc).__name__
    )


def _mark_done(
    job_id: int, claim_mark: str | None, result: dict[str, Any], progress: Progress
) -> None:
    """Mark the job done in the current transaction, only if this run still holds it."""
    job = db.session.get(Job, job_id)
    done = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING, Job.claimed_by == claim_mark)
        .values(
            state=JobState.DONE,
            result=result,
            finished_at=utcnow(),
            payload=None,
            key=_released_key(job) if job is not None else None,
            progress_done=max(progress.total, progress.done),
            progress_total=max(progress.total, progress.done),
        )
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], done).rowcount != 1:
        raise _TakenOver


def _released_key(job: Job) -> str | None:
    """A finished single job gives up its key, so that the next one can be queued."""
    kind = kind_of(job)
    return None if kind is not None and kind.single else job.key


class _TakenOver(Exception):
    """Another runner holds the job now: this run's work must not be committed."""


def _fail(job_id: int, claim_mark: str | None, message: str) -> None:
    """Mark the job failed, unless another runner has taken it over (or finished it)."""
    with write_transaction():
        job = db.session.get(Job, job_id)
        if job is None or job.state != JobState.RUNNING or job.claimed_by != claim_mark:
            return
        job.state = JobState.FAILED
        job.error = message
        job.finished_at = utcnow()
        job.payload = None
        job.key = _released_key(job)


def run_pending(limit: int | None = None) -> list[tuple[int, JobState]]:
    """Claim and run jobs until none is left (or ``limit`` ran); return what each became."""
    ran: list[tuple[int, JobState]] = []
    while limit is None or len(ran) < limit:
        job_id = claim()
        if job_id is None:
            break
        ran.append((job_id, run(job_id)))
    return ran


def run_schedules() -> None:
    """Queue what is due now (each schedule commits what it queues; one failing spares the rest)."""
    for function in _SCHEDULES:
        try:
            function()
        except OperationalError:
            raise  # SQLite busy: the caller looks again later
        except Exception:
            db.session.rollback()
            current_app.logger.exception(
                "jobs.schedule_failed", extra={"schedule": function.__name__}
            )


def tick() -> list[tuple[int, JobState]]:
    """One turn of ``flask jobs run`` or the ticker: the queue people filled first, then what
    the schedules find due, then that."""
    ran = run_pending()
    run_schedules()
    return ran + run_pending()


class _Heartbeat:
    """On PostgreSQL, renew a running job's lease on a connection of its own, whatever the
    job is doing (parsing a large file reports no progress). SQLite jobs run on the
    database's own host, where a dead runner is seen from its process id."""

    EVERY = LEASE.total_seconds() / 4

    def __init__(self, job_id: int, claim_mark: str | None) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if db.engine.dialect.name != "postgresql":
            return
        engine = db.engine
        self._thread = threading.Thread(
            target=self._beat, args=(engine, job_id, claim_mark), daemon=True
        )
        self._thread.start()

    def _beat(self, engine: Any, job_id: int, claim_mark: str | None) -> None:
        while not self._stop.wait(self.EVERY):
            with engine.connect() as conn:
                conn.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.claimed_by == claim_mark)
                    .values(claimed_until=utcnow() + LEASE)
                )
                conn.commit()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def start(app: Flask) -> None:
    """Run the queue now, the way JOBS_RUN says: in a thread, in this request, or not at all."""
    mode = app.config["JOBS_RUN"]
    if mode == "inline":
        run_pending()
    elif mode == "thread":
        threading.Thread(target=_thread, args=(app,), name="training-jobs", daemon=True).start()


def _thread(app: Flask, work: Callable[[], object] = run_pending) -> None:
    with app.app_context():
        try:
            for attempt in range(3):
                try:
                    work()
                    return
                except OperationalError:  # SQLite busy past its timeout: look again shortly
                    db.session.rollback()
                    app.logger.warning("jobs.retry", extra={"attempt": attempt + 1})
                    time.sleep(2)
        finally:
            db.session.remove()


# id(app) -> (the process that started its ticker, the event that stops it)
_TICKERS: dict[int, tuple[int, threading.Event]] = {}
_TICKERS_LOCK = threading.Lock()


def start_ticker(app: Flask) -> bool:
    """With JOBS_RUN = "thread", tick every JOBS_TICK_SECONDS in a thread of this process.

    The in-process fallback for ``make run`` and small sites, so that mail goes out without a
    cron entry. Started at a process's first request (after gunicorn forks), once per app and
    process; several processes ticking is safe (claims and single jobs). Returns True if it
    started one now.
    """
    every = app.config["JOBS_TICK_SECONDS"]
    if app.config["JOBS_RUN"] != "thread" or not every:
        return False
    started = _TICKERS.get(id(app))
    if started is not None and started[0] == os.getpid():
        return False
    with _TICKERS_LOCK:
        started = _TICKERS.get(id(app))
        if started is not None and started[0] == os.getpid():
            return False
        stop = threading.Event()
        _TICKERS[id(app)] = (os.getpid(), stop)
    threading.Thread(
        target=_tick_forever,
        args=(app, float(every), stop),
        name="training-jobs-ticker",
        daemon=True,
    ).start()
    return True


def stop_ticker(app: Flask) -> None:
    """Stop this process's ticker of the app (tests; a process that ends needs nothing)."""
    started = _TICKERS.get(id(app))
    if started is not None and started[0] == os.getpid():
        started[1].set()


def _tick_forever(app: Flask, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        try:
            _thread(app, tick)
        except Exception:  # never let the ticker die: log, and look again next time
            app.logger.exception("jobs.tick_failed")


def _progress_path(job_id: int) -> Path:
    return Path(current_app.instance_path) / "jobs" / f"{job_id}.json"


class Progress:
    """Report how far a job has got, outside its transaction (at most four times a second)."""

    INTERVAL = 0.25

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.done = 0
        self.total = 0
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        now = time.monotonic()
        if now - self._last >= self.INTERVAL or done >= self.total:
            self._last = now
            self._write()

    def _write(self) -> None:
        if db.engine.dialect.name != "postgresql":
            path = _progress_path(self.job_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps({"done": self.done, "total": self.total}), "utf-8")
            os.replace(temporary, path)
        else:
            with db.engine.connect() as conn:  # not the job's transaction: others see it now
                conn.execute(
                    update(Job)
                    .where(Job.id == self.job_id)
                    .values(
                        progress_done=self.done,
                        progress_total=self.total,
                        claimed_until=utcnow() + LEASE,
                    )
                )
                conn.commit()

    def clear(self) -> None:
        if db.engine.dialect.name != "postgresql":
            _progress_path(self.job_id).unlink(missing_ok=True)


def progress_of(job: Job) -> tuple[int, int]:
    """Return (done, total) for a job: its row (on PostgreSQL, where the runner reports to
    the row, whichever host runs it), or on SQLite the runner's latest report while it runs."""
    done, total = job.progress_done, job.progress_total
    if job.state == JobState.RUNNING and db.engine.dialect.name != "postgresql":
        try:
            reported = json.loads(_progress_path(job.id).read_text("utf-8"))
            done, total = max(done, int(reported["done"])), max(total, int(reported["total"]))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return done, total
