"""web register entries: a person registered from the web (the add_person decision, its details in a wider
target), the reason a person gives for a decision (a correction's note), and life events recorded by a decision
rather than a visit

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_KINDS_BEFORE = ("'merge_people', 'merge_households', 'move_household', 'set_tier', 'set_field', "
                 "'reject_visit', 'referral_result', 'support_outcome', 'correct_service'")
_KINDS_NOW = _KINDS_BEFORE + ", 'add_person'"


def upgrade():
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.alter_column('target', existing_type=sa.String(length=200), type_=sa.String(length=600),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('note', sa.String(length=500), nullable=True))
        batch_op.drop_constraint(op.f('ck_register_decision_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({_KINDS_NOW})")
    with op.batch_alter_table('life_event', schema=None) as batch_op:
        batch_op.alter_column('submission_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=True)
        batch_op.add_column(sa.Column('decision_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_life_event_decision_id'), ['decision_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_life_event_decision_id_register_decision'), 'register_decision',
                                    ['decision_id'], ['id'])


def downgrade():
    # People registered on the web go with their decisions (`taizhang rebuild` forgets them after a downgrade).
    op.execute("DELETE FROM life_event WHERE submission_id IS NULL")
    op.execute("UPDATE register_field_value SET decision_id = NULL WHERE decision_id IN "
               "(SELECT id FROM register_decision WHERE kind = 'add_person')")
    op.execute("DELETE FROM register_decision WHERE kind = 'add_person'")
    with op.batch_alter_table('life_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_life_event_decision_id_register_decision'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_life_event_decision_id'))
        batch_op.drop_column('decision_id')
        batch_op.alter_column('submission_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=False)
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_register_decision_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({_KINDS_BEFORE})")
        batch_op.drop_column('note')
        batch_op.alter_column('target', existing_type=sa.String(length=600), type_=sa.String(length=200),
                              existing_nullable=False)
