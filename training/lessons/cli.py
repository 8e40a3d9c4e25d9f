"""`flask content sync`: load generated lessons into the database."""

from __future__ import annotations

import click
from flask import Flask, current_app

from training.content.cli import content_cli
from training.lessons.services import LessonFileError, sync_lessons


@click.command("sync")
def sync_command() -> None:
    """Load content/lessons into the database (idempotent)."""
    try:
        report = sync_lessons(current_app.config["CONTENT_DIR"])
    except LessonFileError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"lessons: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.retired)} retired"
    )


def register(app: Flask) -> None:
    """Add the lesson commands to the app's `flask content` group."""
    if "sync" not in content_cli.commands:
        content_cli.add_command(sync_command)
    app.cli.add_command(content_cli)
