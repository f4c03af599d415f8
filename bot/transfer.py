"""Bulk CSV import and export (`partnerbot import partners`, `partnerbot export …`)."""

from __future__ import annotations

import csv
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import aliased

from views.terminal import plain
from bot.progress import progress_bar
from core.settings import SLACK_USER_ID
from views.text import plural
from commands import SUBCOMMANDS
from commands.add import validate_name, validate_tier
from commands.errors import UserError
from storage.db import unit_of_work
from storage.models import DealRegistration, HelpRequest, Interaction, KpiValue, Partner, PartnerType, Stage
from storage.names import name_key

REQUIRED = ("name", "type", "owner")
OPTIONAL = ("tier", "stage")
UPDATED = ("type", "tier", "owner_id", "stage")
MAX_ERRORS = 10
BATCH = 5_000

# OWASP "CSV injection": Excel, Numbers and Google Sheets run a cell that starts
# with one of these as a formula; a leading ' makes them show it as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ImportError_(Exception):
    """The file cannot be imported; nothing was written."""


def neutralise(value: str) -> str:
    """A text cell as written to CSV: formula-looking text gets a leading '.

    Text that already starts with quotes before a formula character gets one
    more, so `restore` gives back exactly what was stored.
    """
    return "'" + value if value.lstrip("'").startswith(FORMULA_START) else value


def restore(value: str) -> str:
    """The inverse of `neutralise`: strip the quote only where an export added it."""
    return value[1:] if value.startswith("'") and value.lstrip("'").startswith(FORMULA_START) else value


def _cell(value: Any) -> str:
    # Only text is neutralised. Numbers (KPI values, deal amounts, ids) are
    # written by us from typed columns, so `-5.00` stays a number a
    # spreadsheet can sum: it cannot carry a formula.
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value)


# --- import ---------------------------------------------------------------------------

