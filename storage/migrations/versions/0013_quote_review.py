"""quote_review: staff's decision on quoting each open answer in a public report

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

A new table; a decision goes with its submission (erasure, purge) through the foreign key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quote_review",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("question_code", sa.String(length=24), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("source_digest", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_quote_review_submission_id_submission"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("submission_id", "question_code", name=op.f("pk_quote_review")),
    )


def downgrade() -> None:
    op.drop_table("quote_review")
