"""interactions.dedupe_key for modal submissions

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(sa.Column("dedupe_key", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_interactions_dedupe_key", ["dedupe_key"])


def downgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.drop_constraint("uq_interactions_dedupe_key", type_="unique")
        batch.drop_column("dedupe_key")
