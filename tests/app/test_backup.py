"""``flask backup create|restore``: a backup taken under write load holds every acknowledged
write; a restore checks the copy and refuses to overwrite without --yes."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select, text

from training.audit.models import AuditEvent
from training.audit.services import record
from training.extensions import db


def _dialect() -> str:
    return db.engine.dialect.name


def _summaries() -> set[str]:
    db.session.rollback()
    return set(db.session.scalars(select(AuditEvent.summary)))


def _add(summary: str) -> None:
    db.session.add(AuditEvent(action="user.update", channel="web", summary=summary, details={}))
    db.session.commit()


def test_a_backup_under_write_load_holds_every_acknowledged_write_and_restores(
    app, runner, tmp_path
):
    if _dialect() != "sqlite":
        pytest.skip("the backup below is SQLite's online backup")
    acknowledged: list[tuple[float, str]] = []
    stop = threading.Event()

    def writer() -> None:
        # The app's own write path on a connection of its own: one committed row (and its
        # evidence link) per transaction, as submits are.
        with app.app_context():
            n = 0
            while not stop.is_set():
                n += 1
                summary = f"提交 {n}"
                record("user.update", summary)
                db.session.commit()
                acknowledged.append((time.monotonic(), summary))
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(acknowledged) < 50:
            time.sleep(0.01)
        started = time.monotonic()
        target = tmp_path / "training.backup"
        result = runner.invoke(args=["backup", "create", str(target)])
        assert result.exit_code == 0, result.output
        assert "SQLite online backup" in result.output
        while len(acknowledged) < len([a for a in acknowledged if a[0] < started]) + 20:
            time.sleep(0.01)  # the writer goes on after the backup
    finally:
        stop.set()
        thread.join()
    before = {summary for at, summary in acknowledged if at < started}
    with sqlite3.connect(target) as copy:
        in_copy = {row[0] for row in copy.execute("SELECT summary FROM audit_events")}
    assert before <= in_copy  # every write acknowledged before the backup began is in it
    after = {summary for _, summary in acknowledged} - in_copy
    assert after  # and the writes after it are not: it is a snapshot

    refused = runner.invoke(args=["backup", "restore", str(target)])
    assert refused.exit_code != 0
    assert "--yes" in refused.output
    assert after <= _summaries()  # nothing changed without --yes

    restored = runner.invoke(args=["backup", "restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "evidence chains hold" in restored.output
    summaries = _summaries()
    assert before <= summaries
    assert not after & summaries
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == len(in_copy)


def test_a_restore_names_a_row_edited_in_the_backup(app, runner, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("edits the SQLite backup file directly")
    for n in range(3):
        record("user.update", f"备份前{n}")
    db.session.commit()
    target = tmp_path / "training.backup"
    assert runner.invoke(args=["backup", "create", str(target)]).exit_code == 0
    with sqlite3.connect(target) as copy:  # what an owner of the file could do
        victim = copy.execute("SELECT max(id) FROM audit_events").fetchone()[0]
        copy.execute("DROP TRIGGER audit_events_no_update")
        copy.execute("UPDATE audit_events SET summary = '篡改' WHERE id = ?", (victim,))
    restored = runner.invoke(args=["backup", "restore", str(target), "--yes"])
    assert restored.exit_code != 0
    assert f"audit_events row {victim}: the row was changed" in restored.output


def test_a_backup_never_overwrites_a_file(app, runner, tmp_path):
    target = tmp_path / "exists.backup"
    target.write_text("keep me", "utf-8")
    result = runner.invoke(args=["backup", "create", str(target)])
    assert result.exit_code != 0
    assert "exists" in result.output
    assert target.read_text("utf-8") == "keep me"


def test_a_restore_refuses_what_is_not_a_backup_of_this_schema(app, runner, tmp_path):
    if _dialect() != "sqlite":
        pytest.skip("SQLite files")
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["backup", "restore", str(junk), "--yes"])
    assert result.exit_code != 0
    assert "not a database of this application" in result.output

    old = tmp_path / "old.backup"
    assert runner.invoke(args=["backup", "create", str(old)]).exit_code == 0
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0000deadbeef'")
    _add("之后写入")
    result = runner.invoke(args=["backup", "restore", str(old), "--yes"])
    assert result.exit_code != 0
    assert "schema revision 0000deadbeef" in result.output
    assert "之后写入" in _summaries()  # the live database is untouched


def test_postgresql_backup_and_restore_round_trip(app, runner, tmp_path):
    if _dialect() != "postgresql":
        pytest.skip("pg_dump / pg_restore")
    _add("备份之前")
    target = tmp_path / "training.dump"
    result = runner.invoke(args=["backup", "create", str(target)])
    assert result.exit_code == 0, result.output
    assert "pg_dump" in result.output
    _add("备份之后")
    db.session.remove()
    restored = runner.invoke(args=["backup", "restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    summaries = _summaries()
    assert "备份之前" in summaries
    assert "备份之后" not in summaries
    # The append-only triggers came back with the tables.
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("DELETE FROM audit_events"))
    db.session.rollback()
