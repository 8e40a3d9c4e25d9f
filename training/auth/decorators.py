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


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Allow HR and managers (who see their own departments only); others get 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            from training.extensions import login_manager

            return login_manager.unauthorized()
        if not (current_user.is_hr or current_user.is_manager):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def department_scope(viewer: Any) -> tuple[str, ...] | None:
    """Return the departments a viewer may see: None for HR (all), a manager's own, else ()."""
    if viewer.is_hr:
        return None
    if viewer.is_manager:
        return viewer.departments_managed
    return ()


def may_view(viewer: Any, employee: Any) -> bool:
    """Return True if the viewer (HR, or the employee's department's manager) may see them."""
    scope = department_scope(viewer)
    return scope is None or employee.department in scope
