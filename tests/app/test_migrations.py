"""Migrations: from an empty database, down and up again with data, and in step with the models."""

from __future__ import annotations

import re
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from training.auth.models import User
from training.extensions import db

FIRST_REVISION = "e0d1881b0236"


def test_models_match_migrations(app):
    with warnings.catch_warnings():
        if db.engine.dialect.name == "sqlite":
            # SQLite's reflection cannot read expression indexes, so Alembic skips comparing
            # this one (PostgreSQL compares it); that it exists is checked below.
            warnings.filterwarnings(
                "ignore", r".*expression-based index '?uq_users_employee_no_lower"
            )
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_employee_no_lower_index_exists(app):
    if db.engine.dialect.name == "sqlite":
        sql = "SELECT sql FROM sqlite_master WHERE name = 'uq_users_employee_no_lower'"
    else:
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_users_employee_no_lower'"
    definition = db.session.scalar(text(sql))
    assert definition is not None
    assert "UNIQUE" in definition.upper()
    # PostgreSQL spells it lower((employee_no)::text).
    spelled = re.sub(r'"|::text', "", definition.lower()).replace(
        "((employee_no))", "(employee_no)"
    )
    assert "lower(employee_no)" in spelled


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


def test_attempt_snapshots_become_question_versions(make_app, tmp_path):
    import json

    from training.course.models import QuizAttempt
    from training.quizzes.models import QuizAnswer
    from training.quizzes.services import attempt_questions

    url = f"sqlite:///{tmp_path / 'snap.sqlite'}"
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    question = {
        "id": "q-one",
        "kind": "truefalse",
        "cites": ["1.1"],
        "scenario": "",
        "prompt": "问?",
        "options": [
            {"key": "true", "text": "正确", "correct": True, "feedback": "对"},
            {"key": "false", "text": "错误", "correct": False, "feedback": "对"},
        ],
        "answer": True,
        "steps": [],
        "feedback": "对",
        "tags": [],
        "generated": False,
        "lesson": "1.1",
        "source_clause": None,
    }
    draw = {
        "seed": 7,
        "questions": [{"id": "q-one", "options": ["true", "false"]}],
        "snapshot": {"q-one": question},
    }
    with app.app_context():
        upgrade(revision="db7bf2bc1272")
        db.session.execute(
            text(
                "INSERT INTO users (id, employee_no, name, department, role, must_change_password, active,"
                " created_at, position, email) VALUES (1, 'E1', '甲', '', 'learner', false, true,"
                " '2026-01-01 00:00:00+00:00', '', '')"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO lessons (id, number, slug, title, chapter_number, chapter_title, position,"
                " content_hash, source_sha256, body_markdown, body_html, active, updated_at)"
                " VALUES (1, '1.1', 's', 't', '1', 'c', 1, 'h', 's', '', '', true,"
                " '2026-01-01 00:00:00+00:00')"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO quiz_attempts (id, user_id, lesson_id, lesson_hash, seed, draw, pass_mark,"
                " started_at) VALUES (1, 1, 1, 'h', 7, :draw, '4/5', '2026-01-01 00:00:00+00:00')"
            ),
            {"draw": json.dumps(draw)},
        )
        db.session.execute(
            text(
                "INSERT INTO quiz_submissions (id, attempt_id, answers, correct_count, total, passed,"
                " submitted_at) VALUES (1, 1, :answers, 0, 1, false, '2026-01-01 00:05:00+00:00')"
            ),
            {"answers": json.dumps({"q-one": ["false"]})},
        )
        db.session.commit()
        upgrade()
        attempt = db.session.get(QuizAttempt, 1)
        assert "snapshot" not in attempt.draw
        assert len(attempt.draw["questions"][0]["version"]) == 64
        assert attempt_questions(attempt)["q-one"].prompt == "问?"
        # every stored submission gets its per-question rows, graded against the version shown
        answer = db.session.scalars(select(QuizAnswer)).one()
        assert (answer.submission_id, answer.qid, answer.chosen, answer.correct) == (
            1,
            "q-one",
            ["false"],
            False,
        )
        assert answer.version == attempt.draw["questions"][0]["version"]
        db.engine.dispose()


def _insert_user(employee_no: str) -> None:
    db.session.execute(
        text(
            "INSERT INTO users (employee_no, name, department, position, email, role,"
            " must_change_password, active, created_at) VALUES (:no, '甲', '销售部', '', '',"
            " 'learner', false, true, '2026-01-01 00:00:00+00:00')"
        ),
        {"no": employee_no},
    )
    db.session.commit()


def test_employee_no_index_refuses_accounts_differing_only_in_case(app):
    downgrade(revision="4ff134eab7d0")
    _insert_user("E1")
    _insert_user("e1")
    _insert_user("E2")
    with pytest.raises(SystemExit) as stopped:  # Flask-Migrate logs the error and exits
        upgrade()
    refused = stopped.value.__context__
    assert isinstance(refused, RuntimeError)
    assert "工号仅大小写不同" in str(refused)
    assert "E1 / e1" in str(refused)
    assert "E2" not in str(refused)
    db.session.rollback()
    # Nothing was changed: both accounts are there as they were.
    assert sorted(db.session.scalars(select(User.employee_no))) == ["E1", "E2", "e1"]
    db.session.execute(text("DELETE FROM users WHERE employee_no = 'e1'"))
    db.session.commit()
    upgrade()
    assert db.session.scalar(select(User.name).where(User.employee_no_is("e1"))) == "甲"
