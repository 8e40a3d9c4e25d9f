"""Login, logout, password change and one-time set-password links."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from training.auth import directory, links, oauth, passwords, services, signin
from training.auth.forms import ChangePasswordForm, LoginForm, SetPasswordForm
from training.auth.models import EMPLOYEE_NO_MAX, EMPLOYEE_NO_RE, SignInMethod, User
from training.db import reads_first, utcnow
from training.extensions import db
from training.logs import security_event

bp = Blueprint("auth", __name__, template_folder="templates")


def client_address() -> str:
    """Return the client's address as the (proxy-corrected) WSGI environ reports it."""
    return request.remote_addr or "unknown"


def landing(user: User) -> str:
    """Return where a user starts: HR on the dashboard, a manager on their people, others home."""
    if user.is_hr:
        return url_for("reports.dashboard")
    if user.is_manager:
        return url_for("reports.employee_list")
    return url_for("lessons.home")


def safe_next(target: str | None, user: User | None = None) -> str:
    """Return a same-site path to go to after login, or the user's landing page."""
    # Control characters (a CR/LF smuggled into a header, a NUL) and overlong values are
    # refused before parsing: the answer is the landing page, never an error.
    if target and len(target) <= 2000 and target.isprintable() and "\\" not in target:
        try:
            parts = urlsplit(target)
        except ValueError:  # e.g. "//[::1" (an unclosed IPv6 host)
            parts = urlsplit("//refused")
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return landing(user) if user is not None else url_for("lessons.home")


REFUSALS = {
    signin.Refusal.DIRECTORY_UNAVAILABLE: _l("暂时无法连接公司目录，请稍后再试。"),
    signin.Refusal.NOT_PROVISIONED: _l(
        "公司账号验证通过，但培训系统中还没有您的账号，请联系人事行政部开通。"
    ),
    signin.Refusal.DIRECTORY_INCOMPLETE: _l(
        "公司账号验证通过，但公司目录中缺少开通账号所需的信息（姓名或工号），请联系人事行政部。"
    ),
}

# Refusals of a sign-in through an identity provider (sso_callback).
SSO_REFUSALS = {
    signin.Refusal.STATE: _l(
        "这次登录请求已失效或不是从本站发起的（可能已使用过或已超过十分钟），"
        "请在登录页重新点击企业账号登录。"
    ),
    signin.Refusal.PROVIDER: _l(
        "企业账号登录未完成：身份提供方拒绝了登录，或其返回的身份信息未通过校验。"
        "请重新登录；如仍不行，请联系信息部。"
    ),
    signin.Refusal.PROVIDER_UNAVAILABLE: _l("暂时无法连接企业账号登录服务，请稍后再试。"),
    signin.Refusal.NOT_PROVISIONED: _l(
        "企业账号验证通过，但培训系统中没有与之对应的账号（按%(field)s匹配），"
        "请联系人事行政部开通。"
    ),
    signin.Refusal.DIRECTORY_INCOMPLETE: _l(
        "企业账号验证通过，但身份信息中缺少开通账号所需的姓名或工号，请联系人事行政部。"
    ),
    signin.Refusal.AMBIGUOUS: _l(
        "企业账号对应到培训系统中的多个账号（按%(field)s匹配），无法确定是哪一个，"
        "请联系人事行政部。"
    ),
    signin.Refusal.INACTIVE: _l("您的培训系统账号已停用，无法登录。如有疑问请联系人事行政部。"),
}
FIELD_LABELS = {"employee_no": _l("工号"), "email": _l("邮箱")}


def prefilled_employee_no() -> str | None:
    """The 工号 the login page was opened for (``?employee_no=``, after setting a password).

    Only a well-formed 工号 is taken; anything else is ignored and the field stays empty.
    """
    value = request.args.get("employee_no", "")
    if len(value) <= EMPLOYEE_NO_MAX and EMPLOYEE_NO_RE.fullmatch(value):
        return value
    return None


def _login_page(form: LoginForm, status: int = 200):
    """The login form, which says which account to use when the directory is on."""
    config = current_app.config
    prefilled = False
    if request.method == "GET" and not form.employee_no.data:
        form.employee_no.data = prefilled_employee_no()
        prefilled = form.employee_no.data is not None
    return render_template(
        "auth/login.html",
        form=form,
        prefilled=prefilled,
        directory=directory.enabled(config),
        password_roles=config["PASSWORD_LOGIN_ROLES"],
        providers=[(key, oauth.LABELS[key]) for key in oauth.enabled(config)],
        next_url=request.args.get("next", ""),
    ), status


