"""work status, status privacy and view log, working hours, digest, reply language, memory horizon

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 11:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

SETTING_COLUMNS = [
    sa.Column('reply_language', sa.String(length=2), nullable=True),
    sa.Column('status_audience', sa.String(length=16), nullable=True),
    sa.Column('work_start', sa.String(length=5), nullable=True),
    sa.Column('work_end', sa.String(length=5), nullable=True),
    sa.Column('digest_at', sa.String(length=5), nullable=True),
    sa.Column('digest_sent_on', sa.Date(), nullable=True),
    sa.Column('memory_since', sa.DateTime(timezone=True), nullable=True),
]


def upgrade() -> None:
    op.create_table('person_statuses',
    sa.Column('person_id', sa.String(length=64), nullable=False),
    sa.Column('activity_kind', sa.String(length=16), nullable=True),
    sa.Column('activity_ref', sa.String(length=64), nullable=True),
    sa.Column('activity_label', sa.JSON(), nullable=True),
    sa.Column('activity_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('activity_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('manual_text', sa.String(length=200), nullable=True),
    sa.Column('manual_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('manual_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_statuses_person_id_people')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_person_statuses'))
    )
    op.create_table('status_views',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('viewer_id', sa.String(length=64), nullable=True),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_views'))
    )
    with op.batch_alter_table('status_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_views_subject_id'), ['subject_id'], unique=False)
    with op.batch_alter_table('person_settings', schema=None) as batch_op:
        for column in SETTING_COLUMNS:
            batch_op.add_column(column.copy())


def downgrade() -> None:
    with op.batch_alter_table('person_settings', schema=None) as batch_op:
        for column in reversed(SETTING_COLUMNS):
            batch_op.drop_column(column.name)
    with op.batch_alter_table('status_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_views_subject_id'))
    op.drop_table('status_views')
    op.drop_table('person_statuses')
