"""The application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_babel import gettext
from werkzeug.middleware.proxy_fix import ProxyFix

from training import config as config_module
from training.extensions import babel, csrf, db, login_manager, migrate


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the Flask application."""
    app = Flask(__name__, instance_relative_config=True)
    from training.security import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    app.jinja_env.add_extension("jinja2.ext.do")
    app.config.from_object(config_module.DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("TRAINING")
    else:
        app.config.from_mapping(test_config)
    config_module.validate_settings(app.config)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", config_module.database_url(app.instance_path))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.load_secret_key(app.instance_path)

    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        # Wrapping wsgi_app in middleware is what Flask documents for this.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A SQLite file cannot drop a connection the way a server can: pinging before every
        # checkout (a statement per request) buys nothing there.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "pool_pre_ping": False,
        }
    elif not app.config["DATABASE_PREPARED_STATEMENTS"]:
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **options,
            # psycopg prepares a statement on a server connection once it has run five times;
            # behind a transaction-mode pooler that connection is not the next one.
            "connect_args": {**options.get("connect_args", {}), "prepare_threshold": None},
        }
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.localize_callback = gettext
    from training.language.selection import select_locale

    babel.init_app(app, locale_selector=select_locale)

    from training import errors, i18n, logs, security

    i18n.init_app(app)

    logs.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        from training.db import configure_sqlite

        configure_sqlite(engine)
    from training.audit import chain

    chain.configure(engine)
    from training.reports import standing

    standing.configure()

    # Import models so metadata is complete for migrations.
    from training.api import models as _api_models  # noqa: F401
    from training.assignments import models as _assignment_models  # noqa: F401
    from training.audit import models as _audit_models  # noqa: F401
    from training.auth import models as _auth_models  # noqa: F401
    from training.banks import models as _bank_models  # noqa: F401
    from training.course import models as _course_models  # noqa: F401
    from training.employees import models as _employee_models  # noqa: F401
    from training.jobs import models as _job_models  # noqa: F401
    from training.notifications import models as _notification_models  # noqa: F401
    from training.practice import models as _practice_models  # noqa: F401
    from training.quizzes import models as _quiz_models  # noqa: F401
    from training.refresher import models as _refresher_models  # noqa: F401
    from training.xapi import models as _xapi_models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from training.api.hr_views import bp as api_tokens_bp
    from training.api.views import bp as api_bp
    from training.audit.views import bp as audit_bp
    from training.auth.views import bp as auth_bp
    from training.banks.views import bp as banks_bp
    from training.employees.views import bp as employees_bp
    from training.jobs.views import bp as jobs_bp
    from training.language.views import bp as language_bp
    from training.lessons.views import bp as lessons_bp
    from training.notifications.views import bp as notifications_bp
    from training.phrasebook.views import bp as phrasebook_bp
    from training.practice.views import bp as practice_bp
    from training.quizzes.views import bp as quizzes_bp
    from training.refresher.views import bp as refresher_bp
    from training.reports.views import bp as reports_bp
    from training.revisions.views import bp as revisions_bp
    from training.xapi.views import bp as xapi_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(language_bp)
    app.register_blueprint(lessons_bp)
    app.register_blueprint(quizzes_bp)
    app.register_blueprint(employees_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(practice_bp)
    app.register_blueprint(phrasebook_bp)
    app.register_blueprint(revisions_bp)
    app.register_blueprint(refresher_bp)
    app.register_blueprint(banks_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(xapi_bp)


def _register_cli(app: Flask) -> None:
    from training import backup, db_role
    from training.audit.cli import register as register_audit_cli
    from training.banks.cli import register as register_bank_cli
    from training.content.cli import register as register_content_cli
    from training.employees.cli import register as register_employee_cli
    from training.jobs.cli import register as register_jobs_cli
    from training.language.cli import register as register_language_cli
    from training.notifications.cli import register as register_notify_cli
    from training.practice.cli import register as register_practice_cli
    from training.quizzes.cli import register as register_quiz_cli
    from training.reports.cli import register as register_report_cli
    from training.revisions.cli import register as register_revision_cli
    from training.xapi.cli import register as register_xapi_cli

    register_audit_cli(app)
    register_bank_cli(app)
    register_content_cli(app)
    register_employee_cli(app)
    register_jobs_cli(app)
    register_language_cli(app)
    register_notify_cli(app)
    register_practice_cli(app)
    register_quiz_cli(app)
    register_report_cli(app)
    register_revision_cli(app)
    register_xapi_cli(app)
    backup.register(app)
    db_role.register(app)
