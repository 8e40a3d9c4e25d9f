"""user locale: the UI language a user chose with the header's switch

Revision ID: a4d9e2b7c610
Revises: f3a8c61d2e57
Create Date: 2026-12-03 18:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a4d9e2b7c610"
down_revision = "f3a8c61d2e57"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("locale")
