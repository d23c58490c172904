"""activity ledger covering index

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Milestone detection reads every completed activity per mentor in time order. An index on
(mentor_id, started_at, id, status, duration_minutes, contact_id) serves that scan by itself
(no table lookups, no sort) and every query the (mentor_id, started_at) index served, which it
replaces.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER_COLUMNS = ['mentor_id', 'started_at', 'id', 'status', 'duration_minutes', 'contact_id']


def upgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_mentor_ledger', LEDGER_COLUMNS, unique=False)
        batch_op.drop_index('ix_activity_mentor_started')


def downgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_mentor_started', ['mentor_id', 'started_at'], unique=False)
        batch_op.drop_index('ix_activity_mentor_ledger')
