"""Form pieces every feature uses: select choices for this WTForms version, a CSRF-only button."""

from __future__ import annotations

from flask import abort
from flask_wtf import FlaskForm

try:
    # types-WTForms describes WTForms 3.2, which has no SelectChoice yet.
    from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
except ImportError:  # WTForms < 3.3 takes (value, label) tuples, which 3.3 deprecates
    SelectChoice = None


def choices(pairs: list[tuple[str, object]]) -> list:
    """Return SelectField choices in the form this WTForms version wants."""
    if SelectChoice is None:
        return pairs
    return [SelectChoice(value, label) for value, label in pairs]


class ActionForm(FlaskForm):
    """A button whose only field is the CSRF token."""


def require_action_form() -> None:
    """Refuse (400) a button's POST without a valid CSRF token."""
    if not ActionForm().validate_on_submit():
        abort(400)
