"""partners.archived_at and partners.slack_channel_id

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("archived_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("slack_channel_id", sa.String(32), nullable=True))
    op.create_index("ix_partners_slack_channel", "partners", ["slack_channel_id"])


def downgrade() -> None:
    op.drop_index("ix_partners_slack_channel", "partners")
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("slack_channel_id")
        batch.drop_column("archived_at")
