"""Practice pages: today's set, by chapter, weak spots."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("practice", __name__, url_prefix="/practice", template_folder="templates")
