"""partner channels (Slack Connect): who acted from which organisation, what a partner
submitted from its channel, the desk forms' channel, and partner activity as times and
per-day counts (never message text)

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("partner_active_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("changes") as batch:
        batch.add_column(sa.Column("team_id", sa.String(32), nullable=True))
    with op.batch_alter_table("deal_registrations") as batch:
        batch.add_column(sa.Column("submitted_team_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("expected_close", sa.Date(), nullable=True))
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("help_requests") as batch:
        batch.add_column(sa.Column("requester_team_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("category", sa.String(16), nullable=True))
        batch.add_column(sa.Column("partner_channel_id", sa.String(32), nullable=True))
    op.create_table(
        "desk_forms",
        sa.Column("view_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "partner_activity",
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("partner_activity")
    op.drop_table("desk_forms")
    with op.batch_alter_table("help_requests") as batch:
        for column in ("partner_channel_id", "category", "requester_team_id"):
            batch.drop_column(column)
    with op.batch_alter_table("deal_registrations") as batch:
        for column in ("decision_reason", "notes", "expected_close", "submitted_team_id"):
            batch.drop_column(column)
    with op.batch_alter_table("changes") as batch:
        batch.drop_column("team_id")
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("partner_active_at")
