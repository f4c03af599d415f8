"""`/partner report` and `partnerbot report --csv` (issue 16): each figure against a
hand-computed fixture (a quarter boundary, a fiscal year starting in February, an empty
quarter, influenced-only revenue), the filters, the Slack reply through the door, the CSV
through the CLI, and the property that any grouping's rows add up to the total, which in
turn is the digest's workspace figure."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import delete

from storage import audit, kpis, report
from storage.db import unit_of_work
from storage.models import DealRegistration, HelpRequest, KpiTarget, KpiValue, OnboardingStep, Partner
from storage.sla import TeamRequests
from storage.sla import total as all_teams
from tests.cli import base_env
from tests.cli import run as cli
from tests.conftest import make_settings, texts
from views.report import report_blocks

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


# --- a hand-computed workspace ----------------------------------------------------------
# Quarter 2026-Q4 (October–December, fiscal year from January), the report made on
# 2026-11-16 00:00 UTC: 46 of the quarter's 92 days have passed, pace 50 %.

REPORT_NOW = datetime(2026, 11, 16, tzinfo=timezone.utc)


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, tzinfo=timezone.utc)


def _partner(s, name, *, kind, owner, created, stage, tier=None, archived=None) -> Partner:
    p = Partner(name=name, name_key=name.casefold(), type=kind, tier=tier, owner_id=owner, created_by=owner, stage=stage,
                created_at=created, updated_at=created, stage_changed_at=created, archived_at=archived)
    s.add(p)
    s.flush()
    return p


def _move(s, p: Partner, stage: str, when: datetime) -> None:
    """What `/partner stage` records: the fields as they were, then the new stage."""
    before = audit.partner_fields(p)
    p.stage, p.stage_changed_at = stage, when
    s.flush()
    audit.record(session=s, user_id=p.owner_id, kind="partner.fields", summary=f"moved {p.name} to {stage}",
                 undo={"partner_id": p.id, "fields": before}, now=when)


def _deal(s, p: Partner, amount: str, status: str, registered: datetime, *, decided: datetime | None = None,
          attribution: str = "sourced", expected_close=None) -> None:
    s.add(DealRegistration(partner_id=p.id, customer=f"Customer {amount}", customer_key=f"customer {amount}",
                           amount=Decimal(amount), attribution=attribution, status=status, registered_by=p.owner_id,
                           registered_at=registered, decided_at=decided, decided_by="UADMIN1" if decided else None,
                           expected_close=expected_close))


def _kpi(s, p: Partner, metric: str, month: str, value: str, *, source="manual", attribution="sourced") -> None:
    s.add(KpiValue(partner_id=p.id, metric=metric, month=month, source=source, attribution=attribution,
                   value=Decimal(value), updated_at=NOW))


def seed_workspace() -> None:
    """A (Q2, channel, gold, U1): onboarding → active in Q3; first deal after 39 days.
    B (Q3, technology, U2): onboarding → active in Q4; an approved deal after 48 days, one rejected,
      one open (registered); influenced-only revenue.
    C (Q4, channel, U1): onboarding, checklist complete after 10 days, a deal in conflict.
    D (Q2, alliance, U2): prospect → onboarding in Q3 → churned in Q4; a submission under review
      expected to close in December.
    E (Q3, channel, U1): a prospect, archived in Q4."""
    with unit_of_work() as s:
        s.execute(delete(Partner))
        a = _partner(s, "Acme", kind="channel", owner="UOWNER1", created=at(6, 1), stage="onboarding", tier="Gold")
        b = _partner(s, "Beta", kind="technology", owner="UOWNER2", created=at(7, 15), stage="onboarding")
        c = _partner(s, "Cobalt", kind="channel", owner="UOWNER1", created=at(10, 5), stage="onboarding")
        d = _partner(s, "Delta", kind="alliance", owner="UOWNER2", created=at(5, 1), stage="prospect")
        _partner(s, "Echo", kind="channel", owner="UOWNER1", created=at(9, 20), stage="prospect", archived=at(10, 20))
        _move(s, a, "active", at(8, 1))
        _move(s, d, "onboarding", at(9, 1))
        _move(s, b, "active", at(10, 10))
        _move(s, d, "churned", at(11, 1))
        for step, day in (("agreement", 6), ("portal", 7), ("training", 8), ("first-deal", 15)):
            s.add(OnboardingStep(partner_id=c.id, step=step, done_by="UOWNER1", done_at=at(10, day)))
        s.add(OnboardingStep(partner_id=a.id, step="agreement", done_by="UOWNER1", done_at=at(6, 2)))
        _deal(s, a, "50", "rejected", at(6, 5), decided=at(6, 6))
        _deal(s, a, "700", "registered", at(7, 10))  # A's first deal; open, but registered last quarter
        _deal(s, a, "5000", "registered", at(10, 15), attribution="influenced")  # not in the sourced forecast
        _deal(s, b, "500", "approved", at(9, 1), decided=at(9, 2))
        _deal(s, b, "60", "rejected", at(9, 3), decided=at(9, 4))
        _deal(s, b, "1000", "registered", at(11, 1))
        _deal(s, c, "2000", "conflict", at(10, 20))
        _deal(s, d, "300", "review", at(6, 1), expected_close=date(2026, 12, 15))
        _kpi(s, a, "revenue", "2026-10", "1000")
        _kpi(s, a, "revenue", "2026-10", "800", source="crm")  # the manual value wins
        _kpi(s, a, "revenue", "2026-11", "500", source="crm")
        _kpi(s, a, "revenue", "2026-09", "9999")  # last quarter
        _kpi(s, b, "revenue", "2026-11", "2000", attribution="influenced")
        # Legal (24 business hours, Monday–Friday): Acme's claimed after 2 h, resolved after 24 h;
        # Delta's opened Thursday 10:00, still unclaimed on Monday: 38 business hours, past its SLA.
        s.add(HelpRequest(partner_id=a.id, team="legal", text="MSA", requester_id="UOWNER1", status="resolved",
                          created_at=at(11, 9).replace(hour=10), claimed_by="ULAW", claimed_at=at(11, 9).replace(hour=12),
                          resolved_by="ULAW", resolved_at=at(11, 10).replace(hour=10)))
        s.add(HelpRequest(partner_id=d.id, team="legal", text="NDA", requester_id="UOWNER2", status="open",
                          created_at=at(11, 12).replace(hour=10)))
        for p, value in ((a, "6000"), (b, "4000")):
            s.add(KpiTarget(partner_id=p.id, metric="revenue", period="2026-Q4", value=Decimal(value), set_by="UOWNER1",
                            updated_at=NOW))


def _build(quarter: str = "2026-Q4", filters: report.Filters = report.Filters(), fiscal_start: int = 1, now=REPORT_NOW):
    settings = make_settings(PARTNERBOT_FISCAL_YEAR_START=fiscal_start)
    with unit_of_work() as s:
        return report.build(s, quarter=quarter, now=now, settings=settings, filters=filters)


def test_the_report_of_a_hand_computed_workspace(database_url):
    seed_workspace()
    found = _build()
    assert found.attainment.pace == 0.5
    revenue = found.attainment.total.figures["revenue"]
    assert (revenue.sourced, revenue.influenced, revenue.attained, revenue.target) == (1500, 2000, 1500, 10000)
    assert revenue.ratio == 0.15
    owners = {r.key: (r.partners, r.figures["revenue"].sourced, r.figures["revenue"].influenced, r.figures["revenue"].target)
              for r in found.attainment.rows}
    assert owners == {"UOWNER1": (2, 1500, 0, 6000), "UOWNER2": (2, 0, 2000, 4000)}
    types = {r.key: (r.partners, r.figures["revenue"].influenced, r.figures["revenue"].target) for r in found.by_type.rows}
    assert types == {"alliance": (1, 0, None), "channel": (2, 0, 6000), "technology": (1, 2000, 4000)}

    assert found.funnel.counts == {"prospect": 0, "onboarding": 1, "active": 2, "at-risk": 0, "churned": 1}
    assert [(c.stage, c.entered, c.moved_on) for c in found.funnel.conversions] == [("prospect", 0, 0), ("onboarding", 3, 1)]
    assert found.funnel_before.quarter == "2026-Q3"
    assert found.funnel_before.counts == {"prospect": 1, "onboarding": 2, "active": 1, "at-risk": 0, "churned": 0}
    assert [(c.entered, c.moved_on) for c in found.funnel_before.conversions] == [(2, 1), (2, 1)]

    cohorts = {c.quarter: c for c in found.cohorts}
    assert list(cohorts) == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert cohorts["2026-Q1"].added == 0 and cohorts["2026-Q1"].median_days_to_deal is None
    q2, q3, q4 = cohorts["2026-Q2"], cohorts["2026-Q3"], cohorts["2026-Q4"]
    assert (q2.added, q2.aged_90, q2.deal_90, q2.aged_180, q2.deal_180, q2.with_deal) == (2, 2, 1, 1, 0, 1)
    assert q2.median_days_to_deal == 39
    assert (q3.added, q3.aged_90, q3.deal_90, q3.aged_180, q3.with_deal, q3.median_days_to_deal) == (2, 1, 1, 0, 1, 48)
    assert (q4.added, q4.aged_90, q4.with_deal, q4.completed, q4.median_days_to_complete) == (1, 0, 0, 1, 10)
    assert q2.completed == 0

    forecast = found.forecast
    # B's $1,000 at B's rate (1 approved of 2 decided); C's $2,000 and D's $300 at the
    # workspace's (1 of 3): 500 + 666.67 + 100.
    assert (forecast.so_far, forecast.pipeline, forecast.deals, forecast.weighted) == (1500, 3300, 3, Decimal("1266.67"))
    assert forecast.total == Decimal("2766.67") and forecast.target == 10000

    (legal,) = found.requests
    assert (legal.team, legal.opened, legal.resolved, legal.median_claim_hours, legal.median_resolve_hours) == ("legal", 2, 1, 2, 24)
    assert (legal.past_sla, legal.past_sla_pct, len(legal.past_sla_now)) == (1, 50, 1)


def test_filters_apply_to_every_section(database_url):
    seed_workspace()
    mine = _build(filters=report.Filters(owner_id="UOWNER1"))
    assert [r.key for r in mine.attainment.rows] == ["UOWNER1"]
    assert mine.attainment.total.figures["revenue"].target == 6000
    assert mine.funnel.counts["active"] == 1 and mine.funnel.counts["onboarding"] == 1
    assert [(c.entered, c.moved_on) for c in mine.funnel.conversions] == [(0, 0), (1, 0)]
    assert [c.added for c in mine.cohorts] == [0, 1, 1, 1]  # Acme, Echo (archived since, yet added), Cobalt
    assert (mine.forecast.pipeline, mine.forecast.weighted) == (2000, Decimal("666.67"))  # Cobalt's conflict
    assert [(t.team, t.opened, t.past_sla) for t in mine.requests] == [("legal", 1, 0)]  # Acme's, not Delta's

    gold = _build(filters=report.Filters(tier="gold"))  # any case
    assert [r.key for r in gold.by_type.rows] == ["channel"] and gold.attainment.total.partners == 1
    assert gold.forecast.deals == 0 and gold.forecast.so_far == 1500
    alliance = _build(filters=report.Filters(type="alliance"))
    assert alliance.funnel.counts["churned"] == 1 and alliance.forecast.pipeline == 300


def test_a_fiscal_year_from_february_moves_the_quarter_boundaries(database_url):
    """With PARTNERBOT_FISCAL_YEAR_START=2, 2026-Q3 is August–October and 2026-Q4
    November–January: October's revenue is Q3's, January 2027's is Q4's."""
    seed_workspace()
    with unit_of_work() as s:
        acme = s.query(Partner).filter_by(name="Acme").one()
        _kpi(s, acme, "revenue", "2027-01", "250")
    q3 = _build("2026-Q3", fiscal_start=2)
    assert q3.as_of == at(11, 1)  # over: as of its end
    assert q3.attainment.total.figures["revenue"].sourced == 9999 + 1000  # September and October
    assert q3.forecast.pipeline == 0 and q3.forecast.total == 10999
    assert q3.funnel_before.quarter == "2026-Q2" and [c.quarter for c in q3.cohorts] == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    q4 = _build("2026-Q4", fiscal_start=2, now=at(1, 16, 2027))
    assert q4.attainment.total.figures["revenue"].sourced == 500 + 250
    assert round(q4.attainment.pace, 3) == round(76 / 92, 3)  # 15 days of January and November–December's 61
    assert report.quarter_before("2026-Q1", fiscal_start=2) == "2025-Q4"
    assert report.quarter_before("2026-Q1", fiscal_start=1) == "2025-Q4"


def test_an_empty_quarter_reports_nothing_as_zero_not_as_an_error(database_url, settings):
    with unit_of_work() as s:
        s.execute(delete(Partner))
    found = _build()
    assert found.attainment.total.partners == 0 and found.attainment.rows == []
    assert all(f.sourced == 0 and f.target is None and f.ratio is None for f in found.attainment.total.figures.values())
    assert set(found.funnel.counts.values()) == {0} and all(c.rate is None for c in found.funnel.conversions)
    assert all(c.added == 0 and c.median_days_to_deal is None for c in found.cohorts)
    assert (found.forecast.total, found.forecast.target, found.forecast.ratio) == (0, None, None)
    text, blocks = report_blocks(found, zone=UTC, currency="USD")
    shown = texts(blocks)
    assert "revenue $0 (no target)" in shown and "2026-Q4: none added" in shown
    assert "of target" not in shown and "Forecast*: $0 (no revenue target)" in shown
    assert "*Requests*: none this quarter" in shown


def test_influenced_only_revenue_is_shown_apart_and_never_counts_toward_a_target(database_url):
    """Beta's revenue is all influenced: its $2,000 shows as influenced, and its $4,000
    target stands at 0 % (the card says the same)."""
    seed_workspace()
    found = _build()
    beta = next(r for r in found.attainment.rows if r.key == "UOWNER2").figures["revenue"]
    assert (beta.sourced, beta.influenced, beta.attained, beta.target, beta.ratio) == (0, 2000, 0, 4000, 0.0)
    _, blocks = report_blocks(found, zone=UTC, currency="USD")
    lines = texts(blocks)
    assert "• revenue $1.5K of $10K — 15%, pace 50%: *behind* · influenced $2K" in lines
    assert "• <@UOWNER2> · 2 partners · revenue $0 · influenced $2K · of target: revenue 0%" in lines
    assert ("• *legal* (SLA 24 h): 2 opened, 1 resolved · median to claim 2.0 h, to resolve 24.0 h · past SLA 50% (1 of 2)"
            " · 1 waiting past SLA now") in lines
    with unit_of_work() as s:
        card = kpis.quarter_attainment(session=s, partner_id=s.query(Partner.id).filter_by(name="Beta").scalar(),
                                       months=["2026-10", "2026-11", "2026-12"], quarter="2026-Q4", as_of=REPORT_NOW, zone=UTC)
    revenue = next(a for a in card if a.metric == "revenue")
    assert (revenue.actual, revenue.influenced, revenue.target) == (0, 2000, 4000)


def test_the_slack_report_through_the_door(slack_app):
    """As a partner manager types it; the quarter is over, so the figures are fixed."""
    seed_workspace()
    reply = slack_app.command("report 2026-Q3", user="UOWNER1")
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    assert len(reply["blocks"]) <= 50
    shown = texts(reply["blocks"])
    assert shown.startswith("Partner report 2026-Q3")
    assert "As of 2026-10-01 · 100% of the quarter gone" in shown
    assert "revenue $10K (no target)" in shown  # September's manual $9,999
    assert "prospect 1 (1) · onboarding 2 (1) · active 1 (0)" in shown  # at the end of Q3 (of Q2)
    assert "• onboarding → active: 50% (1 of 2), last quarter" in shown
    assert "the quarter is over: $10K booked" in shown

    mine = texts(slack_app.command("report 2026-Q3 owner:<@UOWNER2|pat> type:alliance", user="UOWNER1")["blocks"])
    assert "owner <@UOWNER2>, type alliance" in mine and "1 partner" in mine and "By owner" in mine


def test_the_slack_report_refuses_bad_input_with_the_usage(slack_app):
    for line, says in [
        ("report 2026-13", "is not a period"),
        ("report 2026-03", "covers a quarter, not a month"),
        ("report 2026-Q3 2026-Q4", "give one quarter"),
        ("report type:reseller", "partner type"),
        ("report owner:@pat", "autocomplete"),
        ("report stage:active", "is not an option here"),
        ("report 2099-Q1", "2099-Q1 has not started yet"),
    ]:
        shown = texts(slack_app.command(line, user="UOWNER1")["blocks"])
        assert says in shown and "Usage: `/partner report [&lt;quarter&gt;]" in shown, (line, shown)


def test_the_csv_through_the_cli_has_the_slack_figures(database_url, tmp_path):
    seed_workspace()
    result = cli("report", "2026-Q3", "--csv", env=base_env(DATABASE_URL=database_url), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == report.HEADER
    table = {tuple(r[:6]): r[6] for r in rows[1:]}
    assert table[("attainment", "2026-Q3", "all", "", "revenue", "sourced")] == "9999.00"
    assert table[("attainment", "2026-Q3", "owner", "UOWNER1", "", "partners")] == "2"
    assert table[("funnel", "2026-Q3", "conversion", "onboarding>active", "", "rate")] == "0.5"
    assert table[("cohort", "2026-Q2", "cohort", "", "", "median_days_to_deal")] == "39.0"
    assert table[("forecast", "2026-Q3", "all", "", "revenue", "forecast")] == "9999.00"
    assert table[("requests", "2026-Q3", "all", "", "", "opened")] == "0"  # legal's requests are November's

    only = cli("report", "2026-Q3", "--owner", "UOWNER2", "--type", "alliance", "--csv",
               env=base_env(DATABASE_URL=database_url), cwd=tmp_path)
    owners = [r[3] for r in csv.reader(io.StringIO(only.stdout)) if r[2] == "owner" and r[5] == "partners"]
    assert owners == ["UOWNER2"]
    for args, says in [(["2026-03"], "is not a quarter"), (["--owner", "pat"], "Slack user ID"), (["2099-Q2"], "not started")]:
        bad = cli("report", *args, "--csv", env=base_env(DATABASE_URL=database_url), cwd=tmp_path)
        assert bad.returncode == 2 and says in bad.stderr and not bad.stdout, (args, bad.stderr)


def test_long_lists_stay_within_block_kit_worst_first_with_a_count_of_the_rest():
    """At 10,000 partners: 40 owners and 25 teams still make one readable message."""
    def owner(i: int) -> report.GroupAttainment:
        figures = {m: report.Figure(m) for m in kpis.METRICS}
        figures["revenue"] = report.Figure("revenue", Decimal(i), 1, attained_sum=Decimal(i), target_sum=Decimal(100), targeted=1)
        return report.GroupAttainment(f"U{i:03d}", 250, figures)

    rows = [owner(i) for i in range(40, 0, -1)]
    total = report.GroupAttainment(None, 10_000, {m: sum((r.figures[m] for r in rows), report.Figure(m)) for m in kpis.METRICS})
    funnel = report.Funnel("2026-Q4", {s: 0 for s in ("prospect", "onboarding", "active", "at-risk", "churned")},
                           [report.Conversion("prospect", "onboarding", 0, 0), report.Conversion("onboarding", "active", 0, 0)])
    team = TeamRequests(team="t", sla_hours=24, opened=1, resolved=0, median_claim_hours=None, median_resolve_hours=None,
                        past_sla=0, past_sla_now=())
    teams = [replace(team, team=f"team-{i:02d}", opened=10, past_sla=i) for i in range(25)]
    found = report.Report(
        quarter="2026-Q4", as_of=REPORT_NOW, quarter_end=at(1, 1, 2027), filters=report.Filters(),
        attainment=report.Attainments("2026-Q4", 0.5, total, rows), by_type=report.Attainments("2026-Q4", 0.5, total, []),
        funnel=funnel, funnel_before=replace(funnel, quarter="2026-Q3"), cohorts=[],
        forecast=report.Forecast("2026-Q4", Decimal(0), Decimal(0), 0, Decimal(0), None),
        requests=teams, requests_total=all_teams(teams))
    _, blocks = report_blocks(found, zone=UTC, currency="USD", share_text="report")
    shown = texts(blocks)
    assert len(blocks) <= 50 and blocks[-1]["type"] == "actions"
    assert shown.index("<@U001>") < shown.index("<@U002>") < shown.index("<@U010>")  # 1 % of target: furthest behind
    assert "<@U011>" not in shown and "… and 30 more; all of them: `partnerbot report --csv`" in shown
    assert shown.index("*team-24*") < shown.index("*team-23*") and "*team-14*" not in shown
    assert "… and 15 more teams" in shown and "• All teams: 250 opened" in shown
