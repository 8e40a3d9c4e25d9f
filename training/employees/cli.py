"""Employee commands added to the `flask users` group."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from training.auth import links
from training.auth.cli import users_cli
from training.employees import importer, services
from training.extensions import db


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and print the summary; write nothing."
)
def import_command(file: Path, dry_run: bool) -> None:
    """Import employees from a CSV or XLSX file, all or nothing."""
    max_bytes = int(current_app.config["IMPORT_MAX_BYTES"])
    with file.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    table = importer.parse_file(data, file.name, max_bytes=max_bytes)
    problems = table.problems
    if not problems:
        existing = services.existing_users()
        problems = importer.validate(table.rows, existing)
    if problems:
        for problem in problems:
            if problem.row_number:
                line = (
                    f"{file}: row {problem.row_number}: {problem.column or '-'}: {problem.message}"
                )
            else:
                line = f"{file}: {problem.message}"
            click.echo(line, err=True)
        click.echo(f"{len(problems)} problem(s); nothing was imported.", err=True)
        raise click.exceptions.Exit(1)

    import_plan = importer.plan(table.rows, existing)
    counts = import_plan.counts()
    summary = f"{counts['new']} new, {counts['updated']} updated, {counts['unchanged']} unchanged"
    if dry_run:
        click.echo(f"{file}: {len(table.rows)} rows ({table.kind}): {summary}")
        click.echo("Dry run: nothing was written.")
        return
    try:
        result = services.apply_import(
            import_plan, filename=file.name, sha256=hashlib.sha256(data).hexdigest()
        )
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        click.echo("An employee was created meanwhile; nothing was imported. Run again.", err=True)
        raise click.exceptions.Exit(1) from error
    click.echo(f"Imported {file}: {summary}")
    if result.created:
        click.echo("Set-password links for the new accounts (shown once):")
        for account in result.created:
            user = account.user
            click.echo(f"{user.employee_no}\t{user.name}\t{links.link_url(account.token)}")


def register(app: Flask) -> None:
    """Attach the employee commands to `flask users`."""
    if "import" not in users_cli.commands:
        users_cli.add_command(import_command)
