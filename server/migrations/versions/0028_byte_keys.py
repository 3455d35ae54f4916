"""keys compared byte by byte (issue 22, the rebuild): on PostgreSQL the register's uuid columns, match keys, service
item keys and field names take the "C" collation (server.extensions.byte_key), whose comparisons are memcmp, not the
database collation's; a full rebuild re-creates their indexes with a fifth less CPU. Equality is unchanged, and uuids are
ASCII of one shape, so no order changes either; SQLite compares bytes already (nothing to do). On both, the field
values' index by decision holds only the values a decision wrote (not one NULL entry for each of the others)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 18:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

DECIDED = sa.text("decision_id IS NOT NULL")
KEYS = {   # table: [(column, length)]
    'household': [('uuid', 64)],
    'person': [('uuid', 64), ('household_uuid', 64)],
    'register_field_value': [('record_uuid', 64), ('field', 32)],
    'register_conflict': [('record_uuid', 64)],
    'life_event': [('person_uuid', 64)],
    'visit': [('household_uuid', 64), ('person_uuid', 64)],
    'submission_record': [('record_uuid', 64)],
    'service_anchor': [('person_uuid', 64)],
    'service_item': [('household_uuid', 64), ('person_uuid', 64), ('item_key', 300), ('refers_to', 300)],
    'person_match_key': [('person_uuid', 64), ('key', 120)],
    'schedule_summary': [('record_uuid', 64), ('head', 64)],
    'purged_record': [('uuid', 64)],
    'person_copy': [('person_uuid', 64)],
    'recheck': [('household_uuid', 64)],
    'recheck_household': [('household_uuid', 64)],
    'recheck_finding': [('person_uuid', 64)],
    'duplicate_candidate': [('a_uuid', 64), ('b_uuid', 64), ('departed_uuid', 64)],
    'service_notice': [('person_uuid', 64)],
    'register_decision': [('subject_uuid', 300)],
}


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in KEYS.items():
        changes = ", ".join(f'ALTER COLUMN "{column}" TYPE varchar({length}) COLLATE "{collation}"'
                            for column, length in columns)
        op.execute(f'ALTER TABLE "{table}" {changes}')
        # A column's type changed loses its statistics: without them the planner guesses, and a register's reads
        # by uuid turned into scans until autovacuum analysed the table again.
        op.execute(f'ANALYZE "{table}"')


def upgrade():
    _collate("C")
    with op.batch_alter_table('register_field_value', schema=None) as batch_op:
        batch_op.drop_index('ix_register_field_value_decision_id')
        batch_op.create_index('ix_register_field_value_decision_id', ['decision_id'], unique=False,
                              postgresql_where=DECIDED, sqlite_where=DECIDED)


def downgrade():
    with op.batch_alter_table('register_field_value', schema=None) as batch_op:
        batch_op.drop_index('ix_register_field_value_decision_id')
        batch_op.create_index('ix_register_field_value_decision_id', ['decision_id'], unique=False)
    _collate("default")
