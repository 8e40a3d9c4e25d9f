"""The outbox sends each notification exactly once: reruns, two senders, a dead server, a crash."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from tests.notifications.conftest import text_of
from training.extensions import db
from training.notifications import channels, outbox
from training.notifications.models import (
    Channel,
    Delivery,
    Kind,
    Notification,
    Outcome,
    QueueEntry,
)


def _queue(count: int, prefix: str = "nudge") -> list[str]:
    keys = [f"{prefix}:{n}" for n in range(count)]
    for n, key in enumerate(keys):
        outbox.enqueue(
            key,
            kind=Kind.NUDGE,
            channel=Channel.EMAIL,
            address=f"person{n}@example.com",
            subject=f"提醒 {n}",
            body_text=f"第 {n} 封",
        )
    db.session.commit()
    return keys


def _outcomes() -> Counter:
    return Counter(db.session.scalars(select(Delivery.outcome)))


def test_the_same_key_is_queued_once(app):
    assert _queue(1) == ["nudge:0"]
    again = outbox.enqueue(
        "nudge:0",
        kind=Kind.NUDGE,
        channel=Channel.EMAIL,
        address="other@example.com",
        subject="x",
        body_text="y",
    )
    assert again is None
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_a_rerun_sends_nothing_twice(app, smtp, send):
    _queue(3)
    first = send()
    assert first.exit_code == 0, first.output
    second = send()
    assert second.exit_code == 0, second.output
    assert "sent 0" in second.output
    assert sorted(m["To"] for m in smtp.mailbox.messages) == [
        "person0@example.com",
        "person1@example.com",
        "person2@example.com",
    ]
    assert _outcomes() == {Outcome.STARTED: 3, Outcome.SENT: 3}
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 0


def test_two_senders_at_once_send_each_message_exactly_once(app, smtp):
    keys = _queue(40)
    app.config["NOTIFY_BATCH_SIZE"] = 5  # many claims, so the two senders interleave
    start = threading.Barrier(2)
    reports = []
    errors = []

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                reports.append(outbox.send_due(channels.deliver))
            except Exception as error:  # noqa: BLE001 - reported to the test below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    sent = Counter(m["X-Training-Notification"] for m in smtp.mailbox.messages)
    assert sent == Counter(keys)  # every key once, none twice
    assert sum(report.sent for report in reports) == 40
    assert _outcomes() == {Outcome.STARTED: 40, Outcome.SENT: 40}


def test_a_dead_mail_server_leaves_the_rows_queued_with_a_clear_error(app, smtp, send):
    _queue(2)
    smtp.stop()
    result = send()
    assert result.exit_code == 1
    assert f"无法通过邮件服务器 127.0.0.1:{smtp.port} 发送" in result.output
    assert "failed 2 (will retry)" in result.output
    entries = db.session.scalars(select(QueueEntry)).all()
    assert len(entries) == 2
    assert all(entry.attempts == 1 for entry in entries)
    assert all(entry.claimed_until is None for entry in entries)
    # Until the backoff is over, nothing is tried again.
    assert outbox.send_due(channels.deliver).sent == 0
    smtp.start()
    later = outbox.send_due(
        channels.deliver, now=datetime.now(ZoneInfo("UTC")) + timedelta(hours=1)
    )
    assert later.sent == 2
    assert len(smtp.mailbox.messages) == 2
    assert _outcomes() == {Outcome.STARTED: 4, Outcome.FAILED: 2, Outcome.SENT: 2}


def test_the_last_allowed_attempt_gives_up(app, smtp):
    _queue(1)
    app.config["NOTIFY_MAX_ATTEMPTS"] = 2
    smtp.stop()
    now = datetime.now(ZoneInfo("UTC"))
    assert outbox.send_due(channels.deliver, now=now).failed == 1
    report = outbox.send_due(channels.deliver, now=now + timedelta(hours=1))
    assert report.gave_up == 1
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 0
    assert _outcomes()[Outcome.GAVE_UP] == 1


def test_a_sender_that_died_mid_send_is_never_repeated_automatically(app, smtp):
    _queue(1)
    claimed = outbox._claim(datetime.now(ZoneInfo("UTC")), 10, "crashed:1")
    assert len(claimed) == 1
    # The sender dies here: "started" stays without an outcome. After its lease runs out:
    later = datetime.now(ZoneInfo("UTC")) + outbox.LEASE + timedelta(minutes=1)
    report = outbox.send_due(channels.deliver, now=later)
    assert report.sent == 0
    assert smtp.mailbox.messages == []
    assert _outcomes() == {Outcome.STARTED: 1, Outcome.UNCERTAIN: 1}
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 0


def test_a_mail_the_server_refuses_fails_alone(app, smtp):
    outbox.enqueue(
        "nudge:bad",
        kind=Kind.NUDGE,
        channel=Channel.EMAIL,
        address="nobody@refused.example.com",
        subject="x",
        body_text="y",
    )
    _queue(1)
    report = outbox.send_due(channels.deliver)
    assert report.sent == 1
    assert report.failed == 1
    assert report.errors[0].startswith("nudge:bad: 邮件服务器拒收 nobody@refused.example.com")
    assert "no such mailbox" in report.errors[0]


def test_quiet_hours_hold_every_send(app, smtp, send):
    _queue(1)
    local = datetime.now(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"]))
    start = (local - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    app.config["NOTIFY_QUIET_HOURS"] = f"{start:%H:%M}-{end:%H:%M}"
    result = send()
    assert result.exit_code == 0
    assert "quiet hours: nothing sent before" in result.output
    assert smtp.mailbox.messages == []
    app.config["NOTIFY_QUIET_HOURS"] = ""
    assert send().exit_code == 0
    assert len(smtp.mailbox.messages) == 1


@pytest.mark.parametrize(
    ("window", "clock", "held"),
    [
        ("20:00-09:00", time(21, 30), True),
        ("20:00-09:00", time(8, 59), True),
        ("20:00-09:00", time(9, 0), False),
        ("20:00-09:00", time(12, 0), False),
        ("12:00-13:00", time(12, 30), True),
        ("12:00-13:00", time(13, 30), False),
    ],
)
def test_quiet_window_arithmetic(app, window, clock, held):
    from training.notifications.planner import held_until

    app.config["NOTIFY_QUIET_HOURS"] = window
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    now = datetime.combine(datetime(2026, 12, 2).date(), clock, tzinfo=zone)
    until = held_until(now)
    assert (until is not None) is held
    if until is not None:
        assert until > now
        assert until.time() == time.fromisoformat(window.split("-")[1])


def test_preview_lists_what_would_be_sent_and_changes_nothing(app, smtp):
    _queue(2)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notify", "preview"])
    assert result.exit_code == 0, result.output
    assert "2 to send" in result.output
    assert "person0@example.com" in result.output
    assert smtp.mailbox.messages == []
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_notifications_and_deliveries_cannot_be_changed_or_removed(app):
    _queue(1)
    for statement in (
        update(Notification).values(subject="改过"),
        Notification.__table__.delete(),
    ):
        with pytest.raises(DBAPIError):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.scalar(select(Notification.subject)) == "提醒 0"


def test_the_mail_carries_its_key_and_comes_from_the_sender(app, smtp, send):
    _queue(1)
    send()
    [message] = smtp.mailbox.messages
    assert text_of(message).strip() == "第 0 封"
    assert message["X-Training-Notification"] == "nudge:0"
    assert smtp.mailbox.envelopes[0][0] == "training@example.com"
