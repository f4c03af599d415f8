"""routes.sla_hours: a team's own SLA in business hours (`/partner route … sla:48h`),
overriding PARTNERBOT_REQUEST_SLA_HOURS; empty means the default

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("routes") as batch:
        batch.add_column(sa.Column("sla_hours", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routes") as batch:
        batch.drop_column("sla_hours")
