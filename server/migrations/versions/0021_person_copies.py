"""a person's own copy (issue 21): copy requests and hand-overs

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('person_copy',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_uuid', sa.String(length=64), nullable=False),
    sa.Column('area_path', sa.String(length=100), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requester', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('produced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('produced_by', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('handed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handed_by', sa.Integer(), nullable=True),
    sa.Column('handed_to', sa.String(length=100), nullable=True),
    sa.CheckConstraint("requester IN ('self', 'representative')", name=op.f('ck_person_copy_requester')),
    sa.CheckConstraint("format IN ('pdf', 'xlsx')", name=op.f('ck_person_copy_format')),
    sa.CheckConstraint('handed_at IS NULL OR produced_at IS NOT NULL', name=op.f('ck_person_copy_produced_first')),
    sa.ForeignKeyConstraint(['recorded_by'], ['app_user.id'], name=op.f('fk_person_copy_recorded_by_app_user')),
    sa.ForeignKeyConstraint(['produced_by'], ['app_user.id'], name=op.f('fk_person_copy_produced_by_app_user')),
    sa.ForeignKeyConstraint(['handed_by'], ['app_user.id'], name=op.f('fk_person_copy_handed_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_copy'))
    )
    with op.batch_alter_table('person_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_copy_person_uuid'), ['person_uuid'], unique=False)


def downgrade():
    with op.batch_alter_table('person_copy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_copy_person_uuid'))
    op.drop_table('person_copy')
