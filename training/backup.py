"""``flask backup create|restore``: a consistent copy of the database, and putting one back.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies pages under SQLite's own
locking, so a backup taken while others write holds every transaction committed before it
started and none half-written. (A plain ``cp`` of a live WAL database does not: it misses
what is still in the -wal file.) PostgreSQL: ``pg_dump --format=custom`` and
``pg_restore --clean``, which must be installed where the command runs.

A restore checks the copy first: it must be a database of this application at the schema
revision the code expects (run ``flask db upgrade`` on an older copy after restoring it into
a scratch database), and it refuses to overwrite the live database without ``--yes``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.engine import make_url

from training.audit import chain
from training.extensions import db

backup_cli = AppGroup("backup", help="Back up the database, or restore a backup.")


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def head_revision() -> str:
    """The schema revision this code expects."""
    directory = current_app.extensions["migrate"].directory
    return ScriptDirectory(directory).get_current_head() or ""


def _sqlite_path() -> Path:
    database = _url().database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(database)


def _revision_of_sqlite(path: Path) -> str:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"{path}: the integrity check fails: {check}")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a database of this application ({exc})") from exc
    return row[0] if row else ""


def create(target: Path) -> str:
    """Write a consistent backup of the database to ``target``; return what was done."""
    url = _url()
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path())
        partial = target.with_name(target.name + ".partial")
        try:
            copy = sqlite3.connect(partial)
            with copy:
                source.backup(copy)  # whole database in one step: one consistent snapshot
            copy.close()
        finally:
            source.close()
        partial.rename(target)  # the file appears complete or not at all
        return f"SQLite online backup of {_sqlite_path()} at revision {_revision_of_sqlite(target)}"
    if url.get_backend_name() == "postgresql":
        _run(["pg_dump", "--format=custom", f"--file={target}", *_pg_args(url)])
        return f"pg_dump (custom format) of database {url.database}"
    raise BackupError(f"no backup method for {url.get_backend_name()}")


def restore(source: Path, *, confirmed: bool) -> str:
    """Replace the database with the backup at ``source`` (checked first); say what was done."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    url = _url()
    expected = head_revision()
    if url.get_backend_name() == "sqlite":
        found = _revision_of_sqlite(source)
        if found != expected:
            raise BackupError(
                f"{source}: schema revision {found or 'none'}, this code expects {expected}"
            )
        if not confirmed:
            raise BackupError(f"this replaces {_sqlite_path()}; add --yes to go ahead")
        db.session.remove()
        db.engine.dispose()  # no connection of ours keeps the old file open
        backup = sqlite3.connect(source)
        live = sqlite3.connect(_sqlite_path())
        try:
            with live:
                backup.backup(live)  # the live file is rewritten under SQLite's own lock
        finally:
            backup.close()
            live.close()
        return f"restored {source} into {_sqlite_path()} (revision {found}); {_verify_chains()}"
    if url.get_backend_name() == "postgresql":
        if shutil.which("pg_restore") is None:
            raise BackupError("pg_restore is not installed")
        listing = _run(["pg_restore", "--list", str(source)])
        if "alembic_version" not in listing:
            raise BackupError(f"{source}: not a pg_dump of this application")
        if not confirmed:
            raise BackupError(f"this replaces database {url.database}; add --yes to go ahead")
        db.session.remove()
        db.engine.dispose()
        restore_args = ["--clean", "--if-exists", "--single-transaction", "--no-owner"]
        _run(["pg_restore", *restore_args, *_pg_args(url), str(source)])
        with db.engine.connect() as conn:
            found = MigrationContext.configure(conn).get_current_revision() or ""
        if found != expected:
            raise BackupError(
                f"restored, but the schema revision is {found or 'none'} and this code expects "
                f"{expected}: run `flask db upgrade`"
            )
        return (
            f"pg_restore of {source} into database {url.database} (revision {found}); "
            f"{_verify_chains()}"
        )
    raise BackupError(f"no restore method for {url.get_backend_name()}")


def _verify_chains() -> str:
    """Check the restored evidence chains; raise naming the first broken link."""
    found = chain.verify()
    db.session.rollback()
    if not found.ok:
        problems = [f"{b.table} row {b.row_id}: {b.reason}" for b in found.breaks]
        problems += [f"{table}: {n} row(s) without a link" for table, n in found.unlinked.items()]
        raise BackupError(f"restored, but the evidence chains do not hold: {'; '.join(problems)}")
    return f"evidence chains hold (fingerprint {chain.fingerprint(found.heads)})"


def _pg_args(url) -> list[str]:
    args = [f"--dbname={url.database}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    return args


def _run(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed")
    env = None
    password = _url().password
    if password:
        env = {**os.environ, "PGPASSWORD": str(password)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:500]}")
    return result.stdout


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create_command(path: Path) -> None:
    """Write a consistent backup of the database to PATH (safe while the app runs)."""
    try:
        click.echo(create(path))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Really replace the live database.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database with the backup at PATH (stop the app first)."""
    try:
        click.echo(restore(path, confirmed=yes))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc


def register(app: Flask) -> None:
    app.cli.add_command(backup_cli)
