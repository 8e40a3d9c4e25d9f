"""staged uploads

Uploads kept between preview and confirmation move from instance/imports/ on one host's
disk into the database, so that a confirmation reaching another app host behind the load
balancer finds the upload. Operational rows (deleted on confirmation, pruned after an hour):
no append-only triggers. Uploads waiting on disk at the upgrade are not carried over; HR
uploads them again (a preview lasts an hour).

Revision ID: 5a1e3c7d9b20
Revises: b8d4f2a6c913
Create Date: 2026-12-03 11:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5a1e3c7d9b20'
down_revision = 'b8d4f2a6c913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staged_uploads',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), server_default='', nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staged_uploads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_uploads'))
    )
    with op.batch_alter_table('staged_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_uploads_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_uploads_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staged_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_uploads_user_id'))
        batch_op.drop_index(batch_op.f('ix_staged_uploads_created_at'))

    op.drop_table('staged_uploads')
