"""initial schema

Revision ID: 0001
Revises: (none)
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release', sa.String(length=40), nullable=False),
    sa.Column('manila_version', sa.Text(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audits_release'), ['release'], unique=False)

    op.create_table('backends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('vendor', sa.Text(), nullable=False),
    sa.Column('driver', sa.Text(), nullable=False),
    sa.Column('protocols', sa.JSON(), nullable=False),
    sa.Column('maintainers', sa.JSON(), nullable=False),
    sa.Column('ci_account', sa.Text(), nullable=False),
    sa.Column('claimed', sa.JSON(), nullable=False),
    sa.Column('has_profile', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('backends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backends_driver'), ['driver'], unique=False)

    op.create_table('check_defs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Text(), nullable=False),
    sa.Column('variant', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('suite', sa.Text(), nullable=False),
    sa.Column('feature', sa.Text(), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('check_id', 'variant')
    )
    op.create_table('ci_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('account', sa.Text(), nullable=False),
    sa.Column('project', sa.Text(), nullable=False),
    sa.Column('change', sa.Integer(), nullable=False),
    sa.Column('patchset', sa.Integer(), nullable=False),
    sa.Column('branch', sa.Text(), nullable=False),
    sa.Column('verified', sa.SmallInteger(), nullable=False),
    sa.Column('jobs', sa.JSON(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account', 'change', 'patchset', 'seen_at')
    )
    with op.batch_alter_table('ci_votes', schema=None) as batch_op:
        batch_op.create_index('ix_ci_votes_account_seen', ['account', 'seen_at'], unique=False)

    op.create_table('tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('profiles', sa.JSON(), nullable=False),
    sa.Column('admin', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('digest')
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tokens_account'), ['account'], unique=False)

    op.create_table('audit_drivers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('driver', sa.Text(), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('audit_id', 'driver')
    )
    with op.batch_alter_table('audit_drivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_drivers_driver'), ['driver'], unique=False)

    op.create_table('runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('backend_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=16), nullable=False),
    sa.Column('account', sa.Text(), nullable=False),
    sa.Column('release', sa.String(length=40), nullable=False),
    sa.Column('manila_version', sa.Text(), nullable=False),
    sa.Column('manila_change', sa.Text(), nullable=False),
    sa.Column('driver_version', sa.Text(), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('header', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['backend_id'], ['backends.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('backend_id', 'run_id')
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index('ix_runs_account_started', ['account', 'started_at'], unique=False)
        batch_op.create_index('ix_runs_backend_started', ['backend_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_runs_release'), ['release'], unique=False)

    op.create_table('cells',
    sa.Column('backend_id', sa.Integer(), nullable=False),
    sa.Column('release', sa.String(length=40), nullable=False),
    sa.Column('feature', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('run_pk', sa.Integer(), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['backend_id'], ['backends.id'], ),
    sa.ForeignKeyConstraint(['run_pk'], ['runs.id'], ),
    sa.PrimaryKeyConstraint('backend_id', 'release', 'feature')
    )
    op.create_table('results',
    sa.Column('run_pk', sa.Integer(), nullable=False),
    sa.Column('check_pk', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.SmallInteger(), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['check_pk'], ['check_defs.id'], ),
    sa.ForeignKeyConstraint(['run_pk'], ['runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_pk', 'check_pk')
    )


def downgrade() -> None:
    op.drop_table('results')
    op.drop_table('cells')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runs_release'))
        batch_op.drop_index('ix_runs_backend_started')
        batch_op.drop_index('ix_runs_account_started')

    op.drop_table('runs')
    with op.batch_alter_table('audit_drivers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_drivers_driver'))

    op.drop_table('audit_drivers')
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tokens_account'))

    op.drop_table('tokens')
    with op.batch_alter_table('ci_votes', schema=None) as batch_op:
        batch_op.drop_index('ix_ci_votes_account_seen')

    op.drop_table('ci_votes')
    op.drop_table('check_defs')
    with op.batch_alter_table('backends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backends_driver'))

    op.drop_table('backends')
    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audits_release'))

    op.drop_table('audits')