def import_partners(path: Path, *, created_by: str = "U0IMPORT", update_existing: bool = False) -> tuple[int, int]:
    """Create the partners of a CSV file (and, with `update_existing`, update the
    ones whose name exists); all or nothing. Returns (created, updated)."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise ImportError_(f"cannot read {path}: {error.strerror}") from None
    with handle:
        try:
            rows = list(csv.DictReader(handle))
            header = [h.strip().lower() for h in (rows[0].keys() if rows else []) if h is not None]
        except (csv.Error, UnicodeDecodeError) as error:
            raise ImportError_(f"{path} is not a UTF-8 CSV file ({error})") from None
    if not rows:
        raise ImportError_(f"{path} has no rows; expected the header name,type,tier,owner,stage and one partner a line")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportError_(f"line 1: the header lacks {', '.join(missing)} (expected name,type,tier,owner,stage)")
    now = datetime.now(timezone.utc)
    errors: list[tuple[int, str]] = []
    records: dict[str, dict] = {}  # name_key → record, in file order
    lines: dict[str, int] = {}
    stage_given: set[str] = set()
    for line, raw in enumerate(rows, start=2):
        if None in raw:
            errors.append((line, "more fields than the header has"))
            continue
        # Other columns (an export's created_at, archived, …) are ignored.
        row = {(k or "").strip().lower(): restore((v or "").strip()) for k, v in raw.items()}
        try:
            record = _record(row, created_by=created_by, now=now)
        except UserError as error:
            errors.append((line, plain(error.message).replace("`", "")))
            continue
        if record["name_key"] in lines:
            errors.append((line, f"{record['name']} is already on line {lines[record['name_key']]}"))
            continue
        lines[record["name_key"]] = line
        records[record["name_key"]] = record
        if row.get("stage"):
            stage_given.add(record["name_key"])
    with unit_of_work() as session:
        keys = list(records)
        existing: dict[str, Partner] = {}
        for start in range(0, len(keys), 500):
            for partner in session.scalars(select(Partner).where(Partner.name_key.in_(keys[start : start + 500]))):
                existing[partner.name_key] = partner
        if not update_existing:
            errors += [(lines[key], f"{records[key]['name']} already exists; use --update to change existing partners")
                       for key in existing]
        if errors:
            raise ImportError_(_bad_rows(sorted(errors)))
        changes = [_changes(partner, records[key], header, key in stage_given, now) for key, partner in existing.items()]
        changes = [c for c in changes if c]
        if changes:
            session.execute(update(Partner), changes)
        new = [r for key, r in records.items() if key not in existing]
        draw = progress_bar("importing")
        for start in range(0, len(new), BATCH):
            session.execute(insert(Partner), new[start : start + BATCH])
            if draw:
                draw(min(start + BATCH, len(new)), len(new))
    return len(new), len(changes)


def _bad_rows(errors: list[tuple[int, str]]) -> str:
    shown = [f"  line {line}: {message}" for line, message in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        more = len(errors) - MAX_ERRORS
        shown.append(f"  … and {plural(more, 'more bad row')} ({len(errors):,} in all); nothing was imported")
    return "nothing was imported:\n" + "\n".join(shown)


def _changes(partner: Partner, record: dict, header: list[str], stage_given: bool, now: datetime) -> dict | None:
    """The columns an update changes. A column missing from the file is left
    alone; an empty stage cell too (stage is never empty), an empty tier clears it."""
    fields = [f for f in UPDATED if {"owner_id": "owner"}.get(f, f) in header and (f != "stage" or stage_given)]
    changed = {f: record[f] for f in fields if getattr(partner, f) != record[f]}
    if not changed:
        return None
    if "stage" in changed:
        changed["stage_changed_at"] = now
    return {"id": partner.id, "updated_at": now, **changed}


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
    tier = validate_tier(row.get("tier") or "", usage=None)
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


# --- export ---------------------------------------------------------------------------

def _health(partner: Partner) -> list:
    """The stored health, as every other surface shows it (storage/health.py)."""
    from storage.health import stored

    health = stored(partner)
    return [health.score, health.label, "; ".join(health.reasons)]


def _archived(partner_archived_at: datetime | None) -> str:
    return "yes" if partner_archived_at else ""


_conflict = aliased(Partner)

# what → (header, statement, row → cells, model counted for the progress bar).
# Cells are plain values; `_cell` formats them and neutralises text.
EXPORTS = {
    "partners": (
        ["name", "type", "tier", "owner", "stage", "created_at", "archived", "health_score", "health", "health_reasons"],
        lambda: select(Partner).order_by(Partner.name_key),
        lambda row: [row[0].name, row[0].type, row[0].tier, row[0].owner_id, row[0].stage, row[0].created_at,
                     _archived(row[0].archived_at), *_health(row[0])],
        Partner,
    ),
    "interactions": (
        ["partner", "kind", "summary", "author", "occurred_at", "channel"],
        lambda: select(Partner.name, Interaction).join(Interaction, Interaction.partner_id == Partner.id)
        .order_by(Interaction.occurred_at, Interaction.id),
        lambda row: [row[0], row[1].kind, row[1].summary, row[1].author_id, row[1].occurred_at, row[1].channel_id],
        Interaction,
    ),
    "kpis": (
        ["partner", "metric", "month", "source", "attribution", "value"],
        lambda: select(Partner.name, KpiValue).join(KpiValue, KpiValue.partner_id == Partner.id)
        .order_by(Partner.name_key, KpiValue.month, KpiValue.metric, KpiValue.source, KpiValue.attribution),
        lambda row: [row[0], row[1].metric, row[1].month, row[1].source, row[1].attribution, row[1].value],
        KpiValue,
    ),
    "deals": (
        ["id", "partner", "customer", "amount", "attribution", "status", "conflict_with", "registered_by",
         "registered_at", "decided_by", "decided_at", "partner_archived"],
        lambda: select(Partner.name, Partner.archived_at, _conflict.name, DealRegistration)
        .join(DealRegistration, DealRegistration.partner_id == Partner.id)
        .outerjoin(_conflict, _conflict.id == DealRegistration.conflict_with_id)
        .order_by(DealRegistration.registered_at, DealRegistration.id),
        lambda row: [row[3].id, row[0], row[3].customer, row[3].amount, row[3].attribution, row[3].status, row[2],
                     row[3].registered_by, row[3].registered_at, row[3].decided_by, row[3].decided_at, _archived(row[1])],
        DealRegistration,
    ),
    "requests": (
        ["id", "partner", "team", "request", "status", "requester", "created_at", "due_on", "claimed_by",
         "claimed_at", "resolved_by", "resolved_at", "resolution", "partner_archived"],
        lambda: select(Partner.name, Partner.archived_at, HelpRequest)
        .join(HelpRequest, HelpRequest.partner_id == Partner.id)
        .order_by(HelpRequest.created_at, HelpRequest.id),
        lambda row: [row[2].id, row[0], row[2].team, row[2].text, row[2].status, row[2].requester_id, row[2].created_at,
                     row[2].due_on, row[2].claimed_by, row[2].claimed_at, row[2].resolved_by, row[2].resolved_at,
                     row[2].resolution, _archived(row[1])],
        HelpRequest,
    ),
}


def export(what: str, out: TextIO) -> int:
    """Stream one table to CSV (with a progress bar on a terminal); secrets are never exported."""
    header, query, to_row, model = EXPORTS[what]
    writer = csv.writer(out)
    writer.writerow(header)
    count = 0
    with unit_of_work(read_only=True) as session:
        total = session.scalar(select(func.count()).select_from(model)) or 0
        draw = progress_bar(f"exporting {what}") if total > 10_000 else None
        for row in session.execute(query().execution_options(yield_per=5000)):
            writer.writerow([_cell(value) for value in to_row(row)])
            count += 1
            if draw and count % 10_000 == 0:
                draw(count, total)
        if draw:
            draw(count, max(total, count))
    return count
