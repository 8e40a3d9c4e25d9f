"""Translations in templates, looked up once per request.

Flask-Babel's template callables ask for the translations on every string: the request
context, the domain, the locale and the cache, each through a context-local proxy — a page
with twenty strings paid for that twenty times. The callables installed here take the
request's translations from ``g`` after the first string, and otherwise are Flask-Babel's
(the same domain, locale selector and catalogs), so a locale chosen for the request applies
to every string of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from babel.lists import format_list
from flask import Flask, g, has_app_context
from flask_babel import get_locale, get_translations


def _translations() -> Any:
    if not has_app_context():
        return get_translations()  # Flask-Babel's empty translations
    # Kept with the locale they are for: ``force_locale`` (an e-mail in its recipient's
    # language) puts a new locale in Flask-Babel's context, and the cached translations then
    # no longer apply.
    cached = g.get("_translations")
    if cached is not None and cached[0] is _current_locale():
        return cached[1]
    translations = get_translations()  # runs the locale selector once per context
    g._translations = (_current_locale(), translations)
    return translations


def _current_locale() -> Any:
    context = g.get("_flask_babel")  # where Flask-Babel keeps the locale it chose
    return getattr(context, "babel_locale", None)


def forget_request_locale() -> None:
    """Choose the locale afresh for this request (an application context that outlives a
    request, as in tests and CLI-driven clients, would otherwise keep the first one)."""
    g.pop("_flask_babel", None)
    g.pop("_translations", None)


def init_app(app: Flask) -> None:
    """Replace the template gettext callables that ``Babel.init_app`` installed."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def N_(message: str) -> str:  # noqa: N802 - the gettext convention's name
    """Mark ``message`` for the catalog without translating it now.

    For text stored as a message id and translated when it is shown (audit summaries, terms
    inside their parameters): ``pybabel extract -k N_`` collects it.
    """
    return message


def term(message: str) -> dict[str, str]:
    """A parameter value that is itself a word of the UI, translated when it is rendered.

    ``record(..., N_("把 %(name)s 设为%(role)s"), params={"role": term(N_("部门负责人"))})``
    stores ``{"t": "部门负责人"}`` and shows "department head" to an English reader.
    """
    return {"t": message}


def render(message: str, params: dict[str, Any] | None = None) -> str:
    """Translate a stored message id into the current locale and fill in its parameters.

    Text stored before messages were stored as ids (no parameters, the words already filled in)
    has no catalog entry and comes back as it was written. A translation whose placeholders do
    not match the parameters falls back to the source text rather than failing the page.
    """
    translated = _translations().ugettext(message) if message else message
    if params is None:
        return translated
    values = {
        key: _translations().ugettext(value["t"])
        if isinstance(value, dict) and isinstance(value.get("t"), str)
        else value
        for key, value in params.items()
    }
    try:
        return translated % values
    except (KeyError, TypeError, ValueError):
        return message % values


def join_words(words: Iterable[str]) -> str:
    """Join names into a list in the reader's language ("工号、姓名和部门", "a, b, and c")."""
    return format_list(list(words), locale=get_locale() or "zh_Hans_CN")
