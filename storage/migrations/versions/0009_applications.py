"""application: working-group applications, with the personal data they need, kept apart

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

A new table only: no parent table is altered (never batch mode on SQLite: it rebuilds the table,
and dropping the old one with foreign keys on cascades).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('respondent_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('exclusion_reason', sa.Text(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('name_key', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('email_verified', sa.Boolean(), nullable=False),
    sa.Column('organisation', sa.Text(), nullable=True),
    sa.Column('sector', sa.String(length=24), nullable=True),
    sa.Column('groups', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('available', sa.Boolean(), nullable=True),
    sa.Column('privacy_version', sa.String(length=40), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['respondent_id'], ['respondent.id'], name=op.f('fk_application_respondent_id_respondent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_application_submission_id_submission'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application')),
    sa.UniqueConstraint('respondent_id', name=op.f('uq_application_respondent_id'))
    )
    op.create_index(op.f('ix_application_email'), 'application', ['email'], unique=False)
    op.create_index(op.f('ix_application_name_key'), 'application', ['name_key'], unique=False)
    op.create_index(op.f('ix_application_received_at'), 'application', ['received_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_application_received_at'), table_name='application')
    op.drop_index(op.f('ix_application_name_key'), table_name='application')
    op.drop_index(op.f('ix_application_email'), table_name='application')
    op.drop_table('application')
