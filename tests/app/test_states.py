"""String states are StrEnums, and the database refuses any other value."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from training.extensions import db
from training.quizzes.models import QuizQuestion

TS = "2026-01-01 00:00:00+00:00"
BAD_ROWS = {
    "users.role": (
        "INSERT INTO users (employee_no, name, department, role, must_change_password, active,"
        " created_at, position, email) VALUES ('X1', 'x', '', 'admin', false, true, :ts, '', '')"
    ),
    "assignments.reason": (
        "INSERT INTO assignments (user_id, due_date, assigned_at, reason)"
        " VALUES (:user, '2026-01-01', :ts, 'whim')"
    ),
    "audit_events.channel": (
        "INSERT INTO audit_events (at, channel, action, summary, details)"
        " VALUES (:ts, 'fax', 'export', 'x', '{}')"
    ),
    "password_links.purpose": (
        "INSERT INTO password_links (token_hash, user_id, purpose, created_at, expires_at)"
        " VALUES (:hash, :user, 'magic', :ts, :ts)"
    ),
    "norm_versions.status": (
        "INSERT INTO norm_versions (source_sha256, title, source_name, loaded_at, label, status,"
        " changes) VALUES (:hash, 't', 'n', :ts, '', 'draft', '{}')"
    ),
    "department_webhooks.kind": (
        "INSERT INTO department_webhooks (department, kind, url, updated_at)"
        " VALUES ('客服部', 'slack', 'https://example.com/hook', :ts)"
    ),
    "practice_cards.state": (
        "INSERT INTO practice_cards (user_id, question_id, lesson_id, due, card, state, updated_at)"
        " VALUES (:user, :question, :lesson, :ts, '{}', 'Forgotten', :ts)"
    ),
}


@pytest.mark.parametrize("column", sorted(BAD_ROWS))
def test_the_database_refuses_an_unknown_state(app, lessons, create_user, column):
    user = create_user()
    question = db.session.scalars(select(QuizQuestion)).first()
    values = {
        "ts": TS,
        "user": user.id,
        "hash": "h" * 64,
        "question": question.id,
        "lesson": question.lesson_id,
    }
    table, name = column.split(".")
    with pytest.raises(DBAPIError, match=f"ck_{table}_{name}"):
        db.session.execute(text(BAD_ROWS[column]), values)
    db.session.rollback()
