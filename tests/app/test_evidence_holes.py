"""The append-only evidence tables refuse the ways round the row triggers: SQLite's
INSERT OR REPLACE / REPLACE INTO, and PostgreSQL's TRUNCATE."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from training.audit.chain import EVIDENCE
from training.audit.models import AuditEvent
from training.extensions import db


def _dialect() -> str:
    return db.engine.dialect.name


@pytest.fixture
def event(app):
    row = AuditEvent(action="user.update", channel="web", summary="原始摘要", details={})
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize("verb", ["INSERT OR REPLACE INTO", "REPLACE INTO"])
def test_sqlite_refuses_to_replace_an_audit_event(app, event, verb):
    if _dialect() != "sqlite":
        pytest.skip("REPLACE is SQLite's")
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(
            text(
                f"{verb} audit_events (id, at, channel, action, summary, details)"
                " VALUES (:id, :at, 'web', 'user.update', '篡改', '{}')"
            ),
            {"id": event.id, "at": "2026-01-01 00:00:00+00:00"},
        )
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.summary).where(AuditEvent.id == event.id)) == (
        "原始摘要"
    )


def test_sqlite_connections_fire_triggers_for_replaced_rows(app):
    if _dialect() != "sqlite":
        pytest.skip("a SQLite setting")
    assert db.session.execute(text("PRAGMA recursive_triggers")).scalar() == 1


@pytest.mark.parametrize("table", EVIDENCE)
def test_postgresql_refuses_to_truncate_evidence(app, event, table):
    if _dialect() != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(f"TRUNCATE {table} CASCADE"))
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id) is not None


def test_every_evidence_table_exists(app):
    """The list above and the migration's name real tables (a renamed table fails here)."""
    assert set(EVIDENCE) <= set(db.metadata.tables)
