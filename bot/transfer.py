"""Bulk CSV import and export (`partnerbot import partners`, `partnerbot export …`)."""

from __future__ import annotations

import csv
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from views.terminal import plain
from bot.progress import progress_bar
from core.settings import SLACK_USER_ID
from views.text import plural
from commands import SUBCOMMANDS
from commands.add import NameIndex, validate_name, validate_tier
from commands.errors import UserError
from storage import exports, partners
from storage.db import unit_of_work
from storage.models import Partner, PartnerType, Stage
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


def cell(value: Any) -> str:
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

def import_partners(path: Path, *, created_by: str = "U0IMPORT", update_existing: bool = False,
                    allow_similar: bool = False) -> tuple[int, int]:
    """Create the partners of a CSV file (and, with `update_existing`, update the
    ones whose name exists); all or nothing. Returns (created, updated). The
    near-duplicate rule of `add` applies (commands.add.NameIndex): a row that would
    be an existing partner, or another row, under the match key is bad; a prefix
    near-name is bad unless `allow_similar`."""
    rows, header = _read(path)
    if not rows:
        raise ImportError_(f"{path} has no rows; expected the header name,type,tier,owner,stage and one partner a line")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportError_(f"line 1: the header lacks {', '.join(missing)} (expected name,type,tier,owner,stage)")
    now = datetime.now(timezone.utc)
    records, lines, stage_given, errors = _records(rows, created_by=created_by, now=now, allow_similar=allow_similar)
    with unit_of_work() as session:
        existing = partners.by_keys_batched(session=session, keys=list(records))
        if not update_existing:
            errors += [(lines[key], f"{records[key]['name']} already exists; use --update to change existing partners")
                       for key in existing]
        if errors:
            raise ImportError_(_bad_rows(sorted(errors)))
        changes = [_changes(partner, records[key], header, key in stage_given, now) for key, partner in existing.items()]
        changes = [c for c in changes if c]
        partners.update_many(session=session, changes=changes)
        new = [r for key, r in records.items() if key not in existing]
        draw = progress_bar("importing")
        for start in range(0, len(new), BATCH):
            partners.insert_many(session=session, rows=new[start : start + BATCH])
            if draw:
                draw(min(start + BATCH, len(new)), len(new))
    return len(new), len(changes)


def _records(rows: list[dict], *, created_by: str, now: datetime, allow_similar: bool
             ) -> tuple[dict[str, dict], dict[str, int], set[str], list[tuple[int, str]]]:
    """The file's rows checked: (name_key → record in file order, name_key → line,
    name_keys whose stage was given, (line, problem) for each bad row)."""
    errors: list[tuple[int, str]] = []
    records: dict[str, dict] = {}
    lines: dict[str, int] = {}
    stage_given: set[str] = set()
    with unit_of_work(read_only=True) as session:
        stored = partners.all_name_keys(session=session)
    index = NameIndex(stored)
    row_of: dict[str, int] = {}  # name from the file → its line
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
        if record["name_key"] not in stored and (problem := _near(index, record["name"], row_of, allow_similar)):
            errors.append((line, problem))
            continue
        index.add(record["name"])
        row_of[record["name"]] = line
        lines[record["name_key"]] = line
        records[record["name_key"]] = record
        if row.get("stage"):
            stage_given.add(record["name_key"])
    return records, lines, stage_given, errors


def _near(index: NameIndex, name: str, row_of: dict[str, int], allow_similar: bool) -> str | None:
    """Why a new name breaks the near-duplicate rule, naming the partner (or line) it clashes with."""
    def named(other: str) -> str:
        return f"{other} on line {row_of[other]}" if other in row_of else f"{other} (which exists)"

    if (same := index.same(name)) is not None:
        return (f"{name} would be the same partner as {named(same)}: names are compared without case, "
                "punctuation or a legal suffix like Inc or Corp")
    if (close := index.close(name)) and not allow_similar:
        return (f"{name} starts the same as {', '.join(named(c) for c in close[:3])}, so a short name would stop "
                "finding one of them; use --allow-similar to import it anyway")
    return None


def _read(path: Path) -> tuple[list[dict], list[str]]:
    """The file's rows and its header (lower-cased column names)."""
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
    return rows, header


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

def export(what: str, out: TextIO) -> int:
    """Stream one table to CSV (with a progress bar on a terminal); secrets are never exported."""
    writer = csv.writer(out)
    writer.writerow(exports.header(what))
    count = 0
    with unit_of_work(read_only=True) as session:
        total = exports.size(session=session, what=what)
        draw = progress_bar(f"exporting {what}") if total > 10_000 else None
        for values in exports.rows(session=session, what=what):
            writer.writerow([cell(value) for value in values])
            count += 1
            if draw and count % 10_000 == 0:
                draw(count, total)
        if draw:
            draw(count, max(total, count))
    return count
