"""versioned evidence column lists

Each evidence table's hashed column list gets a version (a short hash of its sorted column
names, recorded in ``evidence_columns``), and each link records the version it was hashed
with (``evidence_chain.columns_version``). Links made before this revision keep NULL there:
they hashed every column the table has now, which is recorded here as each table's first
list. A later migration that adds a column (even NOT NULL with a default, which fills the
old rows) then leaves the old links valid: ``flask audit verify`` recomputes each link over
its own version's columns. The app records a new list itself the first time it links a row
with it.

Revision ID: f3a8c61d2e57
Revises: b7c3e91a5d20
Create Date: 2026-12-03 12:40:00

"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "f3a8c61d2e57"
down_revision = "b7c3e91a5d20"
branch_labels = None
depends_on = None

# training/audit/chain.py EVIDENCE at this revision.
EVIDENCE = (
    "audit_events",
    "assignments",
    "read_events",
    "quiz_attempts",
    "quiz_submissions",
    "quiz_answers",
    "certificates",
    "certificate_renewals",
    "question_holds",
    "question_reviews",
    "practice_reviews",
    "notifications",
    "notification_deliveries",
    "refresher_attempts",
    "refresher_submissions",
    "bank_publications",
)


def _version(names):
    # chain.columns_version: the same hash, so the app finds these lists.
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]


def upgrade():
    columns = op.create_table(
        "evidence_columns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_columns")),
        sa.UniqueConstraint(
            "table_name", "version", name=op.f("uq_evidence_columns_table_name_version")
        ),
    )
    # A plain ADD COLUMN (no batch rebuild on SQLite, which would drop the append-only
    # triggers): nullable, so no stored link changes.
    op.add_column(
        "evidence_chain", sa.Column("columns_version", sa.String(length=16), nullable=True)
    )
    inspector = sa.inspect(op.get_bind())
    now = datetime.now(UTC)
    rows = []
    for table in EVIDENCE:
        names = sorted(column["name"] for column in inspector.get_columns(table))
        rows.append(
            {
                "table_name": table,
                "version": _version(names),
                "columns": json.dumps(names),
                "recorded_at": now,
            }
        )
    op.bulk_insert(columns, rows)


def downgrade():
    left = (
        op.get_bind()
        .exec_driver_sql("SELECT count(*) FROM evidence_chain WHERE columns_version IS NOT NULL")
        .scalar_one()
    )
    if left:
        raise RuntimeError(
            f"{left} evidence links name a column list version (evidence, never altered): "
            "this migration cannot be undone"
        )
    # ALTER TABLE … DROP COLUMN on both (SQLite 3.35+): no rebuild that would drop triggers.
    op.execute("ALTER TABLE evidence_chain DROP COLUMN columns_version")
    op.drop_table("evidence_columns")
