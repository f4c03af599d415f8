"""lifecycle: QBRs can be cancelled and a partner has at most one upcoming QBR;
changes name their partner (for `/partner history`)

Revision ID: 0012
Revises: 0011
"""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPCOMING = "held_on IS NULL AND cancelled_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("qbrs") as batch:
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("changes") as batch:
        batch.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
    op.create_index("ix_changes_partner", "changes", ["partner_id", "id"])

    bind = op.get_bind()
    _backfill_change_partners(bind)
    qbrs = sa.table("qbrs", sa.column("id", sa.Integer), sa.column("partner_id", sa.Integer),
                    sa.column("scheduled_for", sa.Date), sa.column("held_on", sa.Date), sa.column("cancelled_at", sa.DateTime))
    # Duplicates from before the rule: keep each partner's most recently scheduled
    # QBR (the latest intent) and cancel the others, so the unique index can exist.
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    keep = sa.select(sa.func.max(qbrs.c.id)).where(qbrs.c.held_on.is_(None)).group_by(qbrs.c.partner_id)
    bind.execute(
        qbrs.update().where(qbrs.c.held_on.is_(None), qbrs.c.cancelled_at.is_(None), qbrs.c.id.not_in(keep)).values(cancelled_at=now)
    )
    op.create_index("uq_qbrs_one_upcoming", "qbrs", ["partner_id"], unique=True,
                    sqlite_where=sa.text(UPCOMING), postgresql_where=sa.text(UPCOMING))

    # Reminders are now keyed by the QBR's date (a moved QBR is reminded again for
    # its new date); re-key the ones already sent so none goes out twice.
    ledger = sa.table("notification_ledger", sa.column("id", sa.Integer), sa.column("job", sa.String),
                      sa.column("subject", sa.String), sa.column("period", sa.String))
    dates = dict(bind.execute(sa.select(qbrs.c.id, qbrs.c.scheduled_for).where(qbrs.c.scheduled_for.is_not(None))).all())
    for row_id, subject in bind.execute(
        sa.select(ledger.c.id, ledger.c.subject).where(ledger.c.job == "qbr-reminders", ledger.c.period == "reminder")
    ).all():
        qbr_id = subject.removeprefix("qbr:")
        day = dates.get(int(qbr_id)) if qbr_id.isdigit() else None
        if day is not None:
            bind.execute(ledger.update().where(ledger.c.id == row_id).values(period=str(day)[:10]))


def _backfill_change_partners(bind) -> None:
    """The trail so far names its partner only inside the undo payload; copy it out."""
    changes = sa.table("changes", sa.column("id", sa.Integer), sa.column("undo", sa.Text), sa.column("partner_id", sa.Integer))
    interactions = sa.table("interactions", sa.column("id", sa.Integer), sa.column("partner_id", sa.Integer))
    qbrs = sa.table("qbrs", sa.column("id", sa.Integer), sa.column("partner_id", sa.Integer))
    for change_id, undo in bind.execute(sa.select(changes.c.id, changes.c.undo)).all():
        try:
            data = json.loads(undo)
        except ValueError:
            continue
        partner_id = data.get("partner_id") if isinstance(data, dict) else None
        if partner_id is None and isinstance(data.get("key"), dict):
            partner_id = data["key"].get("partner_id")
        if partner_id is None and "interaction_id" in data:
            partner_id = bind.scalar(sa.select(interactions.c.partner_id).where(interactions.c.id == data["interaction_id"]))
        if partner_id is None and "qbr_id" in data:
            partner_id = bind.scalar(sa.select(qbrs.c.partner_id).where(qbrs.c.id == data["qbr_id"]))
        if isinstance(partner_id, int):
            bind.execute(changes.update().where(changes.c.id == change_id).values(partner_id=partner_id))


def downgrade() -> None:
    ledger = sa.table("notification_ledger", sa.column("job", sa.String), sa.column("subject", sa.String), sa.column("period", sa.String))
    bind = op.get_bind()
    # One reminder row per QBR again: drop the extra rows of moved QBRs, then re-key.
    rows = bind.execute(sa.select(ledger.c.subject, ledger.c.period).where(
        ledger.c.job == "qbr-reminders", ledger.c.subject.like("qbr:%"))).all()
    seen: set[str] = set()
    for subject, period in sorted(rows):
        if subject in seen:
            bind.execute(ledger.delete().where(ledger.c.job == "qbr-reminders", ledger.c.subject == subject, ledger.c.period == period))
        else:
            seen.add(subject)
            bind.execute(ledger.update().where(ledger.c.job == "qbr-reminders", ledger.c.subject == subject, ledger.c.period == period)
                         .values(period="reminder"))
    op.drop_index("uq_qbrs_one_upcoming", table_name="qbrs")
    op.drop_index("ix_changes_partner", table_name="changes")
    with op.batch_alter_table("changes") as batch:
        batch.drop_column("partner_id")
    with op.batch_alter_table("qbrs") as batch:
        batch.drop_column("cancelled_at")
