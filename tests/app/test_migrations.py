"""Migrations: from an empty database, down and up again with data, and in step with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from training.auth.models import User
from training.extensions import db

FIRST_REVISION = "e0d1881b0236"


def test_models_match_migrations(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_upgrade_from_previous_revision_keeps_data(make_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(revision=FIRST_REVISION)
        assert "quiz_attempts" not in inspect(db.engine).get_table_names()
        db.session.execute(
            text(
                "INSERT INTO users (employee_no, name, department, role, must_change_password,"
                " active, created_at) VALUES ('E1', '甲', '销售部', 'learner', false, true,"
                " '2026-01-01 00:00:00+00:00')"
            )
        )
        db.session.commit()
        upgrade()
        assert "quiz_submissions" in inspect(db.engine).get_table_names()
        assert db.session.scalar(select(User.name).where(User.employee_no == "E1")) == "甲"
        downgrade(revision=FIRST_REVISION)
        assert "quiz_submissions" not in inspect(db.engine).get_table_names()
        upgrade()
        assert db.session.scalar(select(User.name).where(User.employee_no == "E1")) == "甲"
        db.engine.dispose()
