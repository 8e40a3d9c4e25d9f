"""HR actions on employees (create, import, links, deactivate, assign)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("employees", __name__, url_prefix="/hr/employees", template_folder="templates")
