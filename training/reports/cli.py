"""`flask report …` commands."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add the report commands to the app."""
