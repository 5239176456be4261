"""selection: the working groups' draw, seats and reserve places, notices sent once, attendance;
the outbox learns Telegram and calendar invitations

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

New tables, and three columns added to the outbox (a server default for the existing rows' channel).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("channel", sa.String(length=16), server_default="email", nullable=False))
    op.add_column("outbox", sa.Column("calendar", sa.Text(), nullable=True))
    op.add_column("outbox", sa.Column("buttons", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "selection_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("library_version", sa.String(length=40), nullable=False),
        sa.Column("solver_version", sa.String(length=40), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("decisions_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_draw")),
    )
    op.create_table(
        "placement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("group_code", sa.String(length=24), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("reserve_rank", sa.Integer(), nullable=True),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attendance", sa.String(length=12), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=24), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["application.id"], name=op.f("fk_placement_application_id_application"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"], ["selection_draw.id"], name=op.f("fk_placement_draw_id_selection_draw"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement")),
        sa.UniqueConstraint(
            "draw_id", "application_id", "group_code", name=op.f("uq_placement_draw_id_application_id_group_code")
        ),
    )
    op.create_index(op.f("ix_placement_application_id"), "placement", ["application_id"])
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["application.id"], name=op.f("fk_notice_application_id_application"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
        sa.UniqueConstraint("application_id", "kind", "key", name=op.f("uq_notice_application_id_kind_key")),
    )
    op.create_table(
        "meeting_attendance",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("meeting", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_meeting_attendance_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("application_id", "meeting", name=op.f("pk_meeting_attendance")),
    )


def downgrade() -> None:
    op.drop_table("meeting_attendance")
    op.drop_table("notice")
    op.drop_index(op.f("ix_placement_application_id"), table_name="placement")
    op.drop_table("placement")
    op.drop_table("selection_draw")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("buttons")
        batch.drop_column("calendar")
        batch.drop_column("channel")
