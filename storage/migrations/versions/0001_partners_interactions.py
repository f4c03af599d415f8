"""partners and interactions

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(80), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("tier", sa.String(40), nullable=True),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("stage_changed_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("name_key", name="uq_partners_name_key"),
    )
    op.create_index("ix_partners_owner_stage", "partners", ["owner_id", "stage"])
    op.create_index("ix_partners_type", "partners", ["type"])
    op.create_index("ix_partners_stage", "partners", ["stage"])
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "partner_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("author_id", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_interactions_partner_occurred", "interactions", ["partner_id", "occurred_at"])


def downgrade() -> None:
    op.drop_table("interactions")
    op.drop_table("partners")
