"""agreed visits by index (issue 22, flags): the visits that agreed a next visit with their household, indexed by
household, so the due lists of a town or county read those (a few) instead of every visit of the area

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 13:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

AGREED = sa.text("next_visit IS NOT NULL")


def upgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_agreed_household', ['household_uuid'], unique=False,
                              postgresql_where=AGREED, sqlite_where=AGREED)


def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_agreed_household')
