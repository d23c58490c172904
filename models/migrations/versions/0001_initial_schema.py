"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26

Every table of docs/domain.md, with the indexes their queries use, and the default activity types
and milestone catalogue (a fresh database must already hold them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('activity_type',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('idempotency_record',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('mentor_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'mentor_id', 'key')
    )
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_record_created', ['created_at'], unique=False)

    op.create_table('mentor',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('milestone_definition',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('badge_image_url', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('activity',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('mentor_id', sa.String(length=64), nullable=False),
    sa.Column('activity_type_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['activity_type_id'], ['activity_type.id'], ),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_mentor_started', ['mentor_id', 'started_at'], unique=False)
        batch_op.create_index('ix_activity_started', ['started_at'], unique=False)

    op.create_table('mentor_status',
    sa.Column('mentor_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('pause_start_date', sa.DateTime(), nullable=True),
    sa.Column('expected_return_date', sa.DateTime(), nullable=True),
    sa.Column('pause_reason', sa.String(length=500), nullable=True),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('last_updated', sa.DateTime(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mentor_id')
    )
    with op.batch_alter_table('mentor_status', schema=None) as batch_op:
        batch_op.create_index('ix_mentor_status_status', ['status', 'mentor_id'], unique=False)

    op.create_table('milestone',
    sa.Column('id', sa.String(length=160), nullable=False),
    sa.Column('mentor_id', sa.String(length=64), nullable=False),
    sa.Column('definition_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('achieved_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['definition_key'], ['milestone_definition.key'], ),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mentor_id', 'definition_key', name='uq_milestone_mentor_definition')
    )
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.create_index('ix_milestone_achieved_at', ['achieved_at'], unique=False)
        batch_op.create_index('ix_milestone_mentor_status', ['mentor_id', 'status'], unique=False)

    op.create_table('pause_record',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('mentor_id', sa.String(length=64), nullable=False),
    sa.Column('start_date', sa.DateTime(), nullable=False),
    sa.Column('expected_return_date', sa.DateTime(), nullable=True),
    sa.Column('end_date', sa.DateTime(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pause_record', schema=None) as batch_op:
        batch_op.create_index('ix_pause_record_active_return', ['is_active', 'expected_return_date'], unique=False)
        batch_op.create_index('ix_pause_record_mentor_start', ['mentor_id', 'start_date'], unique=False)
        batch_op.create_index('uq_pause_record_one_active_per_mentor', ['mentor_id'], unique=True, sqlite_where=sa.text('is_active'), postgresql_where=sa.text('is_active'))

    op.create_table('sync_event',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('mentor_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('client_timestamp', sa.DateTime(), nullable=False),
    sa.Column('server_timestamp', sa.DateTime(), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('resulting_status', sa.String(length=16), nullable=False),
    sa.Column('rejection_reason', sa.String(length=32), nullable=True),
    sa.Column('acknowledged', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sync_event', schema=None) as batch_op:
        batch_op.create_index('ix_sync_event_ack_time', ['acknowledged', 'server_timestamp'], unique=False)
        batch_op.create_index('ix_sync_event_mentor_ack', ['mentor_id', 'acknowledged', 'server_timestamp'], unique=False)


    activity_type = sa.table(
        "activity_type", sa.column("id"), sa.column("key"), sa.column("display_name")
    )
    op.bulk_insert(
        activity_type,
        [
            {"id": "act_type_001", "key": "one_on_one_session", "display_name": "One-on-One Session"},
            {"id": "act_type_002", "key": "group_session", "display_name": "Group Session"},
            {"id": "act_type_003", "key": "check_in", "display_name": "Check-in"},
            {"id": "act_type_004", "key": "phone_call", "display_name": "Phone Call"},
            {"id": "act_type_005", "key": "workshop", "display_name": "Workshop"},
        ],
    )
    definition = sa.table(
        "milestone_definition",
        sa.column("key"),
        sa.column("type"),
        sa.column("threshold"),
        sa.column("name"),
        sa.column("badge_image_url"),
    )
    catalogue = (
        [("hours_logged", n, f"milestone_{n}h", f"{n} Hours Milestone", f"/assets/badges/{n}h.png")
         for n in (10, 50, 100, 300, 500, 1000)]
        + [("contacts_helped", n, f"milestone_{n}contacts", f"{n} Unique Contacts", None)
           for n in (10, 25, 50, 100)]
        + [("activity_count", n, f"milestone_{n}activities", f"{n} Activities", None)
           for n in (25, 50, 100, 250, 500)]
    )
    op.bulk_insert(
        definition,
        [
            {"key": key, "type": kind, "threshold": n, "name": name, "badge_image_url": badge}
            for kind, n, key, name, badge in catalogue
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table('sync_event', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_event_mentor_ack')
        batch_op.drop_index('ix_sync_event_ack_time')

    op.drop_table('sync_event')
    with op.batch_alter_table('pause_record', schema=None) as batch_op:
        batch_op.drop_index('uq_pause_record_one_active_per_mentor', sqlite_where=sa.text('is_active'), postgresql_where=sa.text('is_active'))
        batch_op.drop_index('ix_pause_record_mentor_start')
        batch_op.drop_index('ix_pause_record_active_return')

    op.drop_table('pause_record')
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_index('ix_milestone_mentor_status')
        batch_op.drop_index('ix_milestone_achieved_at')

    op.drop_table('milestone')
    with op.batch_alter_table('mentor_status', schema=None) as batch_op:
        batch_op.drop_index('ix_mentor_status_status')

    op.drop_table('mentor_status')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_started')
        batch_op.drop_index('ix_activity_mentor_started')

    op.drop_table('activity')
    op.drop_table('milestone_definition')
    op.drop_table('mentor')
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_record_created')

    op.drop_table('idempotency_record')
    op.drop_table('activity_type')
