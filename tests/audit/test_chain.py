"""Tamper evidence: evidence rows are hash-chained, and `flask audit verify` finds a rewrite."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Column, MetaData, String, Table, select, text

from training.audit import chain
from training.audit.models import AuditEvent
from training.audit.services import record
from training.auth.models import Role
from training.extensions import db


def _dialect() -> str:
    return db.engine.dialect.name


def _events(count: int, summary: str = "事件") -> list[int]:
    rows = [record("user.update", f"{summary}{n}") for n in range(count)]
    db.session.commit()
    return [row.id for row in rows]


def _without_guard(table: str, statement: str, params: dict) -> None:
    """Do what the database's owner can: drop the append-only trigger, run, put it back."""
    if _dialect() == "postgresql":
        db.session.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
        db.session.execute(text(statement), params)
        db.session.execute(
            text(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION forbid_row_change()"
            )
        )
    else:
        for action in ("UPDATE", "DELETE"):
            db.session.execute(text(f"DROP TRIGGER {table}_no_{action.lower()}"))
        db.session.execute(text(statement), params)
        for action in ("UPDATE", "DELETE"):
            db.session.execute(
                text(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END"
                )
            )
    db.session.commit()


def test_every_evidence_row_gets_a_link_when_it_is_committed(app, create_user):
    hr = create_user(role=Role.HR)
    ids = _events(3)
    record("user.update", "又一条", actor=hr)
    db.session.commit()
    links = db.session.execute(
        select(chain.ChainLink.row_id, chain.ChainLink.prev_hash, chain.ChainLink.hash)
        .where(chain.ChainLink.table_name == "audit_events")
        .order_by(chain.ChainLink.id)
    ).all()
    assert [link.row_id for link in links][:3] == ids
    assert links[0].prev_hash == chain.GENESIS
    assert all(
        later.prev_hash == earlier.hash for earlier, later in zip(links, links[1:], strict=False)
    )
    found = chain.verify()
    assert found.ok
    assert not found.unlinked


def test_a_rolled_back_insert_leaves_no_link_and_the_chain_holds(app):
    record("user.update", "作废")
    db.session.flush()
    db.session.rollback()
    _events(2)
    assert chain.verify().ok


def test_verify_names_the_row_edited_behind_a_dropped_trigger(app, runner):
    ids = _events(5)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    _without_guard(
        "audit_events", "UPDATE audit_events SET summary = '篡改' WHERE id = :id", {"id": ids[2]}
    )
    found = chain.verify()
    assert found.breaks == [
        chain.Break("audit_events", ids[2], "the row was changed after it was linked")
    ]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN: audit_events row {ids[2]}: the row was changed" in result.output


def test_verify_names_a_deleted_row(app):
    ids = _events(4)
    _without_guard("audit_events", "DELETE FROM audit_events WHERE id = :id", {"id": ids[1]})
    assert chain.verify().breaks == [
        chain.Break("audit_events", ids[1], "a linked row is missing (deleted)")
    ]


def test_a_rewritten_chain_holds_but_its_fingerprint_differs_from_the_copy_kept(app):
    ids = _events(3)
    kept = chain.fingerprint(chain.heads())
    # The owner edits a row, then rebuilds every link after it so that verify passes again.
    _without_guard(
        "audit_events", "UPDATE audit_events SET summary = '篡改' WHERE id = :id", {"id": ids[0]}
    )
    first = db.session.scalar(
        select(chain.ChainLink.id).where(
            chain.ChainLink.table_name == "audit_events", chain.ChainLink.row_id == ids[0]
        )
    )
    _without_guard(
        "evidence_chain",
        "DELETE FROM evidence_chain WHERE table_name = 'audit_events' AND id >= :id",
        {"id": first},
    )
    chain.link_rows(db.session.connection(), {"audit_events": 0})
    db.session.commit()
    assert chain.verify().ok
    assert chain.fingerprint(chain.heads()) != kept


