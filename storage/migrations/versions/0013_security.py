"""security: seen_events (Events API de-duplication by event_id)

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_events",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_seen_events_seen_at", "seen_events", ["seen_at"])
    # help_requests.view_id: the "Ask a team" form that created a request (one request per form).
    with op.batch_alter_table("help_requests") as batch:
        batch.add_column(sa.Column("view_id", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_help_requests_view_id", ["view_id"])


def downgrade() -> None:
    with op.batch_alter_table("help_requests") as batch:
        batch.drop_constraint("uq_help_requests_view_id", type_="unique")
        batch.drop_column("view_id")
    op.drop_index("ix_seen_events_seen_at", table_name="seen_events")
    op.drop_table("seen_events")
