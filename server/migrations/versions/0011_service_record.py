"""service record: every item of a visit's service record (services, supplies, referrals, checks, guidance,
support requests), the visit's closing answers (agreed next visit, notes, GPS point, form version), and the
decisions about service items (referral results, support outcomes, corrections) whose subject is an item's key

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_KINDS_BEFORE = ("'merge_people', 'merge_households', 'move_household', 'set_tier', 'set_field', "
                 "'reject_visit'")
_KINDS_NOW = _KINDS_BEFORE + ", 'referral_result', 'support_outcome', 'correct_service'"
_ITEM_KINDS = ("'service', 'supply', 'referral', 'referral_result', 'prepregnancy_check', 'pregnancy_guidance', "
               "'support_request'")


def upgrade():
    op.create_table(
        'service_item',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('item_key', sa.String(length=300), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('household_uuid', sa.String(length=64), nullable=True),
        sa.Column('person_uuid', sa.String(length=64), nullable=True),
        sa.Column('person_name', sa.String(length=100), nullable=True),
        sa.Column('visit_date', sa.Date(), nullable=True),
        sa.Column('visited_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('code', sa.String(length=40), nullable=True),
        sa.Column('quantity', sa.BigInteger(), nullable=True),
        sa.Column('quantity_text', sa.String(length=100), nullable=True),
        sa.Column('given', sa.Boolean(), nullable=True),
        sa.Column('place', sa.String(length=200), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('detail', sa.String(length=40), nullable=True),
        sa.Column('consent', sa.Boolean(), nullable=True),
        sa.Column('refers_to', sa.String(length=300), nullable=True),
        sa.Column('problems', sa.String(length=200), nullable=True),
        sa.CheckConstraint(f"kind IN ({_ITEM_KINDS})", name=op.f('ck_service_item_kind')),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id'],
                                name=op.f('fk_service_item_submission_id_submission')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_item')),
        sa.UniqueConstraint('submission_id', 'seq', name=op.f('uq_service_item_submission_id')),
    )
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_item_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_item_item_key'), ['item_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_item_household_uuid'), ['household_uuid'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_item_person_uuid'), ['person_uuid'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_item_refers_to'), ['refers_to'], unique=False)
        batch_op.create_index('ix_service_item_kind_date', ['kind', 'visit_date'], unique=False)
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_version', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('next_visit', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('notes', sa.Text(), nullable=True))
        for column in ('latitude', 'longitude', 'altitude', 'accuracy'):
            batch_op.add_column(sa.Column(column, sa.Float(), nullable=True))
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.alter_column('subject_uuid', existing_type=sa.String(length=64), type_=sa.String(length=300),
                              existing_nullable=False)
        batch_op.drop_constraint(op.f('ck_register_decision_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({_KINDS_NOW})")
    # Visits merged before keep their service record in the raw XML: `taizhang rebuild` reads it into these rows.


def downgrade():
    op.execute("DELETE FROM register_decision WHERE kind IN ('referral_result', 'support_outcome', "
               "'correct_service')")
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_register_decision_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({_KINDS_BEFORE})")
        batch_op.alter_column('subject_uuid', existing_type=sa.String(length=300), type_=sa.String(length=64),
                              existing_nullable=False)
    with op.batch_alter_table('visit', schema=None) as batch_op:
        for column in ('accuracy', 'altitude', 'longitude', 'latitude', 'notes', 'next_visit', 'form_version'):
            batch_op.drop_column(column)
    op.drop_table('service_item')
