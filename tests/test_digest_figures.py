"""The digest's workspace figures (issue 14: computed set-wise in SQL) are the cards'
figures added up: every partner's KPI values resolved by source precedence and judged
by storage.kpis.judge, on both databases, whatever mix of sources, months, quarter and
month targets, zero targets, adoption levels and tied revenue."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import delete

from storage import kpis
from storage.db import unit_of_work
from storage.models import KpiTarget, KpiValue, Partner

QUARTER, MONTHS = "2026-Q4", ["2026-10", "2026-11"]
AS_OF = datetime(2026, 11, 30, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)
NAMES = ["Acme", "acme Labs", "Beta", "Zeta", "Omega", "Delta", "Gamma"]

amounts = st.sampled_from([Decimal(v) for v in ("0", "1", "2.5", "10", "10.01", "0.1", "0.2", "0.3", "1000")])
value_keys = st.tuples(st.sampled_from(kpis.METRICS), st.sampled_from(["2026-09", *MONTHS, "2026-12"]),
                       st.sampled_from(["manual", "crm", "deals"]), st.sampled_from(["sourced", "influenced"]))
target_keys = st.tuples(st.sampled_from(kpis.METRICS), st.sampled_from([QUARTER, "2026-Q3", *MONTHS, "2026-12"]))
partner = st.tuples(st.dictionaries(value_keys, amounts, max_size=14), st.dictionaries(target_keys, amounts, max_size=5))


def reference(session) -> kpis.Workspace:
    """The figures from each partner's own values and card (the rule the digest used to
    apply in Python, row by row)."""
    rows = defaultdict(list)
    for pid, *rest in session.query(KpiValue.partner_id, KpiValue.metric, KpiValue.month, KpiValue.source,
                                    KpiValue.attribution, KpiValue.value).filter(KpiValue.month.in_(MONTHS)):
        rows[pid].append(tuple(rest))
    names = dict(session.query(Partner.id, Partner.name))
    totals = {m: Decimal(0) for m in kpis.METRICS}
    adoption, revenue = [], []
    for pid, values in rows.items():
        effective = {k: v for k, v in kpis.effective_values(values).items() if k[2] == "sourced"}
        latest = max(((month, v) for (metric, month, _), v in effective.items() if metric == "adoption"), default=None)
        if latest:
            adoption.append(latest[1])
        for (metric, _, _), value in effective.items():
            if metric != "adoption":
                totals[metric] += value
        earned = [v for (metric, _, _), v in effective.items() if metric == "revenue"]
        if earned:
            revenue.append((names[pid], sum(earned, Decimal(0))))
    average = lambda xs: (sum(xs, Decimal(0)) / len(xs)).quantize(Decimal("0.1")) if xs else Decimal(0)  # noqa: E731
    totals["adoption"] = average(adoption)
    judged = defaultdict(list)
    for found in kpis.attainments(session=session, quarter=QUARTER, months=MONTHS, as_of=AS_OF, zone=ZoneInfo("UTC"),
                                  with_targets_only=True).values():
        for a in found:
            if a.target:
                judged[a.metric].append(a)
    attained, targets = {}, {}
    for metric, found in judged.items():
        combine = average if metric in kpis.LEVELS else (lambda xs: sum(xs, Decimal(0)))
        attained[metric], targets[metric] = combine([a.actual for a in found]), combine([a.target for a in found])
    return kpis.Workspace(totals, attained, targets, sorted(revenue, key=lambda r: (-r[1], r[0]))[:5])


@hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(partner, min_size=0, max_size=len(NAMES)))
def test_workspace_figures_are_the_cards_added_up(database_url, partners):
    with unit_of_work() as s:
        s.execute(delete(Partner))
        for name, (values, targets) in zip(NAMES, partners):
            p = Partner(name=name, name_key=name.casefold(), type="channel", owner_id="UOWNER1", created_by="UOWNER1")
            s.add(p)
            s.flush()
            for (metric, month, source, attribution), value in values.items():
                s.add(KpiValue(partner_id=p.id, metric=metric, month=month, source=source, attribution=attribution,
                               value=value, updated_at=NOW))
            for (metric, period), value in targets.items():
                s.add(KpiTarget(partner_id=p.id, metric=metric, period=period, value=value, set_by="UOWNER1", updated_at=NOW))
    with unit_of_work() as s:
        expected = reference(s)
        found = kpis.workspace_quarter(session=s, quarter=QUARTER, months=MONTHS, as_of=AS_OF, zone=ZoneInfo("UTC"))
    assert found == expected


# --- the quarter as known at an instant, from the KPI history (digest v2) ----------------

writes = st.lists(st.tuples(st.sampled_from([0, 1, 2]), value_keys, st.one_of(st.none(), amounts)), min_size=1, max_size=20)


@hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=25)
@given(writes)
def test_totals_as_known_at_any_instant_are_what_they_were_then(database_url, steps):
    """A random run of writes and removals (one an hour, on three partners): the totals
    as of each hour, read back later from the history, are the totals seen at that hour."""
    from datetime import timedelta

    with unit_of_work() as s:
        s.execute(delete(Partner))
        ids = []
        for name in NAMES[:3]:
            p = Partner(name=name, name_key=name.casefold(), type="channel", owner_id="UOWNER1", created_by="UOWNER1")
            s.add(p)
            s.flush()
            ids.append(p.id)
    seen = []
    for hour, (n, (metric, month, source, attribution), value) in enumerate(steps):
        when = NOW + timedelta(hours=hour)
        with unit_of_work() as s:
            if value is None:
                kpis.delete_value(session=s, partner_id=ids[n], metric=metric, month=month, source=source,
                                  attribution=attribution, now=when)
            else:
                kpis.set_kpi(session=s, partner_id=ids[n], metric=metric, month=month, value=value, user_id=None,
                             now=when, source=source, attribution=attribution)
        with unit_of_work() as s:
            seen.append((when, kpis.quarter_totals(session=s, months=MONTHS)))
    with unit_of_work() as s:
        for when, totals in seen:
            assert kpis.quarter_totals(session=s, months=MONTHS, at=when) == totals
            assert kpis.quarter_totals(session=s, months=MONTHS, at=when + timedelta(minutes=59)) == totals
        assert kpis.quarter_totals(session=s, months=MONTHS, at=NOW - timedelta(seconds=1)) == kpis.quarter_totals(
            session=s, months=[])
        # Now is the cards' figure too: workspace_quarter's totals.
        current = kpis.workspace_quarter(session=s, quarter=QUARTER, months=MONTHS, as_of=AS_OF, zone=ZoneInfo("UTC"))
        assert kpis.quarter_totals(session=s, months=MONTHS)["sourced"] == current.totals
