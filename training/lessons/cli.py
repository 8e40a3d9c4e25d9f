"""`flask content sync`: load the built course into the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from training.content.cli import content_cli
from training.content.outline import OutlineError
from training.lessons.services import LessonFileError
from training.lessons.sync import sync_course
from training.norm.model import NormParseError
from training.quizzes.services import BankError
from training.revisions.publishing import RevisionBlocked


@click.command("sync")
def sync_command() -> None:
    """Load lessons and quiz banks into the database (idempotent; all or nothing)."""
    try:
        report = sync_course(
            Path(current_app.config["CONTENT_DIR"]), Path(current_app.config["QUIZ_DIR"])
        )
    except (OutlineError, NormParseError, LessonFileError, BankError, RevisionBlocked) as error:
        click.echo(f"{error}\nNothing was loaded.", err=True)
        raise click.exceptions.Exit(1) from error
    if report.skipped:
        click.echo(f"Nothing loaded: {report.skipped}.")
        return
    lessons, questions = report.lessons, report.questions
    click.echo(
        f"norm: {report.version.title} {report.version.short_sha}"
        f"{' (new version)' if report.version_created else ''}"
    )
    click.echo(
        f"lessons: {len(lessons.created)} created, {len(lessons.updated)} updated, "
        f"{len(lessons.unchanged)} unchanged, {len(lessons.retired)} retired"
    )
    click.echo(
        f"questions: {len(questions.created)} created, {len(questions.updated)} updated, "
        f"{len(questions.unchanged)} unchanged, {len(questions.retired)} retired"
    )


def register(app: Flask) -> None:
    """Add the sync command to the app's `flask content` group."""
    if "sync" not in content_cli.commands:
        content_cli.add_command(sync_command)
    app.cli.add_command(content_cli)
