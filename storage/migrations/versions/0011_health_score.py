"""partners.health_score, health_reasons, health_at: the one stored health

Revision ID: 0011
Revises: 0010

Existing partners start with no score (NULL): the migration cannot run the
app's health function, so `partnerbot db upgrade` (and every CLI start-up,
which upgrades first) scores them right after migrating; `health-refresh`
would fill them too.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("health_score", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("health_reasons", sa.Text(), nullable=True))
        batch.add_column(sa.Column("health_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_partners_health", ["health_score"])


def downgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.drop_index("ix_partners_health")
        batch.drop_column("health_at")
        batch.drop_column("health_reasons")
        batch.drop_column("health_score")
