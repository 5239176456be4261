"""submission.flag and .client (ballot stuffing made visible), kiosk (stands' tablet tokens)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Plain ADD COLUMNs, never batch mode: on SQLite batch mode rebuilds the table, and dropping
    # the old one with foreign keys on cascades to every answer.
    op.add_column('submission', sa.Column('flag', sa.String(length=16), nullable=True))
    op.add_column('submission', sa.Column('client', sa.String(length=40), nullable=True))
    op.create_table('kiosk',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_kiosk')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_kiosk_token_digest'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('kiosk')
    # SQLite ≥ 3.35 drops a column in place (no table rebuild, so no cascade).
    op.drop_column('submission', 'client')
    op.drop_column('submission', 'flag')
