"""``flask db-role grant ROLE``: let the app run as a PostgreSQL role that does not own the tables.

The append-only triggers and the BEFORE TRUNCATE triggers guard the evidence tables, but a
table's owner can drop or disable them. So the owner runs the migrations, and the app connects
as another role that may read and write rows and nothing more: it cannot drop, disable or
alter a trigger, truncate a table or change the schema. ``ALTER DEFAULT PRIVILEGES FOR ROLE
<owner>`` gives the role the same rights on tables and sequences that later migrations create:
default privileges belong to the role that creates the objects, so they are set for the role
that runs the migrations (the owner of ``alembic_version``, or ``--owner``), whoever grants.
"""

from __future__ import annotations

import re

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import text

from training.extensions import db

db_role_cli = AppGroup("db-role", help="The database role the app runs as (PostgreSQL).")

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_statements(role: str, owner: str) -> list[str]:
    """Return the statements that give ``role`` row access to every table, and no more.

    ``owner`` is the role that runs the migrations: the tables it creates later get the same
    grants.
    """
    for name in (role, owner):
        if not ROLE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a plain role name (lower case, digits, _)")
    defaults = f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"{defaults} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"{defaults} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def migrations_owner() -> str | None:
    """The role that owns ``alembic_version`` (it ran the migrations), on PostgreSQL."""
    if db.engine.dialect.name != "postgresql":
        return None
    return db.session.scalar(
        text("SELECT tableowner FROM pg_tables WHERE tablename = 'alembic_version'")
    )


@db_role_cli.command("grant")
@click.argument("role")
@click.option("--print", "only_print", is_flag=True, help="Print the SQL instead of running it.")
@click.option(
    "--owner",
    default=None,
    help="The role that runs the migrations (default: the owner of alembic_version).",
)
def grant_command(role: str, only_print: bool, owner: str | None) -> None:
    """Grant ROLE (which must exist) row access to the app's tables; run as the tables' owner."""
    if not ROLE_NAME.fullmatch(role):
        raise click.BadParameter(
            f"{role!r} is not a plain role name (lower case, digits, _)", param_hint="ROLE"
        )
    owner = owner or migrations_owner()
    if owner is None:
        raise click.UsageError("name the role that runs the migrations with --owner")
    try:
        statements = grant_statements(role, owner)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="ROLE or --owner") from exc
    if only_print:
        click.echo(";\n".join(statements) + ";")
        return
    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("SQLite has no roles: protect the file with its permissions")
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()
    click.echo(f"granted {role} row access to every table; it owns none of them")


def register(app: Flask) -> None:
    app.cli.add_command(db_role_cli)
