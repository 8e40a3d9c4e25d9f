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


# Plain ALTER TABLE on both databases (a nullable column): a batch operation would make
# SQLite copy the table, and reflecting it drops the expression index on lower(employee_no).
def upgrade():
    op.add_column("users", sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    op.drop_column("users", "locale")
