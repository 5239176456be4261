"""email.reply_to: a Reply-To other than From, kept for staff (never used for automatic mail)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Emails stored before this version keep their raw source, so their Reply-To can still be read
there; the column starts empty for them.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # A plain ADD COLUMN, never batch mode: on SQLite batch mode rebuilds the table, and dropping
    # the old one with foreign keys on cascades.
    op.add_column('email', sa.Column('reply_to', sa.String(length=320), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    # SQLite ≥ 3.35 drops a column in place (no table rebuild, so no cascade).
    op.drop_column('email', 'reply_to')
