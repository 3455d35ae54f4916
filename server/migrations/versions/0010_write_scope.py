"""write scope: each register decision records the area it was made about (undo checks it); a visit the merge
refused (it named records of another group) keeps the reason for the village cadre

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_GROUP_OF_HOUSEHOLD = ("(SELECT area.path FROM household JOIN area ON area.id = household.group_id "
                       "WHERE household.uuid = {uuid})")
_VILLAGE_OF_PERSON = ("(SELECT village.path FROM person JOIN household ON household.uuid = person.household_uuid "
                      "JOIN area grp ON grp.id = household.group_id JOIN area village ON village.id = grp.parent_id "
                      "WHERE person.uuid = {uuid})")
_GROUP_OF_PERSON = ("(SELECT area.path FROM person JOIN household ON household.uuid = person.household_uuid "
                    "JOIN area ON area.id = household.group_id WHERE person.uuid = {uuid})")
# The group a household was in before a move: the group value of its history just before the one the move set.
_GROUP_BEFORE_MOVE = (
    "(SELECT area.path FROM register_field_value earlier JOIN area ON CAST(area.id AS VARCHAR(20)) = earlier.value "
    "WHERE earlier.record_uuid = register_decision.subject_uuid AND earlier.field = 'group' AND earlier.version < "
    "(SELECT moved.version FROM register_field_value moved WHERE moved.decision_id = register_decision.id "
    "AND moved.field = 'group') ORDER BY earlier.version DESC LIMIT 1)")


def upgrade():
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_path', sa.String(length=255), nullable=True))
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refusal', sa.String(length=40), nullable=True))
    # Decisions made before: the area each kind records when it is made now (a merge of people and a tier: the
    # village; the others: the group), as far as the register still shows it. A decision whose records are all
    # gone keeps no area, and no one may undo it.
    def household(uuid):
        return _GROUP_OF_HOUSEHOLD.format(uuid=uuid)

    def village_of(uuid):
        return _VILLAGE_OF_PERSON.format(uuid=uuid)

    op.execute("UPDATE register_decision SET area_path = (SELECT area.path FROM submission JOIN area "
               "ON area.id = submission.area_id WHERE CAST(submission.id AS VARCHAR(64)) = "
               "register_decision.subject_uuid) WHERE kind = 'reject_visit'")
    op.execute("UPDATE register_decision SET area_path = COALESCE("
               f"{household('register_decision.target')}, {household('register_decision.subject_uuid')}) "
               "WHERE kind = 'merge_households'")
    op.execute(f"UPDATE register_decision SET area_path = COALESCE({_GROUP_BEFORE_MOVE}, "
               f"{household('register_decision.subject_uuid')}) WHERE kind = 'move_household'")
    op.execute("UPDATE register_decision SET area_path = COALESCE("
               f"{village_of('register_decision.target')}, {village_of('register_decision.subject_uuid')}) "
               "WHERE kind = 'merge_people'")
    op.execute(f"UPDATE register_decision SET area_path = {village_of('register_decision.subject_uuid')} "
               "WHERE kind = 'set_tier'")
    group_of_subject = _GROUP_OF_PERSON.format(uuid='register_decision.subject_uuid')
    op.execute(f"UPDATE register_decision SET area_path = {group_of_subject} "
               "WHERE kind = 'set_field' AND field LIKE 'person:%'")
    op.execute(f"UPDATE register_decision SET area_path = {household('register_decision.subject_uuid')} "
               "WHERE kind = 'set_field' AND field LIKE 'household:%'")


def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('refusal')
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.drop_column('area_path')
