"""retention and purge (issue 21): the purge tables

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "purged_record",
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=30), nullable=False),
        sa.Column("purged_on", sa.Date(), nullable=False),
        sa.Column("after_submission_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("uuid", "rule", name=op.f("pk_purged_record")),
    )


def downgrade():
    op.drop_table("purged_record")
