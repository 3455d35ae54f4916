"""account security: server-side staff sessions (signing out ends them), failed sign-in counts and lockouts per
user and per address, and the Digest (nonce, nc) pairs already used (a captured header cannot be replayed)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_staff_session_user_id_app_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_session')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_staff_session_key_hash'))
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_session_expires_at'), ['expires_at'], unique=False)

    op.create_table('auth_throttle',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_auth_throttle'))
    )

    op.create_table('digest_nonce_use',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('nc', sa.String(length=8), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce', 'nc', name=op.f('pk_digest_nonce_use'))
    )
    with op.batch_alter_table('digest_nonce_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_nonce_use_issued_at'), ['issued_at'], unique=False)


def downgrade():
    with op.batch_alter_table('digest_nonce_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_nonce_use_issued_at'))
    op.drop_table('digest_nonce_use')
    op.drop_table('auth_throttle')
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_expires_at'))
        batch_op.drop_index(batch_op.f('ix_staff_session_user_id'))
    op.drop_table('staff_session')