def test_rows_inserted_behind_the_apps_back_fail_verify_until_adopted(app, runner):
    _events(1)
    db.session.execute(
        text(
            "INSERT INTO audit_events (at, channel, action, summary, details)"
            " VALUES (:at, 'cli', 'user.update', '直接写入', '{}')"
        ),
        {"at": "2026-01-01 00:00:00+00:00"},
    )
    db.session.commit()
    if _dialect() == "postgresql":
        _events(1)  # the app's next write does not adopt the stranger (on SQLite it would)
    found = chain.verify()
    assert not found.breaks
    assert found.unlinked == {"audit_events": 1}
    assert not found.ok
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "UNLINKED: audit_events: 1 row(s) without a link" in result.output
    refused = runner.invoke(args=["audit", "link"])
    assert refused.exit_code != 0
    assert "--yes" in refused.output
    assert runner.invoke(args=["audit", "link", "--yes"]).output.strip() == "linked 1 row(s)"
    found = chain.verify()
    assert found.ok
    adopted = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "evidence.link")
    ).one()
    assert adopted.details["rows"] == 1


def test_a_long_transaction_that_commits_after_a_short_one_links_every_row(app, make_app):
    """PostgreSQL hands out ids at insert time: a big import's rows sit below a row another
    request committed in the meantime, and must still be linked."""
    if _dialect() != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    for n in range(600):
        record("user.update", f"导入{n}")
    db.session.flush()  # ids taken, not committed
    other = make_app()

    def meanwhile() -> None:
        with other.app_context():
            record("user.update", "同时的一条")
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=meanwhile)
    thread.start()
    thread.join()
    db.session.commit()
    found = chain.verify()
    assert found.breaks == []
    assert found.unlinked == {}


def test_a_savepoint_does_not_link_early(app):
    nested = db.session.begin_nested()
    record("user.update", "保存点内")
    nested.rollback()
    record("user.update", "保存点外")
    db.session.commit()
    assert chain.verify().ok


def test_concurrent_writers_keep_one_unbroken_chain(app):
    """Writers in parallel (each its own connection) never fork or skip a table's chain."""
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with app.app_context():
                for i in range(5):
                    record("user.update", f"并发{n}-{i}")
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    db.session.rollback()
    found = chain.verify()
    assert found.ok, found.breaks
    assert not found.unlinked
    total = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    assert found.heads[0].table == "audit_events"
    assert total == db.session.scalar(
        select(db.func.count())
        .select_from(chain.ChainLink)
        .where(chain.ChainLink.table_name == "audit_events")
    )


def test_a_column_added_later_leaves_old_hashes_alone(app):
    row = {"id": 1, "summary": "x", "at": None}
    assert chain.row_hash(chain.GENESIS, "t", row) == chain.row_hash(  # type: ignore[arg-type]
        chain.GENESIS, "t", {"id": 1, "summary": "x"}
    )
    assert chain.row_hash(chain.GENESIS, "t", {"id": 1, "summary": "y"}) != chain.row_hash(  # type: ignore[arg-type]
        chain.GENESIS, "t", {"id": 1, "summary": "x"}
    )


def test_the_links_themselves_are_append_only(app):
    _events(1)
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE evidence_chain SET hash = 'x'"))
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("DELETE FROM evidence_chain"))
    db.session.rollback()


def test_every_evidence_table_is_chained(app):
    """The chain's list names real tables, each with an integer id to order it by."""
    tables = MetaData()
    for name in chain.EVIDENCE:
        # Not the tables its foreign keys name: SQLite cannot reflect users' expression index.
        table = Table(name, tables, autoload_with=db.engine, resolve_fks=False)
        assert "id" in table.c


def test_the_audit_page_shows_the_chain_heads(app, client, login_as):
    _events(2)
    login_as(Role.HR)
    page = client.get("/hr/audit/").get_data(as_text=True)
    assert chain.fingerprint(chain.heads()) in page
    assert "防篡改" in page


def test_a_rows_link_hash_is_the_one_it_always_was():
    # Chains written by earlier versions must still verify: the hash of a row never changes.
    from datetime import UTC, date, datetime

    from training.audit.chain import row_hash

    row = {
        "id": 7,
        "at": datetime(2026, 12, 3, 11, 0, 5, 123456, tzinfo=UTC),
        "actor_id": None,
        "channel": "web",
        "action": "user.create",
        "summary": "创建员工 张三(E1)",
        "details": {"b": [1, "二"], "a": True},
        "due": date(2026, 1, 2),
        "flag": False,
        "score": 0.5,
        "blob": b"\x00\xff",
    }
    assert row_hash("0" * 64, "audit_events", row) == (
        "5b6192353452cb64ce09660c509f42861ab9c019e6bcd80011dcac0860643c61"
    )


