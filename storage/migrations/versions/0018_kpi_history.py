"""kpi_history: every write of a KPI value, kept (kpi_values is overwritten in place), so
the digest can say what a quarter stood at a week ago or at the same point last quarter;
backfilled from the values there are now, each known since it was last set

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("attribution", sa.String(16), nullable=False),
        sa.Column("value", sa.Numeric(18, 2), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_kpi_history_month_at", "kpi_history", ["month", "at"])
    op.create_index("ix_kpi_history_key", "kpi_history", ["partner_id", "metric", "month", "source", "attribution", "at"])
    op.execute(
        "INSERT INTO kpi_history (partner_id, metric, month, source, attribution, value, at) "
        "SELECT partner_id, metric, month, source, attribution, value, updated_at FROM kpi_values"
    )


def downgrade() -> None:
    op.drop_index("ix_kpi_history_key", table_name="kpi_history")
    op.drop_index("ix_kpi_history_month_at", table_name="kpi_history")
    op.drop_table("kpi_history")
