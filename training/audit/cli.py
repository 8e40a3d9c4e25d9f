"""`flask audit …` commands: check that no evidence was rewritten after the fact."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from training.audit import chain
from training.db import write_transaction
from training.extensions import db

audit_cli = AppGroup("audit", help="Tamper evidence for the HR records.")


def _print_heads(heads: list[chain.Head]) -> None:
    for head in heads:
        click.echo(f"  {head.table:<26} row {head.last_row_id:>9}  {head.hash}")
    click.echo(f"fingerprint {chain.fingerprint(heads)}")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute every evidence chain; name the first broken link and exit 1 if there is one."""
    found = chain.verify()
    db.session.rollback()
    click.echo("chain heads:")
    _print_heads(found.heads)
    for table, count in found.unlinked.items():
        click.echo(f"not linked yet: {table}: {count} row(s) after the chain's head")
    if found.ok:
        click.echo("every chain holds")
        return
    for broken in found.breaks:
        click.echo(f"BROKEN: {broken.table} row {broken.row_id}: {broken.reason}", err=True)
    raise SystemExit(1)


@audit_cli.command("heads")
def heads_command() -> None:
    """Print each evidence table's chain head and their fingerprint (to keep a copy elsewhere)."""
    heads = chain.heads()
    db.session.rollback()
    _print_heads(heads)


@audit_cli.command("link")
def link_command() -> None:
    """Link rows not linked yet (rows from before the chains existed, or restored ones)."""
    with write_transaction():
        count = chain.link_rows(db.session.connection(), chain.EVIDENCE, everything=True)
    click.echo(f"linked {count} row(s)")


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
