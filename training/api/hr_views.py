"""HR's page for API tokens: create (the secret shown once), see last use, revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from training.api import tokens
from training.api.models import ApiToken
from training.auth.decorators import hr_required
from training.auth.models import User
from training.extensions import db
from training.forms import choices, require_action_form

bp = Blueprint("api_tokens", __name__, url_prefix="/hr/api-tokens", template_folder="templates")


class TokenForm(FlaskForm):
    name = StringField(
        _l("用途"),
        validators=[DataRequired(_l("请写明令牌的用途。")), Length(max=100)],
        description=_l("例如：HR 系统每晚同步培训进度"),
    )
    department = SelectField(_l("可读范围"), validate_choice=True)
    submit = SubmitField(_l("创建令牌"))


def _form() -> TokenForm:
    form = TokenForm()
    names = db.session.scalars(
        select(User.department).where(User.department != "").distinct().order_by(User.department)
    )
    form.department.choices = choices([("", _("全公司")), *((name, name) for name in names)])
    return form


@bp.route("/", methods=["GET", "POST"])
@hr_required
def index():
    """Every token with its scope and last use; the form for a new one."""
    form = _form()
    secret = None
    if form.validate_on_submit():
        _token, secret = tokens.create(
            form.name.data or "", form.department.data or None, actor=current_user
        )
        db.session.commit()
        form = _form()
        form.name.data = ""
    rows = list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))
    return render_template("api/tokens.html", form=form, rows=rows, secret=secret), (
        400 if form.errors else 200
    )


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@hr_required
def revoke(token_id: int):
    """Revoke a token: the next call with it gets 401."""
    require_action_form()
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    if tokens.revoke(token, actor=current_user):
        db.session.commit()
        flash(_("已吊销令牌「%(name)s」，使用它的请求将被拒绝。", name=token.name), "success")
    else:
        flash(_("这个令牌已经吊销。"), "info")
    return redirect(url_for("api_tokens.index"))
