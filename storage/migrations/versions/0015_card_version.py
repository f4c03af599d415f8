"""card version and list index: partners.version, set afresh by every write that changes
a partner's card; ix_partners_listed for `list` pages

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_partners_listed", "partners", ["archived_at", "name_key"])


def downgrade() -> None:
    op.drop_index("ix_partners_listed", table_name="partners")
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("version")
