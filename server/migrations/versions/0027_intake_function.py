"""intake's statement as a function (issue 22, round 4): on PostgreSQL `intake_submission(…)` inserts a submission
(ON CONFLICT DO NOTHING) and queues it for the register, with its own `plan_cache_mode = auto`, so the insert, its
foreign-key checks and the register_changed trigger's upsert reuse generic plans instead of planning each of them for
every submission as the connections' force_custom_plan would (docs/benchmarks.md § Issue 22 (round 4), item 6)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 18:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

# No conflict target, as server.submissions.queries says: a clash on instance_id or deprecated_id does nothing.
INTAKE = """
CREATE FUNCTION intake_submission(
    p_instance_id varchar, p_root_instance_id varchar, p_deprecated_id varchar, p_form_id integer,
    p_form_version_id integer, p_xml bytea, p_xml_sha256 varchar, p_submitter_id integer, p_area_id integer,
    p_collector_name varchar, p_device_id varchar, p_user_agent varchar, p_received_at timestamptz,
    p_queued_at timestamptz) RETURNS bigint LANGUAGE plpgsql SET plan_cache_mode = auto AS $$
DECLARE
    stored bigint;
BEGIN
    INSERT INTO submission (instance_id, root_instance_id, deprecated_id, form_id, form_version_id, xml, xml_sha256,
                            submitter_id, area_id, collector_name, device_id, user_agent, received_at)
    VALUES (p_instance_id, p_root_instance_id, p_deprecated_id, p_form_id, p_form_version_id, p_xml, p_xml_sha256,
            p_submitter_id, p_area_id, p_collector_name, p_device_id, p_user_agent, p_received_at)
    ON CONFLICT DO NOTHING
    RETURNING id INTO stored;
    IF stored IS NOT NULL THEN
        INSERT INTO merge_queue (submission_id, enqueued_at) VALUES (stored, p_queued_at);
    END IF;
    RETURN stored;
END $$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(INTAKE)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION intake_submission(varchar, varchar, varchar, integer, integer, bytea, varchar, "
                   "integer, integer, varchar, varchar, varchar, timestamptz, timestamptz)")