@pytest.fixture
def add_origin(app):
    """Return what a migration and its model change do: audit_events gains a NOT NULL column
    with a default (which fills the old rows), and the app reads it from then on."""
    table = db.metadata.tables["audit_events"]
    column = Column("origin", String(16), nullable=False, server_default="web")

    def add() -> Column:
        db.session.execute(
            text("ALTER TABLE audit_events ADD COLUMN origin VARCHAR(16) DEFAULT 'web' NOT NULL")
        )
        db.session.commit()
        table.append_column(column)
        _forget_shapes()
        return column

    yield add
    if "origin" in table.c:
        _drop_model_column(column)


def _forget_shapes() -> None:
    chain._model_columns.cache_clear()
    chain._unlinked_batch.cache_clear()
    db.engine.clear_compiled_cache()  # statements on the table were compiled for its old shape


def _drop_model_column(column: Column) -> None:
    db.metadata.tables["audit_events"]._columns.remove(column)
    _forget_shapes()


def _versions(ids: list[int]) -> set[str | None]:
    return set(
        db.session.scalars(
            select(chain.ChainLink.columns_version).where(
                chain.ChainLink.table_name == "audit_events", chain.ChainLink.row_id.in_(ids)
            )
        )
    )


def test_a_column_added_with_a_default_leaves_old_links_valid(app, runner, add_origin):
    old = _events(3, "旧")  # linked before the column existed
    add_origin()
    assert (
        db.session.scalar(text("SELECT origin FROM audit_events WHERE id = :id"), {"id": old[0]})
        == "web"
    )
    # Hashing every column as the database hands it back now would break the old links.
    row = (
        db.session.execute(select(AuditEvent.__table__).where(AuditEvent.id == old[0]))
        .mappings()
        .one()
    )
    link = db.session.scalars(
        select(chain.ChainLink).where(
            chain.ChainLink.table_name == "audit_events", chain.ChainLink.row_id == old[0]
        )
    ).one()
    assert chain.row_hash(link.prev_hash, "audit_events", row) != link.hash
    new = _events(2, "新")
    old_versions, new_versions = _versions(old), _versions(new)
    assert len(old_versions) == len(new_versions) == 1
    assert old_versions != new_versions
    assert new_versions == {chain.columns_version([*AuditEvent.__table__.c.keys()])}
    recorded = db.session.scalars(
        select(chain.ColumnList.columns).where(
            chain.ColumnList.table_name == "audit_events",
            chain.ColumnList.version.in_(new_versions),
        )
    ).one()
    assert "origin" in recorded
    found = chain.verify()
    assert found.ok, (found.breaks, found.unverifiable)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    # Tampering is still found, in an old link and in a new one.
    _without_guard(
        "audit_events", "UPDATE audit_events SET summary = '篡改' WHERE id = :id", {"id": old[1]}
    )
    assert chain.verify().breaks == [
        chain.Break("audit_events", old[1], "the row was changed after it was linked")
    ]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN: audit_events row {old[1]}: the row was changed" in result.output


def test_a_new_row_whose_added_column_is_edited_breaks_its_link(app, add_origin):
    add_origin()
    ids = _events(2)
    _without_guard(
        "audit_events", "UPDATE audit_events SET origin = 'api' WHERE id = :id", {"id": ids[1]}
    )
    assert chain.verify().breaks == [
        chain.Break("audit_events", ids[1], "the row was changed after it was linked")
    ]


def test_a_removed_column_is_reported_as_such_not_as_tampering(app, runner, add_origin):
    origin = add_origin()
    before = _events(2, "前")
    _drop_model_column(origin)  # a later migration drops it (or renames it)
    db.session.execute(text("ALTER TABLE audit_events DROP COLUMN origin"))
    db.session.commit()
    after = _events(1, "后")
    found = chain.verify()
    assert not found.breaks
    assert [(u.table, u.links, u.first_row_id) for u in found.unverifiable] == [
        ("audit_events", 2, before[0])
    ]
    assert "origin" in found.unverifiable[0].reason
    assert "removed or renamed" in found.unverifiable[0].reason
    assert found.heads[0].last_row_id == after[0]  # the walk went on past them
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "UNVERIFIABLE: audit_events: 2 link(s)" in result.output
    assert "BROKEN" not in result.output
