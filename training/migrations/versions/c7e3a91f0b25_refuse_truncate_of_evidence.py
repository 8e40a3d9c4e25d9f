"""refuse TRUNCATE of evidence tables

Row triggers refuse UPDATE and DELETE on the evidence tables, but PostgreSQL's TRUNCATE fires
no row trigger: a statement-level BEFORE TRUNCATE trigger refuses it too. (On SQLite the app
turns on recursive_triggers, so the delete inside INSERT OR REPLACE fires the DELETE
triggers; SQLite has no TRUNCATE.)

Revision ID: c7e3a91f0b25
Revises: b41d2e7c9a10
Create Date: 2026-12-02 12:10:00.000000

"""
from alembic import op

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
)

# revision identifiers, used by Alembic.
revision = 'c7e3a91f0b25'
down_revision = 'b41d2e7c9a10'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # forbid_row_change() (revision cb21eeee97cd) raises whatever the trigger's level.
    for table in EVIDENCE:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION forbid_row_change()"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in EVIDENCE:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
