"""interactions.follow_up_on

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(sa.Column("follow_up_on", sa.Date(), nullable=True))
    op.create_index("ix_interactions_follow_up", "interactions", ["follow_up_on"])


def downgrade() -> None:
    op.drop_index("ix_interactions_follow_up", "interactions")
    with op.batch_alter_table("interactions") as batch:
        batch.drop_column("follow_up_on")
