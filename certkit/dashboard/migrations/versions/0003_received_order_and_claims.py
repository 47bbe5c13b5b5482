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
    # Plain ADD COLUMN (NOT NULL needs a default): a batch copy of `backends` on SQLite would
    # drop a table that runs and cells reference, which foreign keys forbid.
    op.add_column('backends', sa.Column('claims', sa.JSON(), nullable=False,
                                        server_default=sa.text("'{}'")))
    op.add_column('cells', sa.Column('received_at', sa.DateTime(timezone=True), nullable=False,
                                     server_default=sa.text("'1970-01-01 00:00:00.000000'")))
    op.execute("UPDATE cells SET received_at = (SELECT runs.received_at FROM runs "
               "WHERE runs.id = cells.run_pk)")
    if op.get_bind().dialect.name != "sqlite":  # SQLite cannot drop a default in place
        op.alter_column('backends', 'claims', server_default=None)
        op.alter_column('cells', 'received_at', server_default=None)
    op.create_index('ix_runs_backend_received', 'runs', ['backend_id', 'received_at'],
                    unique=False)


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_backend_received')
    with op.batch_alter_table('cells', schema=None) as batch_op:
        batch_op.drop_column('received_at')
    with op.batch_alter_table('backends', schema=None) as batch_op:
        batch_op.drop_column('claims')
