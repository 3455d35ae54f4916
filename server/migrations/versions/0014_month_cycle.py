"""month cycle: a village's month signed off, submitted, returned and accepted (month_signoff and its steps); the
archive of reports as they were submitted or filed (archived_report, byte for byte); the form versions collectors'
phones last downloaded (collector_form_download); re-check samples, re-checks and what they found

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 00:29:23.988727

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('archived_report',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('figures', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('monthly_change', 'village_review_quarter', 'village_review_year')", name=op.f('ck_archived_report_kind')),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_archived_report_area_id_area')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_archived_report_created_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archived_report')),
    sa.UniqueConstraint('kind', 'area_id', 'period_start', 'version', name=op.f('uq_archived_report_kind_area_id_period_start_version'))
    )
    with op.batch_alter_table('archived_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archived_report_area_id'), ['area_id'], unique=False)

    op.create_table('collector_form_download',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=False),
    sa.Column('downloaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['form_id'], ['form.id'], name=op.f('fk_collector_form_download_form_id_form')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_collector_form_download_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'form_id', name=op.f('pk_collector_form_download'))
    )
    op.create_table('recheck_sample',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('percent', sa.Float(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('drawn_by', sa.Integer(), nullable=True),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['drawn_by'], ['app_user.id'], name=op.f('fk_recheck_sample_drawn_by_app_user')),
    sa.ForeignKeyConstraint(['village_id'], ['area.id'], name=op.f('fk_recheck_sample_village_id_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recheck_sample')),
    sa.UniqueConstraint('village_id', 'month', name=op.f('uq_recheck_sample_village_id_month'))
    )
    with op.batch_alter_table('recheck_sample', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recheck_sample_village_id'), ['village_id'], unique=False)

    op.create_table('month_signoff',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('first_submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('submitted_by', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.String(length=500), nullable=True),
    sa.CheckConstraint("state IN ('submitted', 'returned', 'accepted')", name=op.f('ck_month_signoff_state')),
    sa.ForeignKeyConstraint(['decided_by'], ['app_user.id'], name=op.f('fk_month_signoff_decided_by_app_user')),
    sa.ForeignKeyConstraint(['report_id'], ['archived_report.id'], name=op.f('fk_month_signoff_report_id_archived_report')),
    sa.ForeignKeyConstraint(['submitted_by'], ['app_user.id'], name=op.f('fk_month_signoff_submitted_by_app_user')),
    sa.ForeignKeyConstraint(['village_id'], ['area.id'], name=op.f('fk_month_signoff_village_id_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_month_signoff')),
    sa.UniqueConstraint('village_id', 'month', name=op.f('uq_month_signoff_village_id_month'))
    )
    with op.batch_alter_table('month_signoff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_month_signoff_village_id'), ['village_id'], unique=False)

    op.create_table('recheck_household',
    sa.Column('sample_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('household_uuid', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['sample_id'], ['recheck_sample.id'], name=op.f('fk_recheck_household_sample_id_recheck_sample')),
    sa.PrimaryKeyConstraint('sample_id', 'household_uuid', name=op.f('pk_recheck_household'))
    )
    with op.batch_alter_table('recheck_household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recheck_household_household_uuid'), ['household_uuid'], unique=False)

    op.create_table('month_signoff_step',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('signoff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('step', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=True),
    sa.CheckConstraint("step IN ('submitted', 'returned', 'accepted')", name=op.f('ck_month_signoff_step_step')),
    sa.ForeignKeyConstraint(['report_id'], ['archived_report.id'], name=op.f('fk_month_signoff_step_report_id_archived_report')),
    sa.ForeignKeyConstraint(['signoff_id'], ['month_signoff.id'], name=op.f('fk_month_signoff_step_signoff_id_month_signoff')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_month_signoff_step_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_month_signoff_step'))
    )
    with op.batch_alter_table('month_signoff_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_month_signoff_step_signoff_id'), ['signoff_id'], unique=False)

    op.create_table('recheck',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sample_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('household_uuid', sa.String(length=64), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=5), nullable=False),
    sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('web', 'phone')", name=op.f('ck_recheck_source')),
    sa.ForeignKeyConstraint(['recorded_by'], ['app_user.id'], name=op.f('fk_recheck_recorded_by_app_user')),
    sa.ForeignKeyConstraint(['sample_id'], ['recheck_sample.id'], name=op.f('fk_recheck_sample_id_recheck_sample')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_recheck_submission_id_submission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recheck')),
    sa.UniqueConstraint('sample_id', 'household_uuid', name=op.f('uq_recheck_sample_id_household_uuid'))
    )
    with op.batch_alter_table('recheck', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recheck_sample_id'), ['sample_id'], unique=False)

    op.create_table('recheck_finding',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('recheck_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_uuid', sa.String(length=64), nullable=True),
    sa.Column('person_name', sa.String(length=100), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('register_value', sa.String(length=300), nullable=True),
    sa.Column('observed_value', sa.String(length=300), nullable=True),
    sa.Column('agrees', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['recheck_id'], ['recheck.id'], name=op.f('fk_recheck_finding_recheck_id_recheck')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recheck_finding'))
    )
    with op.batch_alter_table('recheck_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recheck_finding_person_uuid'), ['person_uuid'], unique=False)
        batch_op.create_index(batch_op.f('ix_recheck_finding_recheck_id'), ['recheck_id'], unique=False)



def downgrade():
    with op.batch_alter_table('recheck_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recheck_finding_recheck_id'))
        batch_op.drop_index(batch_op.f('ix_recheck_finding_person_uuid'))

    op.drop_table('recheck_finding')
    with op.batch_alter_table('recheck', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recheck_sample_id'))

    op.drop_table('recheck')
    with op.batch_alter_table('month_signoff_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_month_signoff_step_signoff_id'))

    op.drop_table('month_signoff_step')
    with op.batch_alter_table('recheck_household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recheck_household_household_uuid'))

    op.drop_table('recheck_household')
    with op.batch_alter_table('month_signoff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_month_signoff_village_id'))

    op.drop_table('month_signoff')
    with op.batch_alter_table('recheck_sample', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recheck_sample_village_id'))

    op.drop_table('recheck_sample')
    op.drop_table('collector_form_download')
    with op.batch_alter_table('archived_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archived_report_area_id'))

    op.drop_table('archived_report')
