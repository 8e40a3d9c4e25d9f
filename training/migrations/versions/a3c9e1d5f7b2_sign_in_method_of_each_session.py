"""sign-in method of each session

Each server-side session records how its user signed in: 'password' (a password kept here)
or 'ldap' (the company directory). Sessions from before are password sessions. No CHECK
constraint: more methods are coming (OIDC and the OAuth logins of issue 14), and on SQLite
each would have to widen it; the application writes only the names it knows.

Revision ID: a3c9e1d5f7b2
Revises: e5b7a0c94d21
Create Date: 2026-12-04 09:00:00

"""

from alembic import op
import sqlalchemy as sa

revision = "a3c9e1d5f7b2"
down_revision = "e5b7a0c94d21"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("method", sa.String(length=16), server_default="password", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("method")
