"""A realistic demo workspace, bulk-inserted (`partnerbot demo`, `make run` offline)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from storage.models import Interaction, Partner
from storage.names import name_key

FIRST = [
    "Acme", "Northwind", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
    "Cyberdyne", "Tyrell", "Aperture", "Blue Sun", "Oceanic", "Massive", "Pied Piper", "Wonka", "Gringotts",
    "Nakatomi", "Zenith", "Summit", "Harbor", "Redwood", "Granite", "Lumen", "Vertex", "Cobalt", "Juniper",
    "Meridian", "Polaris", "Sierra", "Atlas", "Beacon", "Cascade", "Evergreen", "Falcon", "Horizon", "Keystone",
]
SECOND = [
    "Corp", "Systems", "Labs", "Partners", "Digital", "Solutions", "Cloud", "Networks", "Consulting", "Group",
    "Analytics", "Software", "Data", "Integrations", "Resellers", "Distribution", "Technologies", "Works",
]
TIERS = {
    "channel": ["Registered", "Silver", "Gold", "Platinum"],
    "alliance": ["Strategic", "Global"],
    "technology": ["Select", "Premier"],
}
STAGES = ["prospect"] * 1 + ["onboarding"] * 2 + ["active"] * 6 + ["at-risk"] * 1
KINDS = ["call", "meeting", "email", "note", "training", "demo"]
SUMMARIES = [
    "Pipeline review with their sales lead",
    "Joint webinar planning for next quarter",
    "Sent updated price list & deal-registration guide",
    "Sales enablement session: 12 reps attended",
    "Demo of the new API to their engineering team",
    "Discussed co-marketing budget and MDF",
    "Escalation about a delayed payout",
    "Executive sponsor check-in",
    "Integration certification: test plan agreed",
    "Renewal of the reseller agreement",
]
BATCH = 20_000
DEMO_ROUTES = {"legal": "C0LEGAL", "product": "C0PRODUCT", "finance": "C0FINANCE"}


def demo_owners(partners: int) -> list[str]:
    count = max(3, partners // 500)
    return [f"U0DEMO{i}" for i in range(1, count + 1)]


def is_empty(*, session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Partner))


def _names(count: int, rng: random.Random) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(FIRST)} {rng.choice(SECOND)}"
        if name_key(name) in seen:
            name = f"{name} {len(names) + 1}"
        seen.add(name_key(name))
        names.append(name)
    return names


def seed(*, session: Session, partners: int = 12, seed: int = 1, now: datetime | None = None, on_progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Insert `partners` partners with two years of history; returns counts."""
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    owners = demo_owners(partners)
    per_partner = 100 if partners >= 1000 else 8
    rows = []
    for i, name in enumerate(_names(partners, rng)):
        kind = list(TIERS)[i % len(TIERS)]  # every type, even in a small demo
        created = now - timedelta(days=rng.randint(20, 730))
        rows.append(
            {
                "name": name,
                "name_key": name_key(name),
                "type": kind,
                "tier": rng.choice(TIERS[kind]),
                "owner_id": owners[i % len(owners)],
                "stage": STAGES[(i * 7) % len(STAGES)],
                "created_by": owners[0],
                "created_at": created,
                "updated_at": created,
                "stage_changed_at": created,
            }
        )
    for start in range(0, len(rows), BATCH):
        session.execute(insert(Partner), rows[start : start + BATCH])
    ids = list(session.execute(select(Partner.id, Partner.created_at, Partner.owner_id)).all())
    total = 0
    batch: list[dict] = []
    for n, (partner_id, created, owner) in enumerate(ids, 1):
        span = max((now - created).total_seconds(), 3600)
        for _ in range(rng.randint(0, per_partner * 2)):
            when = now - timedelta(seconds=rng.random() * span)
            batch.append(
                {
                    "partner_id": partner_id,
                    "kind": rng.choice(KINDS),
                    "summary": rng.choice(SUMMARIES),
                    "author_id": owner,
                    "occurred_at": when,
                    "channel_id": None,
                    "created_at": when,
                }
            )
        if len(batch) >= BATCH:
            session.execute(insert(Interaction), batch)
            total += len(batch)
            batch = []
            if on_progress:
                on_progress(n, len(ids))
    if batch:
        session.execute(insert(Interaction), batch)
        total += len(batch)
    if on_progress:
        on_progress(len(ids), len(ids))
    return {"partners": len(rows), "interactions": total}
