"""Bulk CSV import and export (`partnerbot import partners`, `partnerbot export …`)."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from sqlalchemy import insert, select

from bot.console import plain
from bot.progress import progress_bar
from bot.settings import SLACK_USER_ID
from commands import SUBCOMMANDS
from commands.add import validate_name
from commands.errors import UserError
from storage.db import unit_of_work
from storage.models import Interaction, KpiValue, Partner, PartnerType, Stage
from storage.names import name_key

REQUIRED = ("name", "type", "owner")
OPTIONAL = ("tier", "stage")
MAX_ERRORS = 10
BATCH = 5_000


class ImportError_(Exception):
    """The file cannot be imported; nothing was written."""


def import_partners(path: Path, *, created_by: str = "U0IMPORT") -> int:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise ImportError_(f"cannot read {path}: {error.strerror}") from None
    with handle:
        try:
            rows = list(csv.DictReader(handle))
            header = [h.strip().lower() for h in (rows[0].keys() if rows else [])]
        except (csv.Error, UnicodeDecodeError) as error:
            raise ImportError_(f"{path} is not a UTF-8 CSV file ({error})") from None
    if not rows:
        raise ImportError_(f"{path} has no rows; expected the header name,type,tier,owner,stage and one partner a line")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportError_(f"line 1: the header lacks {', '.join(missing)} (expected name,type,tier,owner,stage)")
    now = datetime.now(timezone.utc)
    errors: list[str] = []
    records: list[dict] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            errors.append(f"line {line}: more fields than the header has")
            continue
        try:
            record = _record(row, created_by=created_by, now=now)
        except UserError as error:
            errors.append(f"line {line}: {plain(error.message).replace('`', '')}")
            continue
        if record["name_key"] in seen:
            errors.append(f"line {line}: {record['name']} is already on line {seen[record['name_key']]}")
            continue
        seen[record["name_key"]] = line
        records.append(record)
        if len(errors) >= MAX_ERRORS:
            break
    with unit_of_work() as session:
        keys = list(seen)
        existing: set[str] = set()
        for start in range(0, len(keys), 500):
            existing |= set(session.scalars(select(Partner.name_key).where(Partner.name_key.in_(keys[start : start + 500]))))
        for key in sorted(existing, key=seen.get)[:MAX_ERRORS]:
            errors.append(f"line {seen[key]}: a partner with this name already exists")
        if errors:
            errors.sort(key=lambda e: int(e.split(":", 1)[0].removeprefix("line ")))
            raise ImportError_("nothing was imported:\n  " + "\n  ".join(errors[:MAX_ERRORS]))
        draw = progress_bar("importing")
        for start in range(0, len(records), BATCH):
            session.execute(insert(Partner), records[start : start + BATCH])
            if draw:
                draw(min(start + BATCH, len(records)), len(records))
    return len(records)


def _record(row: dict[str, str], *, created_by: str, now: datetime) -> dict:
    name = validate_name(row.get("name", ""), reserved=set(SUBCOMMANDS))
    kind = row.get("type", "").lower()
    if kind not in {t.value for t in PartnerType}:
        raise UserError(f"type must be channel, alliance or technology, not {kind!r}")
    owner = row.get("owner", "")
    if not SLACK_USER_ID.match(owner):
        raise UserError(f"owner must be a Slack user ID like U0123ABCD, not {owner!r}")
    stage = (row.get("stage") or "onboarding").lower()
    if stage not in {s.value for s in Stage}:
        raise UserError(f"stage must be one of {', '.join(s.value for s in Stage)}, not {stage!r}")
    tier = row.get("tier") or None
    if tier and len(tier) > 40:
        raise UserError("tier is longer than 40 characters")
    return {
        "name": name,
        "name_key": name_key(name),
        "type": kind,
        "tier": tier,
        "owner_id": owner,
        "stage": stage,
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
        "stage_changed_at": now,
    }


EXPORTS = {
    "partners": (
        ["name", "type", "tier", "owner", "stage", "created_at", "archived"],
        lambda: select(Partner).order_by(Partner.name_key),
        lambda p: [p.name, p.type, p.tier or "", p.owner_id, p.stage, p.created_at.isoformat(), "yes" if p.archived_at else ""],
        Partner,
    ),
    "interactions": (
        ["partner", "kind", "summary", "author", "occurred_at", "channel"],
        lambda: select(Partner.name, Interaction).join(Interaction, Interaction.partner_id == Partner.id)
        .order_by(Interaction.occurred_at, Interaction.id),
        lambda row: [row[0], row[1].kind, row[1].summary, row[1].author_id, row[1].occurred_at.isoformat(), row[1].channel_id or ""],
        Interaction,
    ),
    "kpis": (
        ["partner", "metric", "month", "source", "attribution", "value"],
        lambda: select(Partner.name, KpiValue).join(KpiValue, KpiValue.partner_id == Partner.id)
        .order_by(Partner.name_key, KpiValue.month, KpiValue.metric, KpiValue.source, KpiValue.attribution),
        lambda row: [row[0], row[1].metric, row[1].month, row[1].source, row[1].attribution, f"{row[1].value:f}"],
        KpiValue,
    ),
}


def export(what: str, out: TextIO) -> int:
    """Stream one table to CSV (with a progress bar on a terminal); secrets are never exported."""
    from sqlalchemy import func

    header, query, to_row, model = EXPORTS[what]
    writer = csv.writer(out)
    writer.writerow(header)
    count = 0
    with unit_of_work(read_only=True) as session:
        total = session.scalar(select(func.count()).select_from(model)) or 0
        draw = progress_bar(f"exporting {what}") if total > 10_000 else None
        statement = query().execution_options(yield_per=5000)
        rows = session.scalars(statement) if what == "partners" else session.execute(statement)
        for row in rows:
            writer.writerow(to_row(row))
            count += 1
            if draw and count % 10_000 == 0:
                draw(count, total)
        if draw:
            draw(count, max(total, count))
    return count
