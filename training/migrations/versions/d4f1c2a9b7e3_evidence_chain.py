"""evidence chain: a hash link per evidence row

Each row of an evidence table gets a link chained to the previous row of its table
(training/audit/chain.py). The links are append-only like the rows. Rows that exist
before this revision are linked the first time the app writes to their table, or at once by
`flask audit link`.

Revision ID: d4f1c2a9b7e3
Revises: c7e3a91f0b25
Create Date: 2026-12-02 16:10:00.000000

"""
import sqlalchemy as sa
from alembic import op



# revision identifiers, used by Alembic.
revision = 'd4f1c2a9b7e3'
down_revision = 'c7e3a91f0b25'
branch_labels = None
depends_on = None

TABLE = "evidence_chain"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_chain")),
        sa.UniqueConstraint(
            "table_name", "row_id", name=op.f("uq_evidence_chain_table_name_row_id")
        ),
    )
    op.create_index("ix_evidence_chain_table_id", TABLE, ["table_name", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # forbid_row_change() comes from revision cb21eeee97cd.
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION forbid_row_change()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION forbid_row_change()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} rows are append-only'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{action}")
    op.drop_index("ix_evidence_chain_table_id", table_name=TABLE)
    op.drop_table(TABLE)
