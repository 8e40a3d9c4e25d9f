"""Response headers, login-everywhere and the session user loader."""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from training.auth import services
from training.extensions import login_manager
from training.i18n import N_

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# Endpoints reachable without logging in.
API_PREFIX = "api."
PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.set_password",
        "auth.sso_start",
        "auth.sso_callback",
        "language.choose",
        "static",
    }
)
# Endpoints a user who must replace a one-time password may still use.
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {"auth.change_password", "auth.logout", "language.choose", "static"}
)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` for database ids: 1 … 2**63 - 1, so an id beyond 64 bits is a 404, not an
    overflow in the driver (SQLite refuses it with a 500)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's parameter name
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


HSTS = "max-age=31536000; includeSubDomains"


@login_manager.user_loader
def _load_user(token: str):
    return services.load_session_user(token)


def set_security_headers(response: Response) -> Response:
    """Add the headers every response carries."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure or current_app.config["PREFERRED_URL_SCHEME"] == "https":
        # Only over HTTPS (a proxy's X-Forwarded-Proto counts once PROXY_COUNT trusts it):
        # browsers ignore the header on plain HTTP and a local `make run` stays usable.
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def refuse_nul():
    """Answer 400 to a NUL character in the path, the query or a form field.

    No text the app stores or looks up may hold one (PostgreSQL refuses it outright, with an
    error that would otherwise be a 500), and no honest browser sends one.
    """
    if "\x00" in request.path or any("\x00" in v for v in request.args.values()):
        abort(400)
    if request.method not in ("GET", "HEAD") and any("\x00" in v for v in request.form.values()):
        abort(400)
    return None


def require_login():
    """Send anonymous visitors to the login page; one-time passwords must be replaced first."""
    # Always check the session against the database for this request, even
    # where an application context (and its cached user) outlives a request,
    # as in tests and CLI-driven clients.
    g.pop("_login_user", None)
    # Likewise Flask-WTF's token of the request (the header's language switch asks for one
    # on every page, the error pages included): made afresh from this request's session.
    g.pop("csrf_token", None)
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    if endpoint.startswith(API_PREFIX):
        return None  # the API takes bearer tokens, never the session (training.api.views)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if services.password_change_pending(current_user) and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        # A one-time password is replaced before anything else; someone who signed in
        # through the directory did not use it.
        return redirect(url_for("auth.change_password"))
    return None


def init_app(app: Flask) -> None:
    """Wire the security hooks into the app."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("请先登录。")  # translated when flashed (localize_callback)
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session is the protection
    app.before_request(refuse_nul)
    app.before_request(require_login)
    app.after_request(set_security_headers)
