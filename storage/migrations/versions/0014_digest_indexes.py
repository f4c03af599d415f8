"""digest indexes: the weekly digest's quarter figures and week counts by index

Revision ID: 0014
Revises: 0013
"""
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# name, table, columns: the same as the Index(...) lines in storage/models.py.
INDEXES = (
    # The quarter's sourced values and targets, covering (storage.kpis: the digest's figures).
    ("ix_kpi_values_quarter", "kpi_values", ["month", "attribution", "partner_id", "metric", "source", "value"]),
    ("ix_kpi_targets_period", "kpi_targets", ["period", "partner_id", "metric", "value"]),
    # The week's activity counts (storage.partners.activity).
    ("ix_interactions_occurred_kind", "interactions", ["occurred_at", "kind"]),
    ("ix_deals_registered", "deal_registrations", ["registered_at"]),
    ("ix_help_requests_created", "help_requests", ["created_at"]),
    ("ix_help_requests_resolved", "help_requests", ["resolved_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
