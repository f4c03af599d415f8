"""onboarding, QBRs, KPIs and targets, deal registrations

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("onboarding_changed_at", sa.DateTime(), nullable=True))
    op.create_table(
        "onboarding_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("done_by", sa.String(32), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("partner_id", "step", name="uq_onboarding_steps_partner_step"),
    )
    op.create_table(
        "qbrs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("scheduled_for", sa.Date(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_qbrs_partner_scheduled", "qbrs", ["partner_id", "scheduled_for"])
    op.create_index("ix_qbrs_scheduled", "qbrs", ["scheduled_for"])
    op.create_table(
        "kpi_values",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("attribution", sa.String(16), nullable=False),
        sa.Column("value", sa.Numeric(18, 2), nullable=False),
        sa.Column("entered_by", sa.String(32), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("partner_id", "metric", "month", "source", "attribution", name="uq_kpi_values_key"),
    )
    op.create_index("ix_kpi_values_month_metric", "kpi_values", ["month", "metric"])
    op.create_table(
        "kpi_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("value", sa.Numeric(18, 2), nullable=False),
        sa.Column("set_by", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("partner_id", "metric", "period", name="uq_kpi_targets_key"),
    )
    op.create_table(
        "deal_registrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("customer", sa.String(120), nullable=False),
        sa.Column("customer_key", sa.String(120), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("attribution", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("conflict_with_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="SET NULL"), nullable=True),
        sa.Column("registered_by", sa.String(32), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(32), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_deals_customer_registered", "deal_registrations", ["customer_key", "registered_at"])
    op.create_index("ix_deals_partner_status", "deal_registrations", ["partner_id", "status"])


def downgrade() -> None:
    op.drop_table("deal_registrations")
    op.drop_table("kpi_targets")
    op.drop_table("kpi_values")
    op.drop_table("qbrs")
    op.drop_table("onboarding_steps")
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("onboarding_changed_at")
