"""person search: each person's name as pinyin run together and as initials (sync.search_keys), filled in here for
the people already in the register; indexes a search by the beginning of a name, its pinyin or initials, an ID
number or a phone number can use on PostgreSQL (varchar_pattern_ops), and one on household numbers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:40:00

"""
from alembic import op
import sqlalchemy as sa

from sync.search_keys import name_search_keys


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_PREFIX_INDEXES = (('ix_person_name', 'name'), ('ix_person_name_pinyin', 'name_pinyin'),
                   ('ix_person_name_initials', 'name_initials'), ('ix_person_id_number', 'id_number'),
                   ('ix_person_phone', 'phone'))


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_pinyin', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('name_initials', sa.String(length=100), nullable=True))
        batch_op.drop_index('ix_person_id_number')
        for name, column in _PREFIX_INDEXES:
            batch_op.create_index(name, [column], unique=False, postgresql_ops={column: 'varchar_pattern_ops'})
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_household_no'), ['household_no'], unique=False)
    # The keys of the people already here, name by name (a rebuild would write the same).
    person = sa.table('person', sa.column('name', sa.String), sa.column('name_pinyin', sa.String),
                      sa.column('name_initials', sa.String))
    connection = op.get_bind()
    names = connection.execute(sa.select(person.c.name).distinct().where(person.c.name.is_not(None))).scalars().all()
    rows = []
    for name in names:
        keys = name_search_keys(name)
        if keys.pinyin or keys.initials:
            rows.append({'old_name': name, 'pinyin': keys.pinyin, 'initials': keys.initials})
    if rows:
        connection.execute(person.update().where(person.c.name == sa.bindparam('old_name'))
                           .values(name_pinyin=sa.bindparam('pinyin'), name_initials=sa.bindparam('initials')), rows)


def downgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_household_no'))
    with op.batch_alter_table('person', schema=None) as batch_op:
        for name, _column in reversed(_PREFIX_INDEXES):
            batch_op.drop_index(name)
        batch_op.create_index(batch_op.f('ix_person_id_number'), ['id_number'], unique=False)
        batch_op.drop_column('name_initials')
        batch_op.drop_column('name_pinyin')
