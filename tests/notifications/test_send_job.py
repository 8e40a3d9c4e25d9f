"""The outbox sent by the job runner (``notify.send``): queued by a schedule, one at a time,
and a runner killed mid-send sends nothing twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from training.extensions import db
from training.jobs import runner
from training.jobs.models import Job, JobState
from training.notifications import channels, outbox
from training.notifications.jobs import KIND, schedule_send
from training.notifications.models import Channel, Delivery, Kind, Outcome, QueueEntry

REPO = Path(__file__).resolve().parents[2]


def _queue(count: int) -> list[str]:
    keys = [f"nudge:{n}" for n in range(count)]
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


def _send_jobs() -> list[Job]:
    return list(db.session.scalars(select(Job).where(Job.kind == KIND).order_by(Job.id)))


def _outcomes() -> Counter:
    return Counter(db.session.scalars(select(Delivery.outcome)))


def test_the_runner_queues_and_runs_notify_send_which_delivers_the_due_mail(app, smtp):
    keys = _queue(3)
    ran = runner.tick()
    jobs = _send_jobs()
    assert [(job.id, state) for job, (_, state) in zip(jobs, ran, strict=True)] == [
        (jobs[0].id, JobState.DONE)
    ]
    assert sorted(m["X-Training-Notification"] for m in smtp.mailbox.messages) == sorted(keys)
    assert jobs[0].result["sent"] == 3
    assert jobs[0].key is None  # finished: the next one may be queued
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 0
    # Planned today, nothing due: the next tick queues nothing.
    assert runner.tick() == []
    _queue(4)  # a new one (nudge:3) is due: queued and sent by the next tick
    assert [state for _, state in runner.tick()] == [JobState.DONE]
    assert len(smtp.mailbox.messages) == 4


def test_one_send_job_at_a_time(app, smtp):
    _queue(1)
    schedule_send()
    schedule_send()
    jobs = _send_jobs()
    assert len(jobs) == 1
    assert jobs[0].state == JobState.QUEUED
    again = runner.enqueue(KIND, title="x", params={})  # the open one, not a second
    assert again.id == jobs[0].id


def test_mail_waits_without_a_mail_server_once_today_is_planned(app, smtp):
    _queue(1)
    app.config["MAIL_SERVER"] = ""
    assert [state for _, state in runner.tick()] == [JobState.DONE]  # today's planning
    assert runner.tick() == []  # the mail waits: no job every tick
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 1
    assert _outcomes() == {}


def test_a_dead_mail_server_fails_the_job_clearly_and_loses_nothing(app, smtp):
    _queue(2)
    smtp.stop()
    assert [state for _, state in runner.tick()] == [JobState.FAILED]
    job = _send_jobs()[0]
    assert "已发送 0 条；2 条发送失败，稍后自动重试" in job.error
    assert f"无法通过邮件服务器 127.0.0.1:{smtp.port} 发送" in job.error
    entries = db.session.scalars(select(QueueEntry)).all()
    assert [entry.attempts for entry in entries] == [1, 1]
    assert runner.tick() == []  # their backoff is not over: no job
    smtp.start()
    for entry in entries:
        entry.due_at -= timedelta(hours=1)
    db.session.commit()
    assert [state for _, state in runner.tick()] == [JobState.DONE]
    assert len(smtp.mailbox.messages) == 2


def test_flask_notify_send_still_sends_directly(app, smtp, send):
    _queue(2)
    result = send()
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output
    assert _send_jobs() == []  # it runs the job's function itself, not through the queue


def test_a_runner_killed_mid_send_sends_no_message_twice(app, smtp, database_url):
    keys = _queue(3)
    # The server takes its time over the second message, so the runner is killed mid-send.
    arrived, release = threading.Event(), threading.Event()
    handle = smtp.mailbox.handle_DATA

    async def slow_data(server, session, envelope):
        if b"nudge:1" in envelope.original_content:
            arrived.set()
            while not release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 try again later"  # the runner is gone by now
        return await handle(server, session, envelope)

    smtp.mailbox.handle_DATA = slow_data  # type: ignore[method-assign]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "TRAINING_JOBS_RUN": '"worker"',
        "TRAINING_NOTIFY_BATCH_SIZE": "1",  # one message per claim
        **{f"TRAINING_{name}": json.dumps(value) for name, value in smtp.settings().items()},
    }
    worker = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert arrived.wait(60), "the worker never reached the second message"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        release.set()
        if worker.poll() is None:
            worker.kill()
    db.session.rollback()
    job = _send_jobs()[0]
    assert job.state == JobState.RUNNING  # its runner is dead
    assert [m["X-Training-Notification"] for m in smtp.mailbox.messages] == [keys[0]]
    # The next runner takes the job over at once (same host, dead process) and sends the
    # message nobody had claimed; the interrupted one is not sent again.
    assert runner.run_pending() == [(job.id, JobState.DONE)]
    sent = Counter(m["X-Training-Notification"] for m in smtp.mailbox.messages)
    assert sent == Counter({keys[0]: 1, keys[2]: 1})
    # Once the interrupted claim's lease is over, the outbox marks it uncertain for HR.
    later = outbox.utcnow() + outbox.LEASE + timedelta(minutes=1)
    assert outbox.send_due(channels.deliver, now=later).sent == 0
    assert Counter(m["X-Training-Notification"] for m in smtp.mailbox.messages) == sent
    assert _outcomes() == {Outcome.STARTED: 3, Outcome.SENT: 2, Outcome.UNCERTAIN: 1}
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 0


def test_the_web_process_ticker_sends_due_mail_without_cron(app, smtp, client):
    keys = _queue(2)
    app.config.update(JOBS_RUN="thread", JOBS_TICK_SECONDS=1)
    try:
        client.get("/login")  # a process's first request starts its ticker
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            db.session.rollback()
            if [job.state for job in _send_jobs()] == [JobState.DONE]:
                break
            time.sleep(0.1)
    finally:
        runner.stop_ticker(app)
    assert [job.state for job in _send_jobs()] == [JobState.DONE]
    assert sorted(m["X-Training-Notification"] for m in smtp.mailbox.messages) == keys
