"""HR view of the audit log."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/hr/audit", template_folder="templates")
