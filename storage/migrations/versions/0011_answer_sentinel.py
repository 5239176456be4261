"""answer.sentinel: lets the answers one flush adds go in one INSERT on SQLite

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

SQLite's RETURNING gives rows in no promised order, so SQLAlchemy inserts several new rows of one table
one statement each unless a client-side sentinel column tells them apart; a written contribution (a form
reply, an application by email) stores several answers at once. A nullable column added to a child
table: no parent table is altered, no row is rewritten.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("answer", sa.Column("sentinel", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answer") as batch:
        batch.drop_column("sentinel")
