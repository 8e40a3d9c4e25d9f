"""standing columns on the progress summaries

Every employee gets a progress_summaries row (operational, not evidence), which now also
copies what HR's figures group by: department, active, trainee (a learner, or assigned the
course), the due date of the assignment in force and when the certificate of the norm version
in force became valid. The indexes serve the dashboard's counts and its overdue list. The
application keeps these columns current (training.reports.standing); here they are filled in
once from the evidence.

Revision ID: 256d0acd1de1
Revises: a3c9e1d5f7b2
Create Date: 2026-12-03 06:48:41.115841

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '256d0acd1de1'
down_revision = 'a3c9e1d5f7b2'
branch_labels = None
depends_on = None

BACKFILL = (
    # A row for everyone, events or not.
    "INSERT INTO progress_summaries (user_id, updated_at) "
    "SELECT id, CURRENT_TIMESTAMP FROM users WHERE NOT EXISTS "
    "(SELECT 1 FROM progress_summaries p WHERE p.user_id = users.id)",
    # The same rules as training.reports.standing.standing_columns.
    "UPDATE progress_summaries SET "
    "department = (SELECT u.department FROM users u WHERE u.id = progress_summaries.user_id), "
    "active = (SELECT u.active FROM users u WHERE u.id = progress_summaries.user_id), "
    "trainee = (SELECT u.role = 'learner' OR EXISTS "
    "(SELECT 1 FROM assignments a WHERE a.user_id = u.id) "
    "FROM users u WHERE u.id = progress_summaries.user_id), "
    "due_date = (SELECT a.due_date FROM assignments a "
    "WHERE a.user_id = progress_summaries.user_id ORDER BY a.id DESC LIMIT 1), "
    "valid_from = (SELECT coalesce((SELECT max(r.issued_at) FROM certificate_renewals r "
    "WHERE r.certificate_id = c.id), c.issued_at) FROM certificates c "
    "WHERE c.user_id = progress_summaries.user_id AND c.source_sha256 = "
    "(SELECT v.source_sha256 FROM norm_versions v WHERE v.status = 'published' "
    "ORDER BY v.published_at DESC, v.id DESC LIMIT 1)), "
    "updated_at = CURRENT_TIMESTAMP",
)


def upgrade():
    with op.batch_alter_table('progress_summaries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('trainee', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('due_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_progress_summaries_standing', ['active', 'trainee', 'department', 'completed_count', 'started', 'due_date', 'valid_from'], unique=False)
        batch_op.create_index('ix_progress_summaries_due', ['active', 'trainee', 'due_date'], unique=False)
    for statement in BACKFILL:
        op.execute(statement)


def downgrade():
    with op.batch_alter_table('progress_summaries', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_summaries_due')
        batch_op.drop_index('ix_progress_summaries_standing')
        batch_op.drop_column('valid_from')
        batch_op.drop_column('due_date')
        batch_op.drop_column('trainee')
        batch_op.drop_column('active')
        batch_op.drop_column('department')
