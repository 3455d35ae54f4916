"""page speed at county size (issue 22): the register's change counter (register_change, bumped by a statement
trigger on PostgreSQL) read by the counted figures instead of counting every visit, submission, decision and
review; indexes the staff pages need on a county (the inbox's collectors, each collector's last sync, the audit log
by area)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

COUNTED_TABLES = ("visit", "submission", "register_decision", "visit_review")
SHARDS = 1024   # server.schedules.models.CHANGE_SHARDS

CHANGED = f"""
CREATE FUNCTION register_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO register_change (shard, changes) VALUES (pg_backend_pid() % {SHARDS}, 1)
    ON CONFLICT (shard) DO UPDATE SET changes = register_change.changes + 1;
    RETURN NULL;
END $$
"""


def upgrade():
    op.create_table('register_change',
    sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('changes', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('shard', name=op.f('pk_register_change'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_area_path', ['area_path'], unique=False,
                              postgresql_ops={'area_path': 'varchar_pattern_ops'})
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index('ix_submission_area_form_collector', ['area_id', 'form_id', 'collector_name'],
                              unique=False)
        batch_op.create_index('ix_submission_submitter_received', ['submitter_id', 'received_at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CHANGED)
        for table in COUNTED_TABLES:
            op.execute(f"CREATE TRIGGER register_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION register_changed()")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in COUNTED_TABLES:
            op.execute(f"DROP TRIGGER register_changed ON {table}")
        op.execute("DROP FUNCTION register_changed()")
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_submitter_received')
        batch_op.drop_index('ix_submission_area_form_collector')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_area_path')
    op.drop_table('register_change')
