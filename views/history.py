"""Block Kit for `/partner history`: a partner's audit trail, newest first, paged."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from views.text import MAX_BLOCKS, ago, context, escape, lines_section, next_page, plural, section, user
from storage.models import Change

PAGE_SIZE = 20


def change_line(change: Change, *, now: datetime, zone: ZoneInfo) -> str:
    when = change.at.astimezone(zone)
    undone = f" _(undone {ago(change.undone_at, now)})_" if change.undone_at else ""
    # A change made at a partner desk names the organisation it came from (ours when one of us used the desk).
    org = f" (organisation `{escape(change.team_id)}`)" if change.team_id else ""
    return f"• {when:%a %Y-%m-%d %H:%M} · {user(change.user_id)}{org} {escape(change.summary)}{undone}"


def history_list(
    changes: list[Change], *, partner_name: str, total: int, page: int, pages: int, now: datetime, zone: ZoneInfo,
    next_command: str | None = None,
) -> list[dict[str, Any]]:
    """One page of changes; `total` counts all of them."""
    if total == 0:
        return [section(f"*{escape(partner_name)}*: no changes recorded yet.")]
    blocks = [section(f"*History of {escape(partner_name)}* · {plural(total, 'change')}, newest first"
                      + (f" · page {page} of {pages}" if pages > 1 else ""))]
    blocks += lines_section([change_line(c, now=now, zone=zone) for c in changes])
    if page < pages and next_command:
        blocks += next_page(f"{next_command} page:{page + 1}", remaining=total - (page - 1) * PAGE_SIZE - len(changes))
    else:
        blocks.append(context(f"Times in {zone.key}."))
    return blocks[:MAX_BLOCKS]
