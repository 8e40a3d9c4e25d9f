"""The language switch in the header (a form: CSRF-protected, works without JavaScript)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, has_request_context, redirect, request
from flask_babel import get_locale
from flask_login import current_user

from training.auth.views import safe_next
from training.extensions import db
from training.i18n import forget_request_locale
from training.language.selection import CONTENT_PAGES, COOKIE, DEFAULT, LANGUAGES, NAMES

bp = Blueprint("language", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.post("/language")
def choose():
    """Show the UI in the chosen language from now on, and go back to the page."""
    locale = request.form.get("locale", "")
    if locale not in LANGUAGES:
        abort(400)
    if current_user.is_authenticated and current_user.locale != locale:
        # Saved with the account, so it follows the user to another device and to e-mails.
        current_user.locale = locale
        db.session.commit()
    response = redirect(
        safe_next(request.form.get("next"), current_user if current_user.is_authenticated else None)
    )
    response.set_cookie(
        COOKIE,
        locale,
        max_age=ONE_YEAR,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


bp.before_app_request(forget_request_locale)


@bp.app_context_processor
def _language():
    """``ui_lang`` ("zh" or "en", for notes shown only to readers of a translation),
    ``html_lang`` for ``<html lang>``, and the other languages the switch offers."""
    locale = str(get_locale() or DEFAULT)
    return {
        "ui_lang": "zh" if locale == DEFAULT else locale,
        "html_lang": LANGUAGES.get(locale, LANGUAGES[DEFAULT])[1],
        "other_languages": [(code, name) for code, name in NAMES.items() if code != locale],
        # Each language by its own name ("中文", "English"), for a saved choice shown to HR.
        "language_names": NAMES,
        "shows_chinese_content": locale != DEFAULT
        and has_request_context()
        and request.endpoint in CONTENT_PAGES,
    }
