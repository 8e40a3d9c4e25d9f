"""Choosing the locale of a request."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

DEFAULT = "zh_Hans_CN"
# What the switch offers: locale -> (its name in its own language, BCP 47 tag for <html lang>).
LANGUAGES = {DEFAULT: ("中文", "zh-CN"), "en": ("English", "en")}
# Each language by its own name, as the switch and HR's forms show it.
NAMES = {code: names[0] for code, names in LANGUAGES.items()}
COOKIE = "lang"
# Pages whose main part is content — the norm, lessons, questions — which is Chinese in every
# language: a reader of a translation is told so above it.
CONTENT_PAGES = frozenset(
    {
        "lessons.home",
        "lessons.lesson",
        "quizzes.quiz_start",
        "quizzes.attempt",
        "quizzes.result",
        "phrasebook.index",
        "practice.index",
        "practice.chapter",
        "practice.question",
        "practice.feedback",
        "refresher.attempt",
        "refresher.result",
        "revisions.preview",
        "revisions.review",
        "revisions.version_detail",
        "revisions.archived_lesson",
        "banks.preview",
        "reports.item_analysis",
    }
)
# Accept-Language's primary tags, mapped to the locale that serves them.
_ACCEPTED = {"zh": DEFAULT, "en": "en"}


def normalise(value: str | None) -> str | None:
    """Return the supported locale ``value`` names ("zh", "zh-CN", "en_US", …), or None."""
    if not value:
        return None
    if value in LANGUAGES:
        return value
    primary = value.replace("_", "-").split("-", 1)[0].lower()
    return _ACCEPTED.get(primary)


def select_locale() -> str:
    """Flask-Babel's locale selector: saved choice, cookie, Accept-Language, Chinese."""
    if not has_request_context():
        return DEFAULT  # a command or a job builds text in the default language
    if current_user.is_authenticated:
        saved = normalise(getattr(current_user, "locale", None))
        if saved:
            return saved
    chosen = normalise(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    match = request.accept_languages.best_match(list(_ACCEPTED))
    return _ACCEPTED[match] if match else DEFAULT
