"""department webhook kind check

The robot kind of a department webhook is kept to wecom, dingtalk and feishu (a CHECK
constraint on PostgreSQL, INSERT/UPDATE triggers on SQLite, as for the other states).

Revision ID: b41d2e7c9a10
Revises: 9c877fb2e8ee
Create Date: 2026-12-02 12:00:00.000000

"""
from alembic import op

TABLE, COLUMN = "department_webhooks", "kind"
NAME = f"ck_{TABLE}_{COLUMN}"
CONDITION = f"{COLUMN} IN ('wecom', 'dingtalk', 'feishu')"

# revision identifiers, used by Alembic.
revision = 'b41d2e7c9a10'
down_revision = '9c877fb2e8ee'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(op.f(NAME), TABLE, CONDITION)
        return
    for action in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER {NAME}_{action.lower()} BEFORE {action} ON {TABLE} "
            f"WHEN NOT (NEW.{CONDITION}) "
            f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {NAME}'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(NAME), TABLE, type_="check")
        return
    for action in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS {NAME}_{action}")
