"""`flask practice rebuild`: recompute practice schedules from the stored reviews."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from training.auth.models import User
from training.extensions import db
from training.practice.models import PracticeReview
from training.practice.store import rebuild_cards

practice_cli = AppGroup("practice", help="Practice (练习) maintenance.")


@practice_cli.command("rebuild")
@click.option("--employee-no", help="Only this employee (工号); default: everyone with reviews.")
def rebuild_command(employee_no: str | None) -> None:
    """Rebuild FSRS cards from the practice reviews (after a scheduler change, or to verify)."""
    if employee_no:
        user_id = db.session.scalar(select(User.id).where(User.employee_no_is(employee_no)))
        if user_id is None:
            raise click.ClickException(f"no employee with 工号 {employee_no}")
        user_ids = [user_id]
    else:
        user_ids = list(db.session.scalars(select(PracticeReview.user_id).distinct()))
    cards = 0
    with click.progressbar(user_ids, label="rebuilding") as bar:
        for user_id in bar:
            cards += rebuild_cards(user_id)
            db.session.commit()  # one employee at a time: a failure keeps the others
    click.echo(f"{len(user_ids)} employees, {cards} cards rebuilt from their reviews.")


def register(app: Flask) -> None:
    """Add the practice commands to the app."""
    app.cli.add_command(practice_cli)
