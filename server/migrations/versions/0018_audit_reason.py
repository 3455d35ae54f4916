"""audit_event.reason: why a staff member asked for personal data in full (an export, a revealed value)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.drop_column('reason')
