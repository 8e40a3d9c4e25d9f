"""Generic error pages; they never reveal internals."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from training.extensions import db
from training.logs import log

API_PATH = "/api/"


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("请求无效"), _("提交的内容无法处理。请返回上一页，刷新后重试。")),
        403: (_("没有权限"), _("您没有访问此页面的权限。")),
        404: (_("页面不存在"), _("您要找的页面不存在或已被移除。")),
        405: (_("请求无效"), _("不支持这种访问方式。")),
        413: (_("文件过大"), _("上传的文件超过了大小限制。")),
        429: (_("请求过于频繁"), _("请稍后再试。")),
        500: (
            _("服务器出错"),
            _("系统暂时出现问题，已记录。请稍后再试；如需联系管理员，请告知下面的错误编号。"),
        ),
    }


def render_error(code: int, detail: str | None = None, *, request_id: str | None = None):
    """Render the error page for an HTTP status code (with the request id for a 500)."""
    title, message = _messages().get(code, (_("出错了"), _("请求未能完成。")))
    return render_template(
        "errors/error.html",
        code=code,
        title=title,
        message=detail or message,
        request_id=request_id,
    ), code


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return render_error(400, _("表单已过期或来源无效，请刷新页面后重新提交。"))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = error.code or 500
        if request.path.startswith(API_PATH):
            # The JSON API answers in JSON, also where routing fails before its blueprint.
            return {"error": error.name.lower(), "status": code}, code
        return render_error(code)

    @app.errorhandler(500)
    def _server_error(error):
        db.session.rollback()
        cause = getattr(error, "original_exception", None) or error
        log.error(
            "unhandled error",
            exc_info=(type(cause), cause, cause.__traceback__),
            extra={"event": "error", "path": request.path, "method": request.method},
        )
        return render_error(500, request_id=g.get("request_id"))
