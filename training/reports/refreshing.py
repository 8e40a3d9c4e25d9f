"""Figures that take seconds to compute, kept per process and refreshed off the request path.

The quiz statistics (item analysis, and the dashboard's insight built on it) read every
first answer of every employee: 1–6 s at 10,000 employees. A request never pays for that:

- while a value is younger than INSIGHT_CACHE_SECONDS it is served as it is;
- once older, it is still served, and a background thread of this process computes the
  next one (one thread at a time per database), which later requests get;
- on an empty cache (the first request after a start, or after the lessons or questions
  changed) the request starts that thread and waits for it until INSIGHT_WAIT_SECONDS after
  it started (later requests wait only for what is left of that): a small site has its
  figures at once, a large one shows "正在计算" and has them on a later load, seconds after;
- INSIGHT_CACHE_SECONDS = 0 computes in the request, every time (the tests' setting).

Each worker process keeps its own copy, so a worker refreshes once per cache period while it
is asked for the figures; nothing is stored in the database. The thread works in its own app
context and session, in a read transaction of its own, at a lower CPU priority than the
worker's requests (Linux).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from flask import Flask, current_app

from training.extensions import db

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    value: T | None = None
    computed_at: float = 0.0
    tried: bool = False  # a refresh finished, with a value or not
    running: threading.Thread | None = None
    started_at: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)


BACKGROUND_NICE = 10  # added to the refresh thread's nice value (Linux: per thread)


def _lower_priority() -> None:
    """Let the request threads of this worker go first when the CPU is short.

    On Linux a thread has its own nice value (``setpriority`` on its thread id), and SQLite
    does the refresh's work in this thread, outside the GIL. Elsewhere ``setpriority`` would
    apply to the whole process, so nothing is done.
    """
    if sys.platform != "linux":
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + BACKGROUND_NICE)
    except OSError:
        pass


class Refreshed(Generic[T]):
    """One expensive value per database, served stale while a thread refreshes it."""

    def __init__(self, name: str, compute: Callable[[], T]) -> None:
        self.name = name
        self.compute = compute
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry[T]] = {}
        self._threads: set[threading.Thread] = set()  # running, dropped entries' included

    def get(self) -> T | None:
        """Return the value (None while a first computation is still under way)."""
        config = current_app.config
        ttl = float(config.get("INSIGHT_CACHE_SECONDS", 60))
        if ttl <= 0:
            return self.compute()
        key = config["SQLALCHEMY_DATABASE_URI"]
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
            # A failed refresh is not retried before the period is over either.
            fresh = entry.tried and time.monotonic() - entry.computed_at < ttl
            if not fresh and entry.running is None:
                self._start(entry)
            value, done, started = entry.value, entry.done, entry.started_at
        if value is None:
            # Up to INSIGHT_WAIT_SECONDS after the first run began, not per request.
            waited = time.monotonic() - started
            done.wait(max(0.0, float(config.get("INSIGHT_WAIT_SECONDS", 0.5)) - waited))
            with self._lock:
                value = entry.value
        return value

    def _start(self, entry: _Entry[T]) -> None:
        """Start the refresh of ``entry`` (the lock is held)."""
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        entry.done, entry.started_at = threading.Event(), time.monotonic()
        thread = threading.Thread(
            target=self._refresh, args=(app, entry), name=f"refresh-{self.name}", daemon=True
        )
        entry.running = thread
        self._threads.add(thread)
        thread.start()

    def _refresh(self, app: Flask, entry: _Entry[T]) -> None:
        value: T | None = None
        started = time.monotonic()
        _lower_priority()
        try:
            with app.app_context():
                try:
                    value = self.compute()
                finally:
                    db.session.rollback()  # a read transaction: end it, keep nothing
        except Exception:
            log.exception("refreshing %s failed; the previous figures stay", self.name)
        with self._lock:
            # An entry dropped meanwhile (``forget``) keeps nothing of this run.
            if value is not None:
                entry.value = value
            entry.computed_at, entry.tried = time.monotonic(), True
            entry.running = None
            self._threads.discard(threading.current_thread())
            entry.done.set()
        log.debug("refreshed %s in %.2fs", self.name, time.monotonic() - started)

    def forget(self) -> None:
        """Drop every value: what they describe changed (a refresh under way is discarded)."""
        with self._lock:
            self._entries.clear()

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for the refreshes under way in this process (for tests and the benchmark)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
