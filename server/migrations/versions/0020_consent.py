"""consent withdrawal (issue 21): the decision kind withdraw_consent (a person withdrew the consent under which
sensitive services were recorded; sync.consent)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 07:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_KINDS_BEFORE = ("'merge_people', 'merge_households', 'move_household', 'set_tier', 'set_field', "
                 "'reject_visit', 'referral_result', 'support_outcome', 'correct_service', 'add_person', "
                 "'record_move', 'confirm_arrival', 'merge_moved'")
_KINDS_NOW = _KINDS_BEFORE + ", 'withdraw_consent'"


def upgrade():
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_register_decision_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({_KINDS_NOW})")


def downgrade():
    # The register is derived: `taizhang rebuild` after the downgrade brings back what the withdrawals took out.
    op.execute("DELETE FROM register_decision WHERE kind = 'withdraw_consent'")
    with op.batch_alter_table('register_decision', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_register_decision_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({_KINDS_BEFORE})")
