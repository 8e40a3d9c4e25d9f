"""工号 unique whatever the case

Every lookup by 工号 (login, links, HR's search, the import, the API, the directory) compares
lower(employee_no); this unique expression index answers it on SQLite and PostgreSQL and keeps
"e1001" from being created beside "E1001". 工号 are kept as HR typed them (certificates, xAPI
statements and exports already carry them).

Existing accounts whose 工号 differ only in case cannot both keep them: the upgrade stops and
names them, and an administrator renames one of each pair first.

SQLite cannot reflect an expression index: a later batch_alter_table('users') there must
create this index again (tests/app/test_migrations.py checks it exists at head).

Revision ID: b8d4f2a6c913
Revises: 5b1e7c2d9a30
Create Date: 2026-12-03 11:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d4f2a6c913'
down_revision = '5b1e7c2d9a30'
branch_labels = None
depends_on = None


def upgrade():
    clashes = op.get_bind().execute(
        sa.text(
            "SELECT lower(employee_no) AS folded, count(*) AS n FROM users"
            " GROUP BY lower(employee_no) HAVING count(*) > 1 ORDER BY folded"
        )
    ).all()
    if clashes:
        groups = []
        for folded, _ in clashes:
            spelled = op.get_bind().execute(
                sa.text(
                    "SELECT employee_no FROM users WHERE lower(employee_no) = :folded"
                    " ORDER BY employee_no"
                ),
                {"folded": folded},
            ).scalars()
            groups.append(" / ".join(spelled))
        raise RuntimeError(
            "以下账号的工号仅大小写不同，登录时无法区分，升级已停止，数据未改动："
            + "；".join(groups)
            + "。请先把其中一个账号的工号改为其他值（例如在末尾加 -OLD），再重新升级。"
            + f" (accounts whose 工号 differ only in case: {'; '.join(groups)})"
        )
    op.create_index(
        'uq_users_employee_no_lower', 'users', [sa.text('lower(employee_no)')], unique=True
    )


def downgrade():
    op.drop_index('uq_users_employee_no_lower', table_name='users')
