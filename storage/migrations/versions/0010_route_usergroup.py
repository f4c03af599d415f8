"""routes.usergroup_id (mentioned in escalations)

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("routes") as batch:
        batch.add_column(sa.Column("usergroup_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routes") as batch:
        batch.drop_column("usergroup_id")
