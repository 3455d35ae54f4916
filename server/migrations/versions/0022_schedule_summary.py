"""the schedule summary (issue 22): one row per person and household with what due and overdue flags need

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 10:00:00

The rows are filled by 0026, which adds the open events to the table (server.register.summaries.fill writes the
table as it is at the head revision); later merges, replays and rebuilds keep them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('schedule_summary',
    sa.Column('record_kind', sa.String(length=10), nullable=False),
    sa.Column('record_uuid', sa.String(length=64), nullable=False),
    sa.Column('visits', sa.Text(), nullable=False),
    sa.Column('tiers', sa.Text(), nullable=False),
    sa.Column('anchors', sa.Text(), nullable=False),
    sa.Column('died_on', sa.Date(), nullable=True),
    sa.Column('moved_out_on', sa.Date(), nullable=True),
    sa.Column('scheduled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('record_kind', 'record_uuid', name=op.f('pk_schedule_summary'))
    )
    with op.batch_alter_table('schedule_summary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_summary_record_uuid'), ['record_uuid'], unique=False)


def downgrade():
    with op.batch_alter_table('schedule_summary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_summary_record_uuid'))
    op.drop_table('schedule_summary')
