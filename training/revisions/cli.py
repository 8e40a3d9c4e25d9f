"""`flask content import-norm` (preview a revised norm, publish with --publish) and `sync`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app

from training.content.cli import content_cli
from training.content.outline import OutlineError
from training.course.versions import current_norm_version
from training.db import company_today, write_transaction
from training.extensions import db
from training.lessons.services import LessonFileError
from training.norm.diff import format_text
from training.norm.model import NormParseError
from training.quizzes.services import BankError
from training.revisions.planning import plan_revision
from training.revisions.publishing import RevisionBlocked, publish_revision
from training.revisions.schedule import schedule_revision
from training.revisions.sync import sync_course


@click.command("import-norm")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--label", required=True, help="Name of the version, e.g. '2027 年修订版'.")
@click.option("--effective", required=True, help="Effective date, YYYY-MM-DD.")
@click.option(
    "--publish",
    "do_publish",
    is_flag=True,
    help="Publish after the preview (schedule it, if the effective date is after today).",
)
@click.option(
    "--editorial",
    "editorial_args",
    multiple=True,
    metavar="LESSON=REASON",
    help="A changed lesson whose change is editorial (nobody retrains), with the reason.",
)
def import_norm_command(
    file: Path, label: str, effective: str, do_publish: bool, editorial_args: tuple[str, ...]
) -> None:
    """Preview a revised norm against the version in force (writes nothing without --publish)."""
    editorial: dict[str, str] = {}
    for argument in editorial_args:
        number, _, reason = argument.partition("=")
        if not number.strip() or not reason.strip():
            raise click.BadParameter(
                "use LESSON=REASON, e.g. 3.2=只改正了错别字", param_hint="--editorial"
            )
        editorial[number.strip()] = reason.strip()
    try:
        effective_date = date.fromisoformat(effective)
    except ValueError as error:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--effective") from error
    current = current_norm_version()
    try:
        plan = plan_revision(
            file.read_bytes(),
            filename=file.name,
            label=label,
            effective_date=effective_date,
            old_version=current,
            old_data=current.source_bytes if current else None,
            content_dir=Path(current_app.config["CONTENT_DIR"]),
            quiz_dir=Path(current_app.config["QUIZ_DIR"]),
        )
    except NormParseError as error:
        click.echo(f"{file}: {error}", err=True)
        raise click.exceptions.Exit(1) from error
    click.echo(
        f"{plan.doc.title} · {plan.doc.source_sha256[:12]} · {label} · effective {effective_date}"
    )
    if plan.diff is not None:
        summary = plan.diff.summary()
        click.echo("sections: " + ", ".join(f"{kind} {count}" for kind, count in summary.items()))
        text = format_text(plan.diff)
        if text:
            click.echo(text)
    if plan.impact is not None:
        for lesson in plan.impact.lessons:
            if lesson.content_changed:
                click.echo(
                    f"lesson {lesson.new_number} {lesson.new_title}: content changed, retraining"
                )
        for lesson in plan.impact.removed:
            click.echo(f"lesson {lesson.old_number} {lesson.old_title}: removed")
    for item in plan.flagged:
        marker = "BLOCKS" if item.blocking else "held until reviewed"
        click.echo(f"{marker}: quizzes/{item.path}: {item.question_id}: {item.reason}")
    for problem in plan.problems:
        click.echo(f"problem: {problem}", err=True)
    if not do_publish:
        click.echo("Preview only; nothing was written. Add --publish to publish.")
        if plan.blocked:
            raise click.exceptions.Exit(1)
        return
    try:
        if plan.effective_date > company_today():
            version = schedule_revision(plan, editorial=editorial)
            db.session.commit()
            click.echo(
                f"Scheduled {version.source_sha256[:12]} to take effect on "
                f"{plan.effective_date}; nothing else changes until then."
            )
            return
        report = publish_revision(plan, editorial=editorial)
    except RevisionBlocked as error:
        db.session.rollback()
        click.echo(f"Publishing refused:\n{error}", err=True)
        raise click.exceptions.Exit(1) from error
    db.session.commit()
    click.echo(
        f"Published {report.version.source_sha256[:12]}: {len(report.lessons.superseded)} lessons "
        f"changed, {report.retrain_users} employees must retrain, "
        f"{report.certificates} certificates issued, {len(report.held)} questions held for review."
    )


@click.command("sync")
@click.option(
    "--repository-wins",
    "repository_wins",
    multiple=True,
    metavar="LESSON",
    help="Load quizzes/LESSON.yaml although HR published another bank for it (audited).",
)
def sync_command(repository_wins: tuple[str, ...]) -> None:
    """Load lessons and quiz banks into the database (idempotent; all or nothing).

    A bank HR published from the browser wins over its repository file until the file
    holds the same questions (`flask content export-banks`) or --repository-wins names it.
    """
    try:
        # One transaction holding the write lock from its start (SQLite; on PostgreSQL
        # sync_course takes the banks' lock), so a bank published from the browser at the
        # same moment lands wholly before or after this sync.
        with write_transaction():
            report = sync_course(
                Path(current_app.config["CONTENT_DIR"]),
                Path(current_app.config["QUIZ_DIR"]),
                repository_wins_for=repository_wins,
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
    for lesson in report.repository_won:
        click.echo(f"lesson {lesson}: quizzes/{lesson}.yaml is in force again (as asked)")
    for kept in report.kept:
        click.echo(kept.describe())


def register(app: Flask) -> None:
    """Add the revision command to the app's `flask content` group."""
    for command in (import_norm_command, sync_command):
        if command.name not in content_cli.commands:
            content_cli.add_command(command)
