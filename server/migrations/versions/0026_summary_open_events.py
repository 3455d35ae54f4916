"""the schedule summary's open events (issue 22, round 4): a household's latest next visit agreed and its head, a
person's agreed follow-ups and referrals as they stand, so that an area's flags read one row a person instead of
ranking every agreed visit, every household's members and every referral with its decisions

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 18:10:00

Every row is worked out again from the register as it stands (server.register.summaries.fill), so an upgraded
register has its flags at once; later merges, replays, decisions and rebuilds keep them.
"""
from alembic import op
import sqlalchemy as sa

from server.register.summaries import fill

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('schedule_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreed', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('referrals', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('head', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_schedule_summary_head'), ['head'], unique=False)
    op.execute("DELETE FROM schedule_summary")
    fill(op.get_bind())


def downgrade():
    with op.batch_alter_table('schedule_summary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_summary_head'))
        batch_op.drop_column('head')
        batch_op.drop_column('referrals')
        batch_op.drop_column('agreed')
