"""account security (placeholder written by the lead so 0010 has its parent; the auth helper fills it in)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 12:30:00

"""


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