def _throttled(throttle: services.Throttle, form: LoginForm):
    """The login page again, 429, saying until when sign-in is refused."""
    flash(
        _(
            "登录失败次数过多，请在 %(time)s 之后再试。",
            time=format_datetime(throttle.retry_after, "HH:mm:ss"),
        ),
        "error",
    )
    return _login_page(form, 429)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the employee in (a password kept here, or the directory)."""
    if current_user.is_authenticated:
        return redirect(url_for("lessons.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form)
    # DataRequired: both fields hold text once the form validates.
    employee_no = cast(str, form.employee_no.data).strip()
    password = cast(str, form.password.data)
    address = client_address()
    # The directory matches 工号 whatever their case: so does the throttle, or each spelling
    # of one 工号 would have a count of its own.
    key = employee_no.casefold()
    throttle = services.check_throttle(key, address)
    if throttle.blocked:
        security_event("login.throttled", employee_no=employee_no, address=address)
        return _throttled(throttle, form)
    # Counted as a failure now, in this short write transaction; the credentials are checked
    # after it (argon2, the directory), without holding any lock others wait for.
    attempt_id = services.record_attempt(key, address)
    checked = signin.check(employee_no, password)
    decision = signin.finish(checked)
    user, refusal = decision.user, decision.refusal
    if refusal is not None or user is None:
        refusal = refusal or signin.Refusal.CREDENTIALS
        security_event(
            "login.failed",
            employee_no=employee_no,
            address=address,
            reason=refusal.value,
            method=checked.tried.value,
        )
        if not checked.counted:
            services.forget_attempt(attempt_id)
            db.session.commit()
        flash(REFUSALS.get(refusal) or _("工号或密码不正确，或账号已停用。"), "error")
        return _login_page(form)
    method = checked.tried
    services.attempt_succeeded(attempt_id)
    # A fresh cookie session and a fresh server-side session: nothing from
    # before login (a planted session id) survives it.
    session.clear()
    services.start_session(
        user, user_agent=request.user_agent.string, address=address, method=method
    )
    db.session.commit()
    login_user(user)
    security_event("login.succeeded", user_id=user.id, address=address, method=method.value)
    if user.must_change_password and method == SignInMethod.PASSWORD:
        flash(_("这是一次性密码，请先设置您自己的密码。"), "info")
        return redirect(url_for("auth.change_password"))
    return redirect(safe_next(request.args.get("next"), user))


def _sso_refused(refusal: signin.Refusal, key: str, address: str, detail: str = ""):
    security_event(
        "login.failed", address=address, reason=refusal.value, method=key, detail=detail[:300]
    )
    field = FIELD_LABELS.get(current_app.config.get(key.upper() + "_MATCH_FIELD", ""), "")
    flash(SSO_REFUSALS[refusal] % {"field": field}, "error")
    return redirect(url_for("auth.login"))


@bp.route("/login/sso/<provider>")
def sso_start(provider: str):
    """Send the browser to the identity provider (OIDC, 企业微信, 钉钉, 飞书) to sign in.

    A GET, as every provider's login starts from a link: it changes nothing but this
    browser's pending login (a fresh state), which the callback checks.
    """
    chosen = oauth.provider(current_app.config, provider)
    if chosen is None:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("lessons.home"))
    redirect_uri = url_for("auth.sso_callback", provider=provider, _external=True)
    next_url = request.args.get("next", "")
    try:
        # Only a same-site path is kept; anything else ends on the person's landing page.
        kept = next_url if next_url and safe_next(next_url) == next_url else ""
        url = oauth.begin(chosen, session, redirect_uri, kept)
    except oauth.ProviderError as error:
        refusal = (
            signin.Refusal.PROVIDER_UNAVAILABLE if error.unavailable else signin.Refusal.PROVIDER
        )
        return _sso_refused(refusal, provider, client_address(), str(error))
    return redirect(url)


@bp.route("/login/sso/<provider>/callback")
def sso_callback(provider: str):
    """Finish a sign-in through the identity provider: check, match, start the session."""
    config = current_app.config
    chosen = oauth.provider(config, provider)
    if chosen is None:
        abort(404)
    address = client_address()
    # Throttled and counted per address: before the provider answers there is no 工号.
    key = f"{provider}@{address}"[:32]
    throttle = services.check_throttle(key, address)
    if throttle.blocked:
        security_event("login.throttled", address=address, method=provider)
        return _throttled(throttle, LoginForm(formdata=None))
    attempt_id = services.record_attempt(key, address)
    db.session.commit()  # counted before the provider is asked; no transaction stays open
    try:
        pending = oauth.take_pending(session, provider, request.args.get("state", ""))
    except oauth.StateError as error:
        return _sso_refused(signin.Refusal.STATE, provider, address, str(error))
    if request.args.get("error") or not request.args.get("code"):
        detail = (
            f"{request.args.get('error', 'no code')} {request.args.get('error_description', '')}"
        )
        return _sso_refused(signin.Refusal.PROVIDER, provider, address, detail)
    redirect_uri = url_for("auth.sso_callback", provider=provider, _external=True)
    try:
        identity = chosen.identity(request.args["code"], pending, redirect_uri)
    except oauth.ProviderError as error:
        if error.unavailable:
            services.forget_attempt(attempt_id)  # nothing was checked: an outage counts for none
            db.session.commit()
        refusal = (
            signin.Refusal.PROVIDER_UNAVAILABLE if error.unavailable else signin.Refusal.PROVIDER
        )
        return _sso_refused(refusal, provider, address, str(error))
    method = SignInMethod(provider)
    decision = signin.finish_external(identity, method)
    user = decision.user
    if decision.refusal is not None or user is None:
        db.session.commit()  # nothing was created; the attempt stays a failure
        refusal = decision.refusal or signin.Refusal.NOT_PROVISIONED
        return _sso_refused(
            refusal, provider, address, f"{chosen.setting('CLAIM')}={identity.value}"
        )
    services.attempt_succeeded(attempt_id)
    session.clear()
    services.start_session(
        user, user_agent=request.user_agent.string, address=address, method=method
    )
    db.session.commit()
    login_user(user)
    security_event("login.succeeded", user_id=user.id, address=address, method=method.value)
    return redirect(safe_next(pending.get("next") or None, user))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End this session on the server and in the browser."""
    services.end_session(current_user.session_token)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.app_template_global()
