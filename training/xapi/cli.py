"""``flask xapi push|export|status``: feed the LRS, or write statements for a bulk load."""

from __future__ import annotations

import json
from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from training.db import local_day_start
from training.xapi import feed, statements

xapi_cli = AppGroup("xapi", help="Learning records (xAPI 1.0.3) for the company's LRS.")


@xapi_cli.command("push")
def push_command() -> None:
    """Queue the statements of new evidence and send what is due to XAPI_ENDPOINT."""
    if not feed.enabled():
        raise click.ClickException("XAPI_ENDPOINT is not set: nothing is queued or sent")
    report = feed.push()
    click.echo(
        f"queued {report.queued}, sent {report.sent}, failed {report.failed} (will retry), "
        f"gave up {report.gave_up}"
    )
    for error in report.errors[:20]:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        raise click.exceptions.Exit(1)


@xapi_cli.command("export")
@click.option(
    "--since",
    "since",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day (company time) whose events are written.",
)
@click.option("--out", "out", type=click.File("w", encoding="utf-8"), default="-")
def export_command(since, out) -> None:
    """Write every statement since a day as NDJSON (one statement per line), for a bulk load.

    Built from the evidence itself, whether or not an LRS is configured; the ids are the
    ones the feed sends, so loading both keeps one copy of each.
    """
    count = 0
    for built in statements.since(local_day_start(date.fromordinal(since.toordinal()))):
        out.write(json.dumps(built.statement, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    click.echo(f"{count} statements", err=True)


@xapi_cli.command("status")
def status_command() -> None:
    """Print the feed's counts and its latest error."""
    state = feed.status()
    click.echo(f"endpoint: {state.endpoint or '(not set)'}")
    click.echo(f"queued {state.queued}, sent {state.sent}, gave up {state.gave_up}")
    if state.last_error:
        click.echo(f"last error ({state.last_error_at}): {state.last_error}")


def register(app: Flask) -> None:
    """Add the `flask xapi` group."""
    app.cli.add_command(xapi_cli)
