"""Translations in templates, looked up once per request.

Flask-Babel's template callables ask for the translations on every string: the request
context, the domain, the locale and the cache, each through a context-local proxy — a page
with twenty strings paid for that twenty times. The callables installed here take the
request's translations from ``g`` after the first string, and otherwise are Flask-Babel's
(the same domain, locale selector and catalogs), so a locale chosen for the request applies
to every string of it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import get_translations


def _translations() -> Any:
    try:
        return g._translations
    except AttributeError:
        g._translations = translations = get_translations()
        return translations


def init_app(app: Flask) -> None:
    """Replace the template gettext callables that ``Babel.init_app`` installed."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