def may_change_password(user: User) -> bool:
    """Whether the header offers 修改密码: the account may use a password kept here."""
    return services.password_login_allowed(user)


@bp.app_template_global()
def password_change_pending(user: User) -> bool:
    """Whether the header shows only the brand and 退出: a one-time password comes first."""
    return services.password_change_pending(user)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password and end every other session."""
    if not services.password_login_allowed(current_user):
        # The company directory holds this person's password; there is none here to change.
        return render_template("auth/change_password.html", form=None), 200
    form = ChangePasswordForm(current_user)
    if form.validate_on_submit():
        # DataRequired: both passwords are text once the form validates.
        current_password = cast(str, form.current_password.data)
        new_password = cast(str, form.new_password.data)
        stored = current_user.password_hash
        with reads_first():  # argon2 runs without holding the write lock
            right = passwords.verify_password(stored, current_password)
            new_hash = passwords.hash_password(new_password) if right else ""
        if not right:
            # Validation leaves each field's errors a list.
            cast(list[str], form.current_password.errors).append(_("当前密码不正确。"))
            return render_template("auth/change_password.html", form=form), 200
        user = db.session.get_one(User, current_user.id)
        user.password_hash = new_hash
        user.must_change_password = False
        user.password_changed_at = utcnow()
        # Every session, this one included, ends; this browser gets a new one.
        services.end_all_sessions(user)
        session.clear()
        services.start_session(user, user_agent=request.user_agent.string, address=client_address())
        db.session.commit()
        login_user(user)
        flash(_("密码已修改。其他设备上的登录已全部退出。"), "success")
        return redirect(url_for("lessons.home"))
    return render_template("auth/change_password.html", form=form)


def _invalid_link():
    # One message for unknown, expired, used, revoked and deactivated: the
    # page tells the holder what to do without saying which case it is.
    return render_template("auth/set_password.html", form=None), 404


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Set a password through a one-time link, end every session and go to the login page."""
    link = links.usable_link(token)
    if link is None:
        security_event("link.refused", address=client_address())
        return _invalid_link()
    user = link.user
    form = SetPasswordForm(user)
    if form.validate_on_submit():
        with reads_first():  # argon2 runs without holding the write lock
            # DataRequired: the password is text once the form validates.
            new_hash = passwords.hash_password(cast(str, form.new_password.data))
        if not links.claim_link(link):
            db.session.rollback()
            security_event("link.refused", address=client_address(), reason="claimed")
            return _invalid_link()
        user.password_hash = new_hash
        user.must_change_password = False
        user.password_changed_at = utcnow()
        links.revoke_links(user)  # a mailed invitation and a handed-over link: one is enough
        services.end_all_sessions(user)
        if current_user.is_authenticated:
            # Whoever is logged in on this browser is sent to the login page too.
            services.end_session(current_user.session_token)
        db.session.commit()
        security_event("link.used", user_id=user.id, purpose=link.purpose, address=client_address())
        logout_user()
        session.clear()
        flash(_("密码已设置，请输入新密码登录。"), "success")
        # The 工号 is filled in on the login page: it is no secret, and it was checked as one.
        return redirect(url_for("auth.login", employee_no=user.employee_no))
    return render_template("auth/set_password.html", form=form, user=user)
