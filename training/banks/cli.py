"""``flask content export-bank``, ``import-bank``, ``export-banks`` and ``export-scorm``."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import click
from flask import Flask, current_app

from training.audit.services import record
from training.banks import formats, scorm, services
from training.content.cli import content_cli
from training.extensions import db
from training.i18n import N_


def _lessons(number: str | None):
    lessons = services.active_lessons()
    if number is None:
        return lessons
    chosen = [lesson for lesson in lessons if lesson.number == number]
    if not chosen:
        numbers = (
            ", ".join(lesson.number for lesson in lessons) or "none (run `flask content sync`)"
        )
        raise click.UsageError(f"no lesson {number}; lessons: {numbers}")
    return chosen


def export_summary(fmt: str, lesson: str | None) -> tuple[str, dict[str, str]]:
    """The audit summary of a bank export (a message id) and its parameters."""
    if lesson:
        return N_("导出题库（%(format)s，第 %(lesson)s 课）"), {"format": fmt, "lesson": lesson}
    return N_("导出题库（%(format)s，全部课程）"), {"format": fmt}


@click.command("export-bank")
@click.option("--lesson", help="Lesson number (default: every lesson, in one file).")
@click.option(
    "--format", "fmt", type=click.Choice(formats.FORMATS), default="yaml", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_bank_command(lesson: str | None, fmt: str, out: Path) -> None:
    """Write the bank in force of a lesson (or all) as YAML, XLSX, GIFT or Moodle XML."""
    lessons = _lessons(lesson)
    banks = services.export_banks(lessons, include_withdrawn=False)
    out.write_bytes(formats.write(fmt, banks))
    summary, params = export_summary(fmt, lesson)
    record(
        "export",
        summary,
        params=params,
        details={"what": "bank", "format": fmt, "lesson": lesson or "all"},
    )
    db.session.commit()
    count = sum(len(questions) for _, _, questions, _ in banks)
    click.echo(f"written {out}: {count} questions of {len(lessons)} lesson(s) as {fmt}")


@click.command("export-banks")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="e.g. quizzes/"
)
def export_banks_command(out: Path) -> None:
    """Write every bank in force back as quizzes/<lesson>.yaml, for review in git."""
    out.mkdir(parents=True, exist_ok=True)
    for number, title, questions, mark in services.export_banks(
        services.active_lessons(), include_withdrawn=True
    ):
        path = out / f"{number}.yaml"
        data = formats.write_yaml([(number, title, questions, mark)])
        if path.is_file() and path.read_bytes() == data:
            click.echo(f"unchanged  {path}")
            continue
        path.write_bytes(data)
        click.echo(f"written    {path} ({len(questions)} questions)")


@click.command("import-bank")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lesson", required=True, help="The lesson whose bank the file replaces.")
@click.option("--format", "fmt", type=click.Choice(formats.FORMATS), help="Default: by extension.")
@click.option("--publish", is_flag=True, help="Publish when the preview has no problem.")
@click.option(
    "--base",
    metavar="DIGEST",
    help="With --publish: publish only if the bank in force is still the one an earlier "
    "preview showed (the base it printed).",
)
def import_bank_command(
    file: Path, lesson: str, fmt: str | None, publish: bool, base: str | None
) -> None:
    """Check a bank file against the norm in force and show what it changes; --publish installs it.

    Publishing is refused when someone published the lesson's bank after the preview it
    follows (this run's, or the one --base names), as in the browser.
    """
    if base is not None and not publish:
        raise click.UsageError("--base goes with --publish")
    preview = services.preview_import(lesson, file.read_bytes(), file.name, fmt)
    for place, message in preview.problems:
        click.echo(f"problem  {place}: {message}" if place else f"problem  {message}", err=True)
    for place, message in preview.warnings:
        click.echo(f"warning  {place}: {message}", err=True)
    if not preview.ok:
        db.session.rollback()
        click.echo(f"{len(preview.problems)} problem(s); nothing was written.", err=True)
        raise click.exceptions.Exit(1)
    for label, items in (
        ("added", preview.added),
        ("changed", [new for _, new in preview.changed]),
        ("retired", preview.retired),
    ):
        for question in items:
            click.echo(f"{label:9}{question.id}  {question.title()}")
    click.echo(
        f"lesson {lesson}: {len(preview.questions)} questions; {len(preview.added)} added, "
        f"{len(preview.changed)} changed, {len(preview.unchanged)} unchanged, "
        f"{len(preview.retired)} retired"
    )
    click.echo(f"base {preview.base_digest}")
    if not publish:
        db.session.rollback()
        click.echo(
            "Preview only; nothing was written (add --publish to install it, and "
            f"--base {preview.base_digest} to be sure nobody published in between)."
        )
        return
    if not preview.changes_anything:
        db.session.rollback()
        click.echo("The file equals the bank in force; nothing to publish.")
        return
    try:
        row = services.publish(preview, actor=None, expected_base=base or preview.base_digest)
    except services.PublishRefused as refused:
        db.session.rollback()
        click.echo(str(refused), err=True)
        raise click.exceptions.Exit(1) from refused
    db.session.commit()
    click.echo(f"Published as publication {row.id}; it wins over quizzes/{lesson}.yaml.")


@click.command("export-scorm")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_scorm_command(out: Path) -> None:
    """Write the course as a SCORM 1.2 package: one SCO per lesson with its quiz."""
    out.write_bytes(scorm_package())
    record("export", N_("导出 SCORM 1.2 课程包"), details={"what": "scorm", "format": "zip"})
    db.session.commit()
    click.echo(f"written {out}: {len(services.active_lessons())} SCOs")


def scorm_package() -> bytes:
    """The SCORM package with the app's quiz size and default pass mark."""
    config = current_app.config
    return scorm.build_package(config["QUIZ_SIZE"], Fraction(str(config["QUIZ_PASS_MARK"])))


def register(app: Flask) -> None:
    """Add the bank commands to the app's `flask content` group."""
    for command in (
        export_bank_command,
        export_banks_command,
        import_bank_command,
        export_scorm_command,
    ):
        if command.name not in content_cli.commands:
            content_cli.add_command(command)
