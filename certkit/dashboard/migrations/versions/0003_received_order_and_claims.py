"""Latest means latest received: cells.received_at (backfilled from the speaking run), an index on
runs (backend_id, received_at); backends.claims keeps a profile's access and DHSS claims

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('backends', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claims', sa.JSON(), nullable=True))
    op.execute("UPDATE backends SET claims = '{}'")
    with op.batch_alter_table('backends', schema=None) as batch_op:
        batch_op.alter_column('claims', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('cells', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE cells SET received_at = (SELECT runs.received_at FROM runs "
               "WHERE runs.id = cells.run_pk)")
    with op.batch_alter_table('cells', schema=None) as batch_op:
        batch_op.alter_column('received_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index('ix_runs_backend_received', ['backend_id', 'received_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_backend_received')
    with op.batch_alter_table('cells', schema=None) as batch_op:
        batch_op.drop_column('received_at')
    with op.batch_alter_table('backends', schema=None) as batch_op:
        batch_op.drop_column('claims')
