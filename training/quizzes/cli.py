"""``flask content stats|blind-sheet|blind-score``: the quiz banks' cues and the blind check."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from training.content.check import CHECKS
from training.content.cli import WARNINGS, content_cli, content_dir, quiz_dir
from training.course.versions import current_norm_version
from training.quizzes import blind, holds
from training.quizzes.check import check_quiz_banks, course_banks
from training.quizzes.cues import citable_clauses, clause_texts, course_cues


def _banks():
    try:
        return course_banks(content_dir(), quiz_dir())
    except ValueError as exc:
        click.echo(f"{exc}\nRun `flask content check` for every problem.", err=True)
        raise click.exceptions.Exit(1) from exc


@click.command("stats")
def stats_command() -> None:
    """Print the banks' cue statistics against the thresholds; exit 1 when one is missed."""
    doc, by_lesson, lessons = _banks()
    stats = course_cues(
        by_lesson,
        quiz_size=current_app.config["QUIZ_SIZE"],
        clauses=citable_clauses(doc),
        lessons=lessons,
        clause_texts=clause_texts(doc),
    )
    click.echo(f"bank digest: {blind.banks_digest(by_lesson)}")
    for line in stats.lines():
        click.echo(line)
    for cue in stats.cues:
        click.echo(f"cue: {cue}", err=True)
    if stats.cues:
        raise click.exceptions.Exit(1)


@click.command("blind-sheet")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=None, help="Shuffle seed (random if omitted).")
@click.option(
    "--with-practice",
    is_flag=True,
    help="Include the generated phrase drills, which practice uses but quizzes never grade.",
)
def blind_sheet_command(out: Path, seed: int | None, with_practice: bool) -> None:
    """Write a keyless, shuffled sheet of every graded item (sheet.md) and its key (key.json)."""
    _, by_lesson, _ = _banks()
    if not with_practice:
        by_lesson = {
            lesson: [q for q in questions if not q.generated]
            for lesson, questions in by_lesson.items()
        }
    seed = secrets.randbits(32) if seed is None else seed
    items = blind.make_sheet(by_lesson, seed)
    out.mkdir(parents=True, exist_ok=True)
    digest = blind.banks_digest(by_lesson)
    (out / "sheet.md").write_text(blind.render_sheet(items), "utf-8")
    key = blind.render_key(items, digest, seed)
    (out / "key.json").write_text(json.dumps(key, ensure_ascii=False, indent=1), "utf-8")
    (out / "answers.txt").write_text("".join(f"{i.number}: \n" for i in items), "utf-8")
    click.echo(f"{len(items)} items, bank digest {digest[:12]}, seed {seed}")
    click.echo(f"wrote {out / 'sheet.md'} (give this to the reader), {out / 'key.json'}")


@click.command("blind-score")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.argument("answers", type=click.Path(dir_okay=False, path_type=Path))
def blind_score_command(key_path: Path, answers: Path) -> None:
    """Score a reader's answers (lines of 'N: LETTERS') against a blind sheet's key."""
    key = json.loads(key_path.read_text("utf-8"))
    try:
        given = blind.parse_answers(answers.read_text("utf-8"))
    except blind.AnswerError as exc:
        click.echo(f"{answers}: {exc}", err=True)
        raise click.exceptions.Exit(1) from exc
    unknown = sorted(set(given) - set(key["items"]), key=int)
    if unknown:
        click.echo(f"{answers}: items not on the sheet: {', '.join(unknown)}", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"bank digest: {key['digest']}")
    for line in blind.score(key, given).lines():
        click.echo(line)


def held_warnings() -> list[str]:
    """List quiz items held for review after a revision (none without a database)."""
    if "sqlalchemy" not in current_app.extensions:
        return []  # a bare app (content tools only) has no database
    try:
        items = holds.held_items(current_norm_version())
    except SQLAlchemyError:
        return []  # no database yet: nothing has been published
    return [
        f"quizzes/{item.lesson_number}.yaml: {item.question.id}: held since a revision changed "
        f"{', '.join(c.clause for c in item.clauses)}; review it at /hr/norm/review "
        f'(or add reviewed_for: "{item.version.short_sha}" to the bank)'
        for item in items
        if item.state == holds.PENDING and item.active
    ]


def register(app: Flask) -> None:
    """Add the quiz bank commands, check and warnings to the app's `flask content` group."""
    for command in (stats_command, blind_sheet_command, blind_score_command):
        if command.name not in content_cli.commands:
            content_cli.add_command(command)
    if check_quiz_banks not in CHECKS:
        CHECKS.append(check_quiz_banks)
    if held_warnings not in WARNINGS:
        WARNINGS.append(held_warnings)
