"""The 标准用语速查 page: for every signed-in employee, on a phone or printed on one A4 page."""

from __future__ import annotations

from flask import Blueprint, render_template

from training.phrasebook.services import phrasebook

bp = Blueprint("phrasebook", __name__, url_prefix="/phrases", template_folder="templates")


@bp.route("/")
def index():
    """Every prescribed phrase of the norm in force, by situation."""
    groups, version = phrasebook()
    return render_template("phrasebook/index.html", groups=groups, version=version)
