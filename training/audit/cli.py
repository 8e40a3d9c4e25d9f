"""`flask audit …` commands: check that no evidence was rewritten after the fact."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from training.audit import chain
from training.audit.services import record
from training.db import write_transaction
from training.extensions import db
from training.i18n import N_

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
    if found.ok:
        click.echo("every chain holds")
        return
    for table, count in found.unlinked.items():
        click.echo(
            f"UNLINKED: {table}: {count} row(s) without a link (not written by the app, or "
            "behind its back); check them, then adopt them with `flask audit link`",
            err=True,
        )
    for shape in found.unverifiable:
        click.echo(
            f"UNVERIFIABLE: {shape.table}: {shape.links} link(s) of column list version "
            f"{shape.version} (from row {shape.first_row_id}) {shape.reason}",
            err=True,
        )
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
@click.option("--yes", is_flag=True, help="Really adopt the rows into the chains.")
def link_command(yes: bool) -> None:
    """Adopt evidence rows that have no link (written before the chains existed, or outside
    the app) into the chains; `verify` lists them first. The adoption is audited."""
    found = chain.verify()
    db.session.rollback()
    if not found.unlinked:
        click.echo("no row without a link")
        return
    listed = ", ".join(f"{table} {count}" for table, count in found.unlinked.items())
    if not yes:
        raise click.ClickException(f"rows without a link: {listed}; add --yes to adopt them")
    with write_transaction():
        count = chain.link_rows(db.session.connection(), dict.fromkeys(chain.EVIDENCE, 0))
        record(
            "evidence.link",
            N_("将 %(count)s 条没有哈希链接的记录纳入防篡改链：%(tables)s"),
            params={"count": count, "tables": listed},
            details={"rows": count, "tables": found.unlinked},
        )
    click.echo(f"linked {count} row(s)")


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
