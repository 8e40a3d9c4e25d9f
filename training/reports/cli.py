"""`flask report …` commands."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask
from flask.cli import AppGroup

from training.extensions import db
from training.reports.export import FORMATS, WHATS, record_export, write_export
from training.reports.status import STATUS_LABELS, STATUSES, Filters, parse_status

report_cli = AppGroup("report", help="HR reports and exports.")

STATUS_CHOICES = list(STATUSES) + [str(label) for label in STATUS_LABELS.values()]


def _day(value: datetime | None):
    return value.date() if value else None


@report_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="csv or xlsx.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--what", type=click.Choice(WHATS), default="employees", show_default=True)
@click.option("--department", help="Only this department (exact name).")
@click.option("--status", type=click.Choice(STATUS_CHOICES), help="Status key or 中文 label.")
@click.option("--hired-from", type=click.DateTime(["%Y-%m-%d"]), help="入职日期 from (inclusive).")
@click.option("--hired-to", type=click.DateTime(["%Y-%m-%d"]), help="入职日期 to (inclusive).")
@click.option("--search", help="Substring of 姓名 or 工号.")
@click.option("--include-inactive", is_flag=True, help="Include deactivated employees.")
def export_command(
    fmt: str,
    out: str,
    what: str,
    department: str | None,
    status: str | None,
    hired_from: datetime | None,
    hired_to: datetime | None,
    search: str | None,
    include_inactive: bool,
) -> None:
    """Export the employee list or all quiz attempts to CSV or XLSX, with an audit event."""
    filters = Filters(
        department=department or None,
        status=parse_status(status),
        hired_from=_day(hired_from),
        hired_to=_day(hired_to),
        search=search or None,
        include_inactive=include_inactive,
    )
    if fmt == "csv":
        with open(out, "w", encoding="utf-8", newline="") as stream:
            rows = write_export(what, fmt, filters, stream)
    else:
        with open(out, "wb") as stream:
            rows = write_export(what, fmt, filters, stream)
    db.session.commit()  # end the read transaction before writing (see the web export)
    record_export(what, fmt, filters, rows)
    db.session.commit()
    click.echo(f"Exported {rows} rows to {out}")


def register(app: Flask) -> None:
    """Add the report commands to the app."""
    app.cli.add_command(report_cli)
