"""staff pages at county size (issue 22, round 2): on PostgreSQL an index on each audit event's town (the first id
of its area path) and id, so that a town office's log is read newest first a page at a time from its own events,
not by walking the county's log for the town's; an index on a visit's form and date (the follow-up register of an
area reads a month's follow-ups, not every visit)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 12:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_form_date', ['form', 'visit_date'], unique=False)
    if op.get_bind().dialect.name == "postgresql":   # server.audit.listing reads it; SQLite keeps the path's index
        op.execute("CREATE INDEX ix_audit_event_town_id ON audit_event (split_part(area_path, '/', 2), id)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_audit_event_town_id")
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_form_date')
