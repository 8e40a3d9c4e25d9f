"""check constraints on string states

Keeps each state column to its StrEnum's values. PostgreSQL gets real CHECK constraints
(named as the models name them). SQLite cannot add a CHECK to an existing table without
rebuilding it (which would drop the append-only triggers and trip foreign keys), so it gets
triggers that refuse the same rows on INSERT and UPDATE, with the constraint's name.

Revision ID: d9a72b74d41e
Revises: e97b82919140
Create Date: 2026-12-02 06:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd9a72b74d41e'
down_revision = 'e97b82919140'
branch_labels = None
depends_on = None

# table, column, allowed values (as of this revision; later revisions replace them)
STATES = (
    ("assignments", "reason", ("hire", "individual", "department", "revision")),
    ("audit_events", "channel", ("web", "cli")),
    ("password_links", "purpose", ("setup", "reset")),
    ("norm_versions", "status", ("published", "superseded")),
    ("practice_cards", "state", ("Learning", "Review", "Relearning")),
    ("users", "role", ("learner", "hr")),
)


def _condition(column, values):
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column, values in STATES:
        name = f"ck_{table}_{column}"
        if postgres:
            op.create_check_constraint(op.f(name), table, _condition(column, values))
            continue
        for action in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {name}_{action.lower()} BEFORE {action} ON {table} "
                f"WHEN NOT (NEW.{_condition(column, values)}) "
                f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
            )


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column, _values in STATES:
        name = f"ck_{table}_{column}"
        if postgres:
            op.drop_constraint(op.f(name), table, type_="check")
            continue
        for action in ("insert", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}_{action}")
