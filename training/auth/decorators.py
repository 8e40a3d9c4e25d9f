"""Role checks for views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user


def hr_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Allow only logged-in HR staff; everyone else gets 403 (anonymous: the login page)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            from training.extensions import login_manager

            return login_manager.unauthorized()
        if not current_user.is_hr:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
