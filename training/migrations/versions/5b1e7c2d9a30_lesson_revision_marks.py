"""lesson revision marks

A lesson that supersedes another keeps, beside its plain text, the same text with the
revision's changes marked (<ins>/<del> and a 本次修订 badge per changed clause), shown to
employees retraining on it, and the numbers of those clauses, whose questions the
retraining quiz draws first.

Revision ID: 5b1e7c2d9a30
Revises: 4ff134eab7d0
Create Date: 2026-12-03 11:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b1e7c2d9a30'
down_revision = '4ff134eab7d0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision_body_html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('revised_clauses', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.drop_column('revised_clauses')
        batch_op.drop_column('revision_body_html')
