"""submission origin: the group a submission was collected in and its collector's name, kept on the row so a
replicated submission (town → county) keeps both without the collector's account

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 14:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('collector_name', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_submission_area_id'), ['area_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_submission_area_id_area'), 'area', ['area_id'], ['id'])
    op.execute("UPDATE submission SET area_id = (SELECT area_id FROM app_user WHERE app_user.id = submission.submitter_id), "
               "collector_name = (SELECT username FROM app_user WHERE app_user.id = submission.submitter_id)")


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_submission_area_id_area'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_submission_area_id'))
        batch_op.drop_column('collector_name')
        batch_op.drop_column('area_id')
