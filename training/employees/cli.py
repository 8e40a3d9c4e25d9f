"""`flask users …`: account and employee commands for set-up and scripted administration."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from training.audit.services import record
from training.auth import links
from training.auth.models import Role, User
from training.auth.passwords import generate_password, hash_password
from training.employees import importer, services
from training.extensions import db
from training.i18n import N_

users_cli = AppGroup("users", help="Manage employee accounts.")


def _create(employee_no: str, name: str, department: str, role: Role) -> str:
    password = generate_password()
    db.session.add(
        User(
            employee_no=employee_no,
            name=name,
            department=department,
            role=role,
            password_hash=hash_password(password),
            must_change_password=True,
        )
    )
    db.session.commit()
    return password


def _print_credentials(employee_no: str, password: str) -> None:
    click.echo(f"工号 (employee no.): {employee_no}")
    click.echo(f"一次性密码 (one-time password): {password}")
    click.echo("This password is shown once; it must be changed at first login.")


@users_cli.command("ensure-hr")
@click.option("--employee-no", default="HR0001", show_default=True, help="工号 for the account.")
@click.option("--name", default="人事管理员", show_default=True)
@click.option("--department", default="人事行政部", show_default=True)
def ensure_hr(employee_no: str, name: str, department: str) -> None:
    """Create the first HR account, with a one-time password, if there is no active HR account."""
    has_hr = db.session.scalar(
        select(User.id).where(User.role == Role.HR, User.active.is_(True)).limit(1)
    )
    if has_hr is not None:
        click.echo("An active HR account exists; nothing to do.")
        return
    if db.session.scalar(select(User.id).where(User.employee_no_is(employee_no))):
        raise click.ClickException(
            f"工号 {employee_no} is taken by a non-HR account; pass --employee-no"
        )
    password = _create(employee_no, name, department, Role.HR)
    created = db.session.scalar(select(User).where(User.employee_no_is(employee_no)))
    record(
        "user.create",
        N_("创建首个人事账号 %(employee_no)s（%(name)s）"),
        params={"employee_no": employee_no, "name": name},
        target=created,
    )
    db.session.commit()
    click.echo("Created the first HR account.")
    _print_credentials(employee_no, password)


@users_cli.command("create")
@click.argument("employee_no")
@click.option("--name", required=True)
@click.option("--department", default="")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.LEARNER.value,
    show_default=True,
)
@click.option(
    "--hire-date", type=click.DateTime(formats=["%Y-%m-%d"]), help="入职日期, YYYY-MM-DD."
)
@click.option("--position", default="", help="岗位.")
@click.option("--email", default="")
def create(
    employee_no: str,
    name: str,
    department: str,
    role: str,
    hire_date,
    position: str,
    email: str,
) -> None:
    """Create one account, assign the course and print its set-password link."""
    employee_no, name, email = employee_no.strip(), name.strip(), email.strip()
    if not name:
        raise click.ClickException("--name must not be empty")
    problem = importer.check_employee_no(employee_no) or importer.check_email(email)
    if problem:
        raise click.ClickException(problem)
    taken = db.session.scalar(select(User.employee_no).where(User.employee_no_is(employee_no)))
    if taken:
        raise click.ClickException(f"工号 {taken} already exists")
    account = services.create_employee(
        employee_no=employee_no,
        name=name,
        department=department.strip(),
        hire_date=hire_date.date() if hire_date else None,
        email=email,
        position=position.strip(),
        role=Role(role),
        source="cli",
    )
    db.session.commit()
    hours = current_app.config["PASSWORD_LINK_HOURS"]
    click.echo(f"工号 (employee no.): {employee_no}")
    click.echo(f"设置密码链接 (set-password link): {links.link_url(account.link_token)}")
    click.echo(f"The link is shown once, works once and expires in {hours} hours.")


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and print the summary; write nothing."
)
def import_command(file: Path, dry_run: bool) -> None:
    """Import employees from a CSV or XLSX file, all or nothing."""
    max_bytes = current_app.config["IMPORT_MAX_BYTES"]
    with file.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    table = importer.parse_file(
        data, file.name, max_bytes=max_bytes, max_rows=current_app.config["IMPORT_MAX_ROWS"]
    )
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
            url = links.link_url(account.token) if account.token else ""
            click.echo(f"{account.employee_no}\t{account.name}\t{url}")


def register(app: Flask) -> None:
    """Add the `flask users` group with its commands."""
    if "import" not in users_cli.commands:
        users_cli.add_command(import_command)
    app.cli.add_command(users_cli)
