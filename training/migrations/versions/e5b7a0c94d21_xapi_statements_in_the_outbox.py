"""xAPI statements travel through the notification outbox

The outbox's kind and channel checks gain 'xapi' and 'lrs', and a small operational table
remembers, per evidence table, how far the statement feeder has read.

On PostgreSQL the two CHECK constraints are replaced. On SQLite they sit inside the table's
CREATE statement (no ALTER can reach them), and rebuilding ``notifications`` would have to
drop its append-only triggers and the foreign keys that point at it. Widening a CHECK's list
changes no stored byte and every existing row still satisfies it, so the table's SQL text is
edited in place as SQLite documents for loosening constraints ("Making Other Kinds Of Table
Schema Changes": ``PRAGMA writable_schema``, then bump ``schema_version``), and the result is
checked with ``PRAGMA integrity_check``.

Revision ID: e5b7a0c94d21
Revises: c13f1fea885a
Create Date: 2026-12-03 06:30:00

"""

from alembic import op
import sqlalchemy as sa

revision = "e5b7a0c94d21"
down_revision = "c13f1fea885a"
branch_labels = None
depends_on = None

KINDS_BEFORE = (
    "invitation",
    "reminder",
    "retraining",
    "manager_digest",
    "hr_digest",
    "nudge",
    "recertification",
)
KINDS_AFTER = KINDS_BEFORE + ("xapi",)
CHANNELS_BEFORE = ("email", "webhook")
CHANNELS_AFTER = CHANNELS_BEFORE + ("lrs",)


def _condition(column, values):
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def _sqlite_rewrite(pairs):
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'notifications'"
    ).scalar_one()
    for before, after in pairs:
        if before not in sql:
            raise RuntimeError(f"notifications: expected constraint text not found: {before}")
        sql = sql.replace(before, after)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'notifications'",
            (sql,),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    result = bind.exec_driver_sql("PRAGMA integrity_check").scalar_one()
    if result != "ok":
        raise RuntimeError(f"integrity check after widening the outbox checks: {result}")


def _replace_checks(kinds_from, kinds_to, channels_from, channels_to):
    if op.get_bind().dialect.name == "postgresql":
        for column, values in (("kind", kinds_to), ("channel", channels_to)):
            name = f"ck_notifications_{column}"
            op.drop_constraint(op.f(name), "notifications", type_="check")
            op.create_check_constraint(op.f(name), "notifications", _condition(column, values))
        return
    _sqlite_rewrite(
        [
            (_condition("kind", kinds_from), _condition("kind", kinds_to)),
            (_condition("channel", channels_from), _condition("channel", channels_to)),
        ]
    )


def upgrade():
    op.create_table(
        "xapi_cursors",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_xapi_cursors")),
    )
    _replace_checks(KINDS_BEFORE, KINDS_AFTER, CHANNELS_BEFORE, CHANNELS_AFTER)


def downgrade():
    bind = op.get_bind()
    left = bind.exec_driver_sql(
        "SELECT count(*) FROM notifications WHERE kind = 'xapi' OR channel = 'lrs'"
    ).scalar_one()
    if left:
        raise RuntimeError(
            f"{left} xAPI statements are in the outbox (evidence, never deleted): "
            "this migration cannot be undone"
        )
    _replace_checks(KINDS_AFTER, KINDS_BEFORE, CHANNELS_AFTER, CHANNELS_BEFORE)
    op.drop_table("xapi_cursors")
