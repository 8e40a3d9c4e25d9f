"""``flask content``: build lessons from the norm, show its outline, check content/."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from training.content.build import build
from training.content.check import run_checks
from training.content.generated import DistractorError
from training.content.outline import OUTLINE_FILE, OutlineError, load_outline
from training.content.summaries import SummaryError
from training.norm.model import NormParseError

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"

content_cli = AppGroup("content", help="Build and check lessons generated from the service norm.")


def content_dir() -> Path:
    """Return the content folder from config (CONTENT_DIR), defaulting to the repo's content/."""
    return Path(current_app.config.get("CONTENT_DIR", DEFAULT_CONTENT_DIR))


def quiz_dir() -> Path:
    """Return the quiz bank folder from config (QUIZ_DIR), defaulting to the repo's quizzes/."""
    return Path(current_app.config.get("QUIZ_DIR", DEFAULT_CONTENT_DIR.parent / "quizzes"))


# Features add callables returning warning lines to print after `flask content check`.
WARNINGS: list[Callable[[], list[str]]] = []


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)


@content_cli.command("build")
@click.argument("source", required=False, type=click.Path(dir_okay=False, path_type=Path))
def build_command(source: Path | None) -> None:
    """Generate lessons and generated quiz items from the norm (source from outline.yaml)."""
    try:
        report = build(content_dir(), source, quiz_dir())
    except DistractorError as exc:
        _fail(f"{exc}\nNothing was written.")
    except NormParseError as exc:
        _fail(f"{exc}\nNothing was written.")
    except (OutlineError, SummaryError) as exc:
        _fail(f"{exc}\nNothing was written.")
    except FileNotFoundError as exc:
        _fail(f"{exc.filename}: file not found\nNothing was written.")
    for name in report.written:
        click.echo(f"written    lessons/{name}")
    for name in report.removed:
        click.echo(f"removed    lessons/{name}")
    click.echo(f"Lessons: {report.summary()}.")
    for name in report.banks_written:
        click.echo(f"written    quizzes/generated/{name}")
    for name in report.banks_removed:
        click.echo(f"removed    quizzes/generated/{name}")
    click.echo(
        f"Generated quiz banks: {len(report.banks_written)} written, "
        f"{len(report.banks_unchanged)} unchanged, {len(report.banks_removed)} removed."
    )


@content_cli.command("outline")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a tree.")
@click.option("--raw", is_flag=True, help="Ignore the title overrides in outline.yaml.")
def outline_command(source: Path, as_json: bool, raw: bool) -> None:
    """Print the numbered sections the parser finds in SOURCE."""
    from training.norm.parse import outline, parse_file

    titles = {}
    if not raw and (content_dir() / OUTLINE_FILE).exists():
        try:
            titles = load_outline(content_dir() / OUTLINE_FILE).titles
        except OutlineError as exc:
            _fail(str(exc))
    try:
        doc = parse_file(source, title_overrides=titles)
    except NormParseError as exc:
        _fail(str(exc))
    rows = outline(doc)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(doc.title)
    for row in rows:
        indent = "  " * (row["level"] - 1)
        click.echo(f"{indent}{row['number']} {row['title'] or '(无标题)'}  [{row['hash'][:12]}]")


@content_cli.command("check")
def check_command() -> None:
    """Validate content/: outline, 要点, lesson front matter, lessons equal a fresh build."""
    problems = run_checks(content_dir(), current_app)
    for problem in problems:
        click.echo(str(problem), err=True)
    for warning in (line for source in WARNINGS for line in source()):
        click.echo(f"warning: {warning}", err=True)
    if problems:
        _fail(f"{len(problems)} problem(s) found.")
    lessons = len(list((content_dir() / "lessons").glob("*.md")))
    click.echo(
        f"Content OK: outline.yaml and {lessons} lessons match the norm; quiz banks are valid."
    )


def register(app: Flask) -> None:
    """Add the `flask content` group; other features add their commands to it."""
    app.cli.add_command(content_cli)
