"""HR dashboard, employee list, employee page and exports."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/hr", template_folder="templates")
