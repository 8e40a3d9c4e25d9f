"""users by name

HR's employee list sorted by name takes its page from this index (工号 breaks ties) instead
of sorting every employee.

Revision ID: 4ff134eab7d0
Revises: 256d0acd1de1
Create Date: 2026-12-03 07:31:06.803312

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '4ff134eab7d0'
down_revision = '256d0acd1de1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_name', ['name', 'employee_no'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_name')
