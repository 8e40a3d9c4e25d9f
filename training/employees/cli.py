"""Employee commands added to the `flask users` group."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the employee commands to `flask users`."""
