"""A realistic demo workspace, bulk-inserted (`partnerbot demo`, `make run` offline)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal

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
# Rows go in as Core executemany on the tables: the ORM's bulk insert spends
# most of its time building per-row commands, which a demo of a million
# interactions does not need.
DEMO_ROUTES = {"legal": "C0LEGAL", "product": "C0PRODUCT", "finance": "C0FINANCE"}

# Who and where the demo's IDs are, for the offline console: typed as `@dana` and
# `#legal`, shown by name. The first person is you, and the demo's only admin.
DEMO_PEOPLE = {"alex": "U0DEMO1", "dana": "U0DEMO2", "sam": "U0DEMO3"}
DEMO_ADMIN = "U0DEMO1"
# A Slack Connect channel shared with a partner's organisation: link it with
# `/partner channel <partner> #partner-connect` to try the partner desk offline.
DEMO_CONNECT = {"partner-connect": "C0DEMOCONNECT"}
DEMO_CHANNELS = {**DEMO_ROUTES, **DEMO_CONNECT}


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
    rows = [_partner_row(i, name, rng=rng, owners=owners, now=now) for i, name in enumerate(_names(partners, rng))]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(Partner.__table__), rows[start : start + BATCH])
    ids = list(session.execute(select(Partner.id, Partner.created_at, Partner.owner_id)).all())
    total = _interactions(session=session, ids=ids, rng=rng, now=now, per_partner=100 if partners >= 1000 else 8,
                          on_progress=on_progress)
    counts = {"partners": len(rows), "interactions": total}
    # When each KPI value was entered comes from its own generator: the rest of the
    # demo stays what a seed has always produced.
    counts.update(_record(session=session, ids=ids, rng=rng, now=now, timing=random.Random(f"kpi-entry-{seed}")))
    if on_progress:
        on_progress(len(ids), len(ids))
    return counts


def _partner_row(i: int, name: str, *, rng: random.Random, owners: list[str], now: datetime) -> dict:
    kind = list(TIERS)[i % len(TIERS)]  # every type, even in a small demo
    created = now - timedelta(days=rng.randint(20, 730))
    return {
        "name": name,
        "name_key": name_key(name),
        "type": kind,
        "tier": rng.choice(TIERS[kind]),
        "owner_id": owners[(i // len(TIERS)) % len(owners)],
        "stage": STAGES[(i * 7) % len(STAGES)],
        "created_by": owners[0],
        "created_at": created,
        "updated_at": created,
        "stage_changed_at": created,
    }


def _interactions(*, session: Session, ids: list, rng: random.Random, now: datetime, per_partner: int,
                  on_progress: Callable[[int, int], None] | None) -> int:
    """Up to 2 × `per_partner` interactions a partner since it was created, more of them lately; how many."""
    total = 0
    batch: list[dict] = []
    for n, (partner_id, created, owner) in enumerate(ids, 1):
        span = max((now - created).total_seconds(), 3600)
        for _ in range(rng.randint(0, per_partner * 2)):
            when = now - timedelta(seconds=rng.random() ** 2 * span)  # more history lately
            batch.append({"partner_id": partner_id, "kind": rng.choice(KINDS), "summary": rng.choice(SUMMARIES),
                          "author_id": owner, "occurred_at": when, "channel_id": None, "created_at": when})
        if len(batch) >= BATCH:
            session.execute(insert(Interaction.__table__), batch)
            total += len(batch)
            batch = []
            if on_progress:
                on_progress(n, len(ids))
    if batch:
        session.execute(insert(Interaction.__table__), batch)
        total += len(batch)
    return total


def _months_back(now: datetime, count: int) -> list[str]:
    year, month = now.year, now.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


CUSTOMERS = ["Initech", "Globex", "Soylent", "Vehement", "Massive Dynamic", "Nakatomi", "Virtucon", "Gekko", "Duff",
             "Monarch", "Prestige", "Sterling", "Bluth", "Dunder", "Kramerica", "Ollivander"]
CUSTOMER_KINDS = ["Retail", "Foods", "Capital", "Trading", "Health", "Logistics", "Energy", "Media", "Bank", "Insurance"]
HISTORY_MONTHS = 24  # revenue and leads
ADOPTION_MONTHS = 12
DEAL_MONTHS = 9  # this quarter and at least the two before it
TARGET_QUARTERS = 3


def _record(*, session: Session, ids: list, rng: random.Random, now: datetime, timing: random.Random) -> dict[str, int]:
    """Monthly KPIs (revenue and leads for two years, adoption for one), deal
    registrations over the last three quarters with the `deals` KPI they imply
    (source `deals`, as a real registration writes it), targets for this
    quarter and the two before, QBRs, onboarding steps and requests.

    Everything is consistent with itself: the digest's deals total is the
    count of registrations, and every past month the digest or a card can
    show has values. Month boundaries are UTC (the demo's time zone).

    Each value carries when it was entered (`_entered`), as a real workspace's
    do: the digest's change on the week and against last quarter (read from
    each value's updated_at, the demo writing no kpi_history) are then the
    values entered in that time, not the whole quarter at once."""
    from storage.models import DealRegistration, HelpRequest, KpiTarget, KpiValue, OnboardingStep, Qbr
    from storage.periods import month_of, quarter_of

    months = _months_back(now, HISTORY_MONTHS)
    quarters = sorted({quarter_of(m) for m in months[:DEAL_MONTHS]}, reverse=True)[:TARGET_QUARTERS]
    stages = dict(session.execute(select(Partner.id, Partner.stage)).all())
    types = dict(session.execute(select(Partner.id, Partner.type)).all())
    kpis, targets, qbrs, steps, deals, asks = [], [], [], [], [], []
    customers_taken: set[str] = set()
    for n, (partner_id, created, owner) in enumerate(ids):
        stage, kind, first_month = stages[partner_id], types[partner_id], month_of(created.date())
        base = rng.randint(5, 60) * 1000
        entry_day = timing.randint(8, 28)  # each owner brings a partner's figures in about the same day every month
        kpis += [{**row, "updated_at": _entered(row["month"], entry_day, timing=timing, created=created, now=now)}
                 for row in _monthly_kpis(partner_id, owner, base=base, first_month=first_month, months=months, rng=rng, now=now)]
        targets += _targets(partner_id, owner, kind=kind, base=base, first_month=first_month, quarters=quarters, now=now)
        qbrs += _qbrs(partner_id, owner, n=n, stage=stage, rng=rng, now=now)
        steps += _steps(partner_id, owner, kind=kind, stage=stage, created=created, rng=rng)
        if kind == "channel" and stage not in ("prospect",):
            deals += _deals(partner_id, owner, created=created, first_month=first_month, months=months,
                            taken=customers_taken, rng=rng, now=now)
        if n % 4 == 1:
            asks.append(_ask(partner_id, owner, n=n, rng=rng, now=now))
    # The `deals` KPI as registrations write it (storage.deals.refresh_deal_kpi): a count per partner and month.
    # Each count was last written by its month's latest registration.
    per_month: dict[tuple[int, str], tuple[int, datetime]] = {}
    for deal in deals:
        key = (deal["partner_id"], month_of(deal["registered_at"].date()))
        count, latest = per_month.get(key, (0, deal["registered_at"]))
        per_month[key] = (count + 1, max(latest, deal["registered_at"]))
    kpis += [_kpi(partner_id, "deals", month, Decimal(count), None, latest, source="deals")
             for (partner_id, month), (count, latest) in per_month.items()]
    for table, batch in ((KpiValue, kpis), (KpiTarget, targets), (Qbr, qbrs), (OnboardingStep, steps), (DealRegistration, deals), (HelpRequest, asks)):
        for start in range(0, len(batch), BATCH):
            session.execute(insert(table.__table__), batch[start : start + BATCH])
    return {"kpi_values": len(kpis), "qbrs": len(qbrs), "deals": len(deals), "requests": len(asks)}


def _kpi(partner_id: int, metric: str, month: str, value: Decimal, owner: str | None, now: datetime, source: str = "manual") -> dict:
    return {"partner_id": partner_id, "metric": metric, "month": month, "source": source, "attribution": "sourced",
            "value": value, "entered_by": owner, "updated_at": now}


def _entered(month: str, day: int, *, timing: random.Random, created: datetime, now: datetime) -> datetime:
    """When a month's value was entered: around `day` of that month (within two days,
    in working hours UTC), never before the partner existed nor after `now` (a value
    due later this month counts as entered just now)."""
    year, mon = int(month[:4]), int(month[5:])
    day = min(max(day + timing.randint(-2, 2), 1), 28)
    when = datetime(year, mon, day, timing.randint(8, 17), timing.randint(0, 59), tzinfo=timezone.utc)
    return min(max(when, created), now)


def _monthly_kpis(partner_id: int, owner: str, *, base: int, first_month: str, months: list[str], rng: random.Random,
                  now: datetime) -> list[dict]:
    adoption = rng.randint(25, 90)
    rows = []
    for age, month in enumerate(months):
        if month < first_month:
            break
        rows.append(_kpi(partner_id, "revenue", month, Decimal(base + rng.randint(-4, 8) * 1000), owner, now))
        rows.append(_kpi(partner_id, "leads", month, Decimal(rng.randint(0, 40)), owner, now))
        if age < ADOPTION_MONTHS:  # adoption grows: lower the further back
            rows.append(_kpi(partner_id, "adoption", month, Decimal(max(5, adoption - age * rng.randint(1, 4))), owner, now))
    return rows


def _targets(partner_id: int, owner: str, *, kind: str, base: int, first_month: str, quarters: list[str], now: datetime) -> list[dict]:
    from storage.periods import quarter_of

    rows = []
    for quarter in quarters:
        if quarter < quarter_of(first_month):
            continue
        wanted = [("revenue", Decimal(base * 3 + 20000)), ("leads", Decimal(60))] + ([("deals", Decimal(3))] if kind == "channel" else [])
        rows += [{"partner_id": partner_id, "metric": metric, "period": quarter, "value": value, "set_by": owner, "updated_at": now}
                 for metric, value in wanted]
    return rows


def _qbrs(partner_id: int, owner: str, *, n: int, stage: str, rng: random.Random, now: datetime) -> list[dict]:
    if stage not in ("active", "at-risk"):
        return []
    held = (now - timedelta(days=rng.randint(10, 150))).date()
    rows = [{"partner_id": partner_id, "scheduled_for": held, "held_on": held, "notes": "Reviewed the joint plan",
             "created_by": owner, "created_at": now}]
    if n % 3 == 0:
        rows.append({"partner_id": partner_id, "scheduled_for": (now + timedelta(days=rng.randint(1, 30))).date(),
                     "held_on": None, "notes": None, "created_by": owner, "created_at": now})
    return rows


def _steps(partner_id: int, owner: str, *, kind: str, stage: str, created: datetime, rng: random.Random) -> list[dict]:
    from storage.onboarding import STEPS

    checklist = STEPS[kind]
    done = len(checklist) if stage in ("active", "at-risk", "churned") else rng.randint(0, len(checklist) - 1) if stage == "onboarding" else 0
    return [{"partner_id": partner_id, "step": key, "done_by": owner, "done_at": created + timedelta(days=3)} for key, _ in checklist[:done]]


def _deals(partner_id: int, owner: str, *, created: datetime, first_month: str, months: list[str], taken: set[str],
           rng: random.Random, now: datetime) -> list[dict]:
    from storage.names import match_key

    rows = []
    for month in months[:DEAL_MONTHS]:
        year, mon = int(month[:4]), int(month[5:])
        last_day = min(27, now.day - 1) if month == months[0] else 27
        if month < first_month or last_day < 2:
            continue
        for _ in range(rng.choice((0, 1, 1, 2))):  # about the quarterly target of 3
            # Noon UTC between the 2nd and the 27th: the same month in any team time zone.
            when = datetime(year, mon, rng.randint(2, last_day), 12, tzinfo=timezone.utc)
            if when < created:
                continue
            customer = f"{rng.choice(CUSTOMERS)} {rng.choice(CUSTOMER_KINDS)}"
            while match_key(customer) in taken:  # no conflicts or duplicates in the demo
                customer = f"{rng.choice(CUSTOMERS)} {rng.choice(CUSTOMER_KINDS)} {len(taken)}"
            taken.add(match_key(customer))
            rows.append({"partner_id": partner_id, "customer": customer, "customer_key": match_key(customer),
                         "amount": Decimal(rng.randint(5, 90) * 1000), "attribution": "sourced", "status": "registered",
                         "conflict_with_id": None, "registered_by": owner, "registered_at": when})
    return rows


def _ask(partner_id: int, owner: str, *, n: int, rng: random.Random, now: datetime) -> dict:
    return {"partner_id": partner_id, "team": ["legal", "product", "finance"][n % 3],
            "text": rng.choice(["Review the reseller addendum", "Can we expose the usage API?", "Payout schedule for Q4 MDF"]),
            "requester_id": owner, "origin_channel_id": None, "status": "open", "channel_id": None, "message_ts": None,
            "post_error": None, "due_on": None, "created_at": now - timedelta(hours=rng.randint(1, 72))}
