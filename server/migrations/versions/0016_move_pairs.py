"""move pairs: a duplicate candidate may pair an arrival with a person who moved out of another village
(duplicate_candidate.departed_uuid); the match-key index read by key alone, county-wide (people who moved away)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 03:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('departed_uuid', sa.String(length=64), nullable=True))
    with op.batch_alter_table('person_match_key', schema=None) as batch_op:
        batch_op.create_index('ix_person_match_key_key', ['key'], unique=False)


def downgrade():
    with op.batch_alter_table('person_match_key', schema=None) as batch_op:
        batch_op.drop_index('ix_person_match_key_key')
    op.execute("DELETE FROM duplicate_candidate WHERE departed_uuid IS NOT NULL "
               "AND id NOT IN (SELECT candidate_id FROM register_decision WHERE candidate_id IS NOT NULL)")
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.drop_column('departed_uuid')
