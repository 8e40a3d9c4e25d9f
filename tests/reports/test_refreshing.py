"""Slow figures are refreshed off the request path: served stale, computed by a thread.

The computations here block on an event the test holds, so "the request did not wait" is
shown by the request returning while the computation still cannot finish — no timing.
"""

from __future__ import annotations

import threading
import time

import pytest

from training.reports import items
from training.reports.refreshing import Refreshed


class Slow:
    """A computation that returns "run <n>" (the nth call) once the test lets it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self.fail = False

    def __call__(self) -> str:
        self.calls += 1
        run = self.calls
        if not self.release.wait(30):
            raise TimeoutError("the test never released the computation")
        if self.fail:
            raise RuntimeError("the database went away")
        return f"run {run}"


@pytest.fixture
def refreshed(app):
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.config["INSIGHT_WAIT_SECONDS"] = 0
    slow = Slow()
    value = Refreshed("test figures", slow)
    yield value, slow
    slow.release.set()
    value.wait()


def _until(condition) -> None:
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def _expire(app) -> None:
    app.config["INSIGHT_CACHE_SECONDS"] = 0.01
    time.sleep(0.02)


def test_an_empty_cache_answers_at_once_and_fills_in_the_background(app, refreshed):
    value, slow = refreshed

    assert value.get() is None  # the computation cannot finish yet: nobody waited for it
    assert value.get() is None  # still under way: not started twice
    slow.release.set()
    value.wait()
    assert value.get() == "run 1"
    assert slow.calls == 1


def test_an_old_value_is_served_while_the_next_is_computed(app, refreshed):
    value, slow = refreshed
    slow.release.set()
    value.get()
    value.wait()
    assert value.get() == "run 1"
    slow.release.clear()

    _expire(app)
    assert value.get() == "run 1"  # stale, returned while the refresh is blocked
    assert value.get() == "run 1"
    slow.release.set()
    value.wait()
    assert value.get() == "run 2"
    assert slow.calls == 2  # one refresh for both requests, not one per request


def test_a_failed_refresh_keeps_the_previous_value(app, refreshed):
    value, slow = refreshed
    slow.release.set()
    value.get()
    value.wait()
    slow.fail = True

    _expire(app)
    assert value.get() == "run 1"
    value.wait()
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    assert value.get() == "run 1"  # kept, and not retried before the period is over
    assert slow.calls == 2


def test_a_refresh_under_way_when_the_figures_change_is_discarded(app, refreshed):
    value, slow = refreshed
    assert value.get() is None
    _until(lambda: slow.calls == 1)  # the first run is under way
    value.forget()  # e.g. a question bank changed while the thread was computing
    assert value.get() is None  # a new run for the new figures
    slow.release.set()
    value.wait()
    assert slow.calls == 2
    assert value.get() == "run 2"  # the run that began before the change was dropped


def test_a_cache_period_of_zero_computes_in_the_request(app):
    app.config["INSIGHT_CACHE_SECONDS"] = 0
    slow = Slow()
    slow.release.set()
    assert Refreshed("inline", slow).get() == "run 1"


def test_the_dashboard_says_the_insight_is_being_computed(
    app, client, hr, lessons, records, monkeypatch
):
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.config["INSIGHT_WAIT_SECONDS"] = 0
    records.attempt(records.employee(), lessons[0], correct=False)
    release = threading.Event()
    compute = items.statistics.compute

    def slow_analysis():
        release.wait(30)
        return compute()

    monkeypatch.setattr(items.statistics, "compute", slow_analysis)
    try:
        html = client.get("/hr/").get_data(as_text=True)
        assert 'data-insight="computing"' in html
        assert 'data-count="total">1<' in html  # the counts do not wait for it
        assert 'data-insight="computing"' in client.get("/hr/items").get_data(as_text=True)
        release.set()
        items.statistics.wait()
        html = client.get("/hr/").get_data(as_text=True)
        assert 'data-insight="computing"' not in html
        assert "0%" in html[html.index('id="insight-title"') :]
    finally:
        release.set()
        items.statistics.wait()
        items.statistics.forget()
