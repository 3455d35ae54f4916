"""decision uuid: each register decision gets a uuid that stays the same on every server holding it, so a town's
decisions can be replicated to the county once each (and their undoing after them)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 17:40:00

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uuid', sa.String(length=36), nullable=True))
    decisions = sa.table('register_decision', sa.column('id', sa.BigInteger()), sa.column('uuid', sa.String(36)))
    connection = op.get_bind()
    for (decision_id,) in connection.execute(sa.select(decisions.c.id)).all():
        connection.execute(decisions.update().where(decisions.c.id == decision_id).values(uuid=str(uuid.uuid4())))
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.alter_column('uuid', existing_type=sa.String(length=36), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_register_decision_uuid'), ['uuid'])


def downgrade():
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_register_decision_uuid'), type_='unique')
        batch_op.drop_column('uuid')
