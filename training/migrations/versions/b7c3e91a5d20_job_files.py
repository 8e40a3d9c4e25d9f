"""job files

A background job's file (a large export), kept in the database for JOBS_FILES_KEEP_DAYS so
that any host can serve the download.

Revision ID: b7c3e91a5d20
Revises: 5a1e3c7d9b20
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c3e91a5d20'
down_revision = '5a1e3c7d9b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mimetype', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_files_job_id_jobs')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_job_files_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_files')),
    sa.UniqueConstraint('job_id', name=op.f('uq_job_files_job_id'))
    )
    with op.batch_alter_table('job_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_files_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_files_owner_id'), ['owner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('job_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_files_owner_id'))
        batch_op.drop_index(batch_op.f('ix_job_files_expires_at'))

    op.drop_table('job_files')
