"""service notices (协查通报): a notice between town offices about a person and the service due, and its steps

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('service_notice',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('from_place', sa.String(length=200), nullable=False),
    sa.Column('from_outside', sa.Boolean(), nullable=False),
    sa.Column('to_place', sa.String(length=200), nullable=False),
    sa.Column('to_outside', sa.Boolean(), nullable=False),
    sa.Column('person_uuid', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('sex', sa.String(length=10), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('service', sa.String(length=40), nullable=False),
    sa.Column('service_note', sa.String(length=300), nullable=True),
    sa.Column('reply_by', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_by', sa.String(length=100), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_by', sa.String(length=100), nullable=True),
    sa.Column('answer_done', sa.String(length=500), nullable=True),
    sa.Column('answer_result', sa.String(length=40), nullable=True),
    sa.Column('answer_day', sa.Date(), nullable=True),
    sa.Column('answer_by', sa.String(length=100), nullable=True),
    sa.Column('answer_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('answer_result IS NULL OR answer_at IS NOT NULL', name=op.f('ck_service_notice_answer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_notice')),
    sa.UniqueConstraint('uuid', name=op.f('uq_service_notice_uuid'))
    )
    with op.batch_alter_table('service_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_notice_from_place'), ['from_place'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_notice_to_place'), ['to_place'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_notice_person_uuid'), ['person_uuid'], unique=False)

    op.create_table('service_notice_step',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('notice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('step', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("step IN ('sent', 'received', 'answered')", name=op.f('ck_service_notice_step_step')),
    sa.ForeignKeyConstraint(['notice_id'], ['service_notice.id'],
                            name=op.f('fk_service_notice_step_notice_id_service_notice')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_service_notice_step_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_notice_step'))
    )
    with op.batch_alter_table('service_notice_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_notice_step_notice_id'), ['notice_id'], unique=False)


def downgrade():
    with op.batch_alter_table('service_notice_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_notice_step_notice_id'))
    op.drop_table('service_notice_step')
    with op.batch_alter_table('service_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_notice_person_uuid'))
        batch_op.drop_index(batch_op.f('ix_service_notice_to_place'))
        batch_op.drop_index(batch_op.f('ix_service_notice_from_place'))
    op.drop_table('service_notice')
