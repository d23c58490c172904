"""activity running totals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Each mentor's completed minutes up to every instant they started work, derived from the
activity ledger: a period's total is the difference of two index seeks, so peer ranks do not
read the ledger. The ledger already present is folded in here, so the totals start exact.
The ledger version is a random token every ledger write replaces (caches key on it).
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('activity_running_total',
    sa.Column('mentor_id', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('completed_minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mentor_id', 'started_at'),
    sqlite_with_rowid=False,
    )
    op.execute(
        """
        INSERT INTO activity_running_total (mentor_id, started_at, completed_minutes)
        SELECT mentor_id, started_at,
               SUM(SUM(CASE WHEN status = 'completed' THEN duration_minutes ELSE 0 END))
                 OVER (PARTITION BY mentor_id ORDER BY started_at)
        FROM activity
        GROUP BY mentor_id, started_at
        HAVING SUM(CASE WHEN status = 'completed' THEN duration_minutes ELSE 0 END) > 0
        """
    )
    version = op.create_table('activity_ledger_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(version, [{'id': 1, 'token': secrets.token_hex(16)}])


def downgrade() -> None:
    op.drop_table('activity_ledger_version')
    op.drop_table('activity_running_total')
