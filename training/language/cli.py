"""``flask translate``: keep the catalogs in step with the source (Babel's pybabel underneath).

flask translate extract    # every msgid in training/ -> training/translations/messages.pot
flask translate update     # merge the template into each language's messages.po
flask translate compile    # messages.po -> messages.mo, which the app reads
flask translate init LANG  # start a catalog for a new language
flask translate check      # exit 1 on an untranslated or fuzzy message in any catalog
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

PACKAGE = Path(__file__).resolve().parent.parent  # training/
ROOT = PACKAGE.parent
CATALOGS = PACKAGE / "translations"
TEMPLATE = CATALOGS / "messages.pot"
# The marker functions whose arguments are messages, besides gettext's own (_, gettext, …).
KEYWORDS = ("_l", "N_", "lazy_gettext")


def _pybabel(*args: str) -> None:
    status = CommandLineInterface().run(["pybabel", "-q", *args])
    if status:
        raise click.ClickException(f"pybabel {args[0]} failed ({status})")


def extract() -> Path:
    """Write every message of the package and its templates to the catalog template."""
    keywords = [part for word in KEYWORDS for part in ("-k", word)]
    _pybabel(
        "extract",
        "-F",
        str(ROOT / "babel.cfg"),
        *keywords,
        "--sort-by-file",
        "--project",
        "training",
        "-o",
        str(TEMPLATE),
        str(ROOT),
    )
    return TEMPLATE


def compile_catalogs() -> None:
    """Compile each language's messages.po into the messages.mo the app loads."""
    _pybabel("compile", "-d", str(CATALOGS), "--statistics")


def build_stale() -> list[Path]:
    """Compile each messages.po whose messages.mo is missing or older; return those built.

    Written to a temporary file and renamed, so a reader never loads half a catalog.
    """
    built = []
    for po in sorted(CATALOGS.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        partial = mo.with_name(f".{mo.name}.{os.getpid()}")
        with partial.open("wb") as f:
            write_mo(f, catalog)
        os.replace(partial, mo)
        built.append(mo)
    return built


def problems() -> list[str]:
    """Untranslated, fuzzy and placeholder-mismatched messages of every catalog."""
    found = []
    for po in sorted(CATALOGS.glob("*/LC_MESSAGES/messages.po")):
        language = po.parent.parent.name
        with po.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            if not message.id:
                continue
            where = f"{po.relative_to(ROOT)}: {message.id!r}"
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                found.append(f"{language} untranslated {where}")
            elif message.fuzzy:
                found.append(f"{language} fuzzy {where}")
            else:
                for error in message.check(catalog):
                    found.append(f"{language} {error} {where}")
    return found


def register(app: Flask) -> None:
    @app.cli.group()
    def translate() -> None:
        """Extract, update and compile the UI's translation catalogs."""

    @translate.command("extract")
    def extract_command() -> None:
        """Collect every message into training/translations/messages.pot."""
        click.echo(f"Wrote {extract().relative_to(ROOT)}.")

    @translate.command("update")
    def update_command() -> None:
        """Extract, then merge new and changed messages into each messages.po."""
        extract()
        _pybabel(
            "update",
            "-i",
            str(TEMPLATE),
            "-d",
            str(CATALOGS),
            "--ignore-obsolete",
            "--width",
            "100",
        )
        click.echo(
            "Updated the catalogs; translate the new entries, then `flask translate compile`."
        )

    @translate.command("init")
    @click.argument("language")
    def init_command(language: str) -> None:
        """Start the catalog of a new LANGUAGE (e.g. ja)."""
        extract()
        _pybabel("init", "-i", str(TEMPLATE), "-d", str(CATALOGS), "-l", language)
        click.echo(f"Created {CATALOGS.relative_to(ROOT)}/{language}/LC_MESSAGES/messages.po.")

    @translate.command("compile")
    def compile_command() -> None:
        """Compile each messages.po into the messages.mo the app reads."""
        compile_catalogs()

    @translate.command("check")
    def check_command() -> None:
        """Exit 1 if any catalog has an untranslated, fuzzy or mismatched message."""
        found = problems()
        for line in found:
            click.echo(line, err=True)
        if found:
            sys.exit(1)
        click.echo("Every catalog is complete.")
