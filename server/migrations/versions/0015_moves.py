"""people who move: each life event keeps the group the person lived in when it happened and a move out its
destination (a village or town of the register); the decisions that record a move, confirm an arrival and merge
an arrival with the person who moved out

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 03:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_KINDS_BEFORE = ("'merge_people', 'merge_households', 'move_household', 'set_tier', 'set_field', "
                 "'reject_visit', 'referral_result', 'support_outcome', 'correct_service', 'add_person'")
_KINDS_NOW = _KINDS_BEFORE + ", 'record_move', 'confirm_arrival', 'merge_moved'"


def upgrade():
    with op.batch_alter_table('life_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('destination_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_life_event_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_life_event_destination_id'), ['destination_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_life_event_group_id_area'), 'area', ['group_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_life_event_destination_id_area'), 'area', ['destination_id'],
                                    ['id'])
    # Events recorded before: the group the person lives in now (a rebuild writes where they lived then).
    op.execute("UPDATE life_event SET group_id = (SELECT household.group_id FROM person JOIN household "
               "ON household.uuid = person.household_uuid WHERE person.uuid = life_event.person_uuid)")
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_register_decision_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({_KINDS_NOW})")


def downgrade():
    op.execute("DELETE FROM life_event WHERE decision_id IN (SELECT id FROM register_decision WHERE kind IN "
               "('record_move', 'confirm_arrival', 'merge_moved'))")
    op.execute("DELETE FROM register_decision WHERE kind IN ('record_move', 'confirm_arrival', 'merge_moved')")
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_register_decision_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({_KINDS_BEFORE})")
    with op.batch_alter_table('life_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_life_event_destination_id_area'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_life_event_group_id_area'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_life_event_destination_id'))
        batch_op.drop_index(batch_op.f('ix_life_event_group_id'))
        batch_op.drop_column('destination_id')
        batch_op.drop_column('group_id')
