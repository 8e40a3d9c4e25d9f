"""``flask jobs run|list``: run queued background jobs (cron, systemd) and see the queue."""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from training.extensions import db
from training.jobs import runner
from training.jobs.models import Job

jobs_cli = AppGroup("jobs", help="Background jobs (imports, notifications, exports).")


@jobs_cli.command("run")
@click.option("--loop", is_flag=True, help="Keep running, looking for new jobs every --every s.")
@click.option("--every", default=2.0, show_default=True, help="Seconds between looks (--loop).")
def run_command(loop: bool, every: float) -> None:
    """Queue what is due (mail, clean-up), run every queued job, then stop or keep looking."""
    while True:
        for job_id, state in runner.tick():
            click.echo(f"job {job_id}: {state}")
        db.session.remove()
        if not loop:
            return
        time.sleep(every)


@jobs_cli.command("list")
@click.option("--limit", default=20, show_default=True)
def list_command(limit: int) -> None:
    """Print the latest jobs and their state."""
    for job in db.session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)):
        done, total = runner.progress_of(job)
        click.echo(
            f"{job.id:>6} {job.state:8} {done:>7}/{total:<7} {job.kind:18} {job.display_title}"
        )
        if job.error:
            click.echo(f"       {job.error}")


def register(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
