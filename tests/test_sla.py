"""The SLA clock (business hours, holidays, DST), team SLAs set with `route … sla:`,
escalations on that clock, and the request figures the digest and report show."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import select

from bot.app import web_client
from bot.slack import JobSlack
from core.settings import SettingsError
from jobs.runner import run_job
from storage import partners, requests
from storage.db import unit_of_work
from storage.models import HelpRequest, Partner, Route
from storage.sla import business_hours, due_at, request_figures, total
from tests.conftest import make_settings, texts

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = make_settings(PARTNERBOT_BUSINESS_HOURS="mon-fri 09:00-18:00")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the clock ---------------------------------------------------------------

def test_default_clock_keeps_monday_to_friday_whole_days():
    default = make_settings()
    assert default.business_hours == "mon-fri 00:00-24:00"
    # Friday noon → Monday 10:00: 12 hours of Friday, 10 of Monday, no weekend.
    assert business_hours(utc(2026, 11, 20, 12), utc(2026, 11, 23, 10), default) == 22
    assert due_at(utc(2026, 11, 20, 12), 24, default) == utc(2026, 11, 23, 12)


def test_working_hours_skip_evenings_and_weekends():
    friday_late = utc(2026, 11, 20, 17, 50)
    assert due_at(friday_late, 4, OFFICE) == utc(2026, 11, 23, 12, 50)  # Monday, not Saturday
    assert business_hours(friday_late, utc(2026, 11, 23, 12, 50), OFFICE) == 4
    assert business_hours(utc(2026, 11, 21, 10), utc(2026, 11, 22, 23), OFFICE) == 0  # a weekend
    assert business_hours(utc(2026, 11, 23, 12), utc(2026, 11, 23, 11), OFFICE) == 0  # backwards


def test_working_hour_boundaries():
    monday = (2026, 11, 23)
    assert business_hours(utc(*monday, 7), utc(*monday, 10), OFFICE) == 1  # before opening counts from 09:00
    assert business_hours(utc(*monday, 17), utc(*monday, 23), OFFICE) == 1  # after closing stops at 18:00
    assert business_hours(utc(*monday, 9), utc(*monday, 18), OFFICE) == 9
    # An SLA that runs out exactly at closing time is due then, not at the next opening.
    assert due_at(utc(*monday, 17), 1, OFFICE) == utc(*monday, 18)
    # One opened overnight starts at the next opening.
    assert due_at(utc(*monday, 20), 1, OFFICE) == utc(2026, 11, 24, 10)
    assert due_at(utc(2026, 11, 21, 15), 1, OFFICE) == utc(*monday, 10)  # Saturday
    assert due_at(utc(*monday, 20), 0, OFFICE) == utc(*monday, 20)


def test_country_holidays_are_closed_days():
    us = make_settings(PARTNERBOT_BUSINESS_HOURS="mon-fri 09:00-18:00", PARTNERBOT_HOLIDAYS="US")
    # Thanksgiving, Thursday 2026-11-26: Wednesday 17:00 → Friday 10:00 is 1 + 1 hours.
    assert business_hours(utc(2026, 11, 25, 17), utc(2026, 11, 27, 10), us) == 2
    assert business_hours(utc(2026, 11, 25, 17), utc(2026, 11, 27, 10), OFFICE) == 11
    assert due_at(utc(2026, 11, 25, 17), 2, us) == utc(2026, 11, 27, 10)


def test_a_region_has_its_own_holidays():
    scotland = make_settings(PARTNERBOT_HOLIDAYS="gb-sct")
    england = make_settings(PARTNERBOT_HOLIDAYS="GB")
    assert scotland.holidays == ["GB-SCT"]
    # St Andrew's Day, Monday 2026-11-30, is a bank holiday in Scotland only.
    sunday, tuesday = utc(2026, 11, 29), utc(2026, 12, 1)
    assert business_hours(sunday, tuesday, scotland) == 0
    assert business_hours(sunday, tuesday, england) == 24


def test_explicit_dates_are_closed_and_the_clock_crosses_the_year():
    closed = make_settings(PARTNERBOT_BUSINESS_HOURS="mon-fri 09:00-18:00",
                           PARTNERBOT_HOLIDAYS="2026-12-24, 2026-12-31,US")
    # Wednesday 23 December 17:00: the 24th and 31st closed, the 25th (US) and 1 January (US) too.
    start = utc(2026, 12, 23, 17)
    assert business_hours(start, utc(2026, 12, 28, 10), closed) == 2
    assert business_hours(start, utc(2027, 1, 4, 10), closed) == 1 + 3 * 9 + 1
    assert due_at(start, 1 + 3 * 9 + 1, closed) == utc(2027, 1, 4, 10)


def test_daylight_saving_changes_in_new_york():
    every_day = make_settings(PARTNERBOT_TIMEZONE="America/New_York", PARTNERBOT_BUSINESS_HOURS="mon-sun")
    # Clocks go forward on Sunday 8 March 2026 (a 23-hour day) and back on Sunday 1 November (25 hours).
    assert business_hours(datetime(2026, 3, 8, tzinfo=NEW_YORK), datetime(2026, 3, 9, tzinfo=NEW_YORK), every_day) == 23
    assert business_hours(datetime(2026, 11, 1, tzinfo=NEW_YORK), datetime(2026, 11, 2, tzinfo=NEW_YORK), every_day) == 25
    office = make_settings(PARTNERBOT_TIMEZONE="America/New_York", PARTNERBOT_BUSINESS_HOURS="mon-fri 09:00-18:00")
    # Friday 17:00 EST → Monday 10:00 EDT: two business hours, though UTC moved one hour less.
    friday, monday = datetime(2026, 3, 6, 17, tzinfo=NEW_YORK), datetime(2026, 3, 9, 10, tzinfo=NEW_YORK)
    assert business_hours(friday, monday, office) == 2
    assert due_at(friday, 2, office) == utc(2026, 3, 9, 14)  # 10:00 EDT
    assert due_at(datetime(2026, 10, 30, 17, tzinfo=NEW_YORK), 2, office) == utc(2026, 11, 2, 15)  # 10:00 EST
    # A window across the skipped hour is as long as the clock says: 01:00 EST to 04:00 EDT.
    night = make_settings(PARTNERBOT_TIMEZONE="America/New_York", PARTNERBOT_BUSINESS_HOURS="sun 01:00-04:00")
    assert business_hours(datetime(2026, 3, 8, tzinfo=NEW_YORK), datetime(2026, 3, 9, tzinfo=NEW_YORK), night) == 2


NEW_YORK_OFFICE = make_settings(PARTNERBOT_TIMEZONE="America/New_York", PARTNERBOT_BUSINESS_HOURS="mon-fri 08:30-17:00",
                                PARTNERBOT_HOLIDAYS="US")


@given(start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(NEW_YORK)),
       first=st.integers(0, 400 * 3600), second=st.integers(0, 400 * 3600), sla=st.integers(1, 720))
def test_the_clock_adds_up(start, first, second, sla):
    """Intervals add up, and an SLA's due time is exactly that many business hours away."""
    clock = NEW_YORK_OFFICE
    middle, end = start + timedelta(seconds=first), start + timedelta(seconds=first + second)
    whole = business_hours(start, end, clock)
    assert whole == pytest.approx(business_hours(start, middle, clock) + business_hours(middle, end, clock), abs=1e-6)
    due = due_at(start, sla, clock)
    assert business_hours(start, due, clock) == pytest.approx(sla, abs=1e-6)
    assert business_hours(start, due - timedelta(seconds=1), clock) < sla


# --- settings ----------------------------------------------------------------

@pytest.mark.parametrize("value, normal", [
    ("mon-fri 09:00-18:00", "mon-fri 09:00-18:00"),
    ("Monday-Thursday 8:30-17:00", "mon-thu 08:30-17:00"),
    ("sun-thu 09:00-24:00", "mon-thu,sun 09:00-24:00"),
    ("mon,wed,fri", "mon,wed,fri 00:00-24:00"),
])
def test_business_hours_setting_is_read_and_shown_the_same_way(value, normal):
    assert make_settings(PARTNERBOT_BUSINESS_HOURS=value).business_hours == normal


@pytest.mark.parametrize("name, value, expected", [
    ("PARTNERBOT_BUSINESS_HOURS", "weekdays", "'weekdays' is not a day or a range of days; write days like 'mon-fri 09:00-18:00'"),
    ("PARTNERBOT_BUSINESS_HOURS", "mon-fri 9-18", "'9-18' is not a time window; write hours like 'mon-fri 09:00-18:00'"),
    ("PARTNERBOT_BUSINESS_HOURS", "mon-fri 18:00-09:00", "closes before it opens"),
    ("PARTNERBOT_BUSINESS_HOURS", "mon-fri 09:00-24:30", "has a time that does not exist"),
    ("PARTNERBOT_BUSINESS_HOURS", "mon-fri 09:00 18:00 x", "must be days and hours like 'mon-fri 09:00-18:00'"),
    ("PARTNERBOT_HOLIDAYS", "XX", "'XX' is not a country code or a date; write one like US, GB-SCT or DE-BY"),
    ("PARTNERBOT_HOLIDAYS", "DE-XX", "'DE-XX': DE has no region 'XX'; choose one of BB, BE, BW, BY"),
    ("PARTNERBOT_HOLIDAYS", "2026-02-30", "'2026-02-30' is not a date; write dates like 2026-12-24"),
])
def test_a_bad_clock_setting_says_what_to_type(name, value, expected):
    with pytest.raises(SettingsError) as info:
        make_settings(**{name: value})
    assert str(info.value).startswith(f"setting {name}: ")
    assert expected in str(info.value) and "\n" not in str(info.value)


# --- escalations on the clock ------------------------------------------------------

@pytest.fixture
def office(database_url, fake_slack):
    fake_slack.reset()
    return make_settings(DATABASE_URL=database_url, SLACK_API_URL=fake_slack.api_url,
                         PARTNERBOT_BUSINESS_HOURS="mon-fri 09:00-18:00", PARTNERBOT_REQUEST_SLA_HOURS="4")


def add_request(*, created, team="legal", claimed=None, resolved=None, partner="Acme", channel="C0LEGAL"):
    with unit_of_work() as s:
        p = s.scalar(select(Partner).where(Partner.name == partner)) or partners.create(
            session=s, name=partner, type="channel", tier=None, owner_id="UOWNER1", stage="active",
            created_by="UOWNER1", now=created - timedelta(days=400))
        r = requests.create(session=s, partner_id=p.id, team=team, text="Need NDA", requester_id="UREQ1",
                            origin_channel_id="C1", due_on=None, now=created)
        requests.record_post(session=s, request_id=r.id, channel_id=channel, ts=f"1700000000.{r.id:06d}", error=None)
        if claimed:
            requests.claim(session=s, request_id=r.id, user_id="ULAWYER", now=claimed)
        if resolved:
            requests.resolve(session=s, request_id=r.id, user_id="ULAWYER", note=None, now=resolved)
        return r.id


def test_a_request_opened_friday_1750_escalates_monday_1250(office, fake_slack):
    slack = JobSlack(web_client(office), office.zone)
    request_id = add_request(created=utc(2026, 11, 20, 17, 50))
    for quiet in (utc(2026, 11, 20, 18, 5), utc(2026, 11, 21, 12, 5), utc(2026, 11, 23, 12, 49)):
        assert run_job("request-escalations", settings=office, slack=slack, now=quiet).sent == 0, quiet
    assert run_job("request-escalations", settings=office, slack=slack, now=utc(2026, 11, 23, 12, 50)).sent == 1
    (reply,) = fake_slack.calls_to("chat.postMessage")
    assert reply.args["channel"] == "C0LEGAL" and reply.args["thread_ts"] == f"1700000000.{request_id:06d}"
    assert "has waited 4 business hours unclaimed (SLA 4 h)" in texts(reply.args["blocks"])


def test_a_claimer_is_reminded_at_twice_the_sla_in_business_hours(office, fake_slack):
    slack = JobSlack(web_client(office), office.zone)
    add_request(created=utc(2026, 11, 20, 16), claimed=utc(2026, 11, 20, 17))  # claimed Friday 17:00
    assert run_job("request-escalations", settings=office, slack=slack, now=utc(2026, 11, 23, 15, 59)).sent == 0
    assert run_job("request-escalations", settings=office, slack=slack, now=utc(2026, 11, 23, 16)).sent == 1
    assert "was claimed 8 business hours ago" in texts(fake_slack.calls_to("chat.postMessage")[0].args["blocks"])


# --- a team's own SLA, set through Slack ------------------------------------------------

def route(slack_app, extra=""):
    slack_app.fake.add_channel("C0LEGAL", name="legal-requests", is_member=True)
    return texts(slack_app.command(f"route legal <#C0LEGAL|legal-requests>{extra}", user="UADMIN1")["blocks"])


def test_route_sla_changes_when_a_request_escalates(slack_app, settings):
    assert "*legal* requests now go to <#C0LEGAL>; SLA 48 business hours." in route(slack_app, " sla:48h")
    assert "*legal* → <#C0LEGAL> · SLA 48 h" in texts(slack_app.command("route")["blocks"])
    slack_app.command('add "Acme Corp" type:channel', user="UOWNER1")
    slack_app.command("ask legal acme please review the NDA", user="UREQ1")
    slack_app.fake.wait_for("chat.postMessage")
    monday = utc(2026, 11, 23, 9)
    with unit_of_work() as s:  # when it was asked, for a clock the test can read
        s.scalars(select(HelpRequest)).one().created_at = monday
    slack = JobSlack(slack_app.app.client, settings.zone)
    tuesday, wednesday = monday + timedelta(days=1), monday + timedelta(days=2)
    assert run_job("request-escalations", settings=settings, slack=slack, now=tuesday).sent == 0  # the default 24 h
    assert run_job("request-escalations", settings=settings, slack=slack, now=wednesday).sent == 1
    assert "(SLA 48 h)" in texts(slack_app.fake.calls_to("chat.postMessage")[-1].args["blocks"])

    # Routing again without sla: keeps it; sla:default goes back to PARTNERBOT_REQUEST_SLA_HOURS.
    assert "SLA 48 business hours" in route(slack_app)
    assert "SLA 24 business hours (the default, PARTNERBOT_REQUEST_SLA_HOURS)" in route(slack_app, " sla:default")
    assert "*legal* → <#C0LEGAL> · SLA 24 h (default)" in texts(slack_app.command("route")["blocks"])


def test_route_team_sla_alone_keeps_the_channel_and_user_group(slack_app):
    slack_app.fake.add_channel("C0LEGAL", name="legal-requests", is_member=True)
    slack_app.command("route legal <#C0LEGAL|legal-requests> <!subteam^S0LEGAL|@legal-team>", user="UADMIN1")
    assert "*legal* requests: SLA 12 business hours." in texts(slack_app.command("route legal sla:12h", user="UADMIN1")["blocks"])
    with unit_of_work() as s:
        legal = s.get(Route, "legal")
        assert (legal.channel_id, legal.usergroup_id, legal.sla_hours) == ("C0LEGAL", "S0LEGAL", 12)
    refused = texts(slack_app.command("route security sla:4h", user="UADMIN1")["blocks"])
    assert "*security* has no channel set with `/partner route` yet; give it one with its SLA: " \
           "`/partner route security #channel sla:4h`." in refused
    assert "Only admins can change where requests go" in texts(slack_app.command("route legal sla:1h", user="UOWNER1")["blocks"])
    with unit_of_work() as s:
        assert s.get(Route, "legal").sla_hours == 12 and s.get(Route, "security") is None


@pytest.mark.parametrize("option, expected", [
    ("sla:", "`sla:` needs a number of business hours right after the colon: write the team's SLA in business hours, "
             "like `sla:48h` (`sla:default` goes back to the default, 24 h)."),
    ("sla:soon", "`soon` is not a number of hours: write the team's SLA in business hours, like `sla:48h`"),
    ("sla:0h", "An SLA is 1 to 720 business hours; `0h` is not. Write it like `sla:48h`."),
    ("sla:2d", "SLAs count business hours, so write hours: 2 working days are `sla:48h` "
               "with PARTNERBOT_BUSINESS_HOURS `mon-fri 00:00-24:00`."),
])
def test_a_bad_sla_says_what_to_type_and_changes_nothing(slack_app, option, expected):
    assert expected in route(slack_app, " " + option)
    with unit_of_work() as s:
        assert s.get(Route, "legal") is None


def test_days_are_counted_in_working_hours(database_url, fake_slack):
    from tests.conftest import serve

    with serve(make_settings(DATABASE_URL=database_url, PARTNERBOT_BUSINESS_HOURS="mon-fri 09:00-18:00"), fake_slack) as app:
        assert "2 working days are `sla:18h`" in route(app, " sla:2d")
        listing = texts(app.command("route")["blocks"])
        assert "SLAs count business hours: mon-fri 09:00-18:00." in listing


# --- the request figures ----------------------------------------------------------

WEEK = (utc(2026, 11, 16), utc(2026, 11, 23))  # Monday to Monday
NOW = utc(2026, 11, 24, 12)  # Tuesday noon


@pytest.fixture
def figures_data(office):
    """Hand-timed requests on the 09:00–18:00 clock; legal has its own 8-hour SLA, product the default 4."""
    with unit_of_work() as s:
        s.add(Route(team="legal", channel_id="C0LEGAL", sla_hours=8, updated_by="UADMIN1", updated_at=NOW))
    ids = {
        # legal: claimed after 2 h, resolved after 10 (Mon 09:00 → Tue 10:00).
        "L1": add_request(created=utc(2026, 11, 16, 9), claimed=utc(2026, 11, 16, 11), resolved=utc(2026, 11, 17, 10)),
        # legal: claimed after 1 + 8.5 = 9.5 h: past its 8 h.
        "L2": add_request(created=utc(2026, 11, 19, 17), claimed=utc(2026, 11, 20, 17, 30)),
        # legal: never claimed; due Monday 11:00 (6 h Friday, 2 Monday): past SLA now.
        "L3": add_request(created=utc(2026, 11, 20, 12)),
        # legal, opened the week before, resolved unclaimed this week: picked up and resolved after
        # 8 (Wed) + 9 + 9 (Thu, Fri) + 9 + 9 (Mon, Tue) + 0.5 = 44.5 h.
        "L4": add_request(created=utc(2026, 11, 11, 10), resolved=utc(2026, 11, 18, 9, 30)),
        # product: claimed after 5 h (past its 4), resolved after the week.
        "P1": add_request(created=utc(2026, 11, 16, 10), team="product", claimed=utc(2026, 11, 16, 15),
                          resolved=utc(2026, 11, 23, 10), partner="Globex"),
        # product: asked on Sunday evening, due Monday 13:00, still unclaimed.
        "P2": add_request(created=utc(2026, 11, 22, 20), team="product", partner="Globex"),
        # product: asked after the week, due Monday 14:00, still unclaimed.
        "P3": add_request(created=utc(2026, 11, 23, 10), team="product"),
        # finance: claimed long ago and still open: nothing in this week's figures.
        "F1": add_request(created=utc(2026, 10, 1, 9), team="finance", claimed=utc(2026, 10, 1, 10)),
    }
    return ids


def test_request_figures_per_team_and_in_total(office, figures_data):
    ids = figures_data
    with unit_of_work() as s:
        rows = request_figures(s, start=WEEK[0], end=WEEK[1], now=NOW, settings=office)
    legal, product = rows
    assert (legal.team, legal.sla_hours, legal.opened, legal.resolved) == ("legal", 8, 3, 2)
    assert (legal.median_claim_hours, legal.median_resolve_hours) == (9.5, (10 + 44.5) / 2)
    assert (legal.past_sla, round(legal.past_sla_pct, 1), legal.past_sla_now) == (2, 66.7, (ids["L3"],))
    assert (product.team, product.sla_hours, product.opened, product.resolved) == ("product", 4, 2, 0)
    assert (product.median_claim_hours, product.median_resolve_hours) == (5, None)
    assert (product.past_sla, product.past_sla_pct, product.past_sla_now) == (2, 100, (ids["P2"], ids["P3"]))

    all_teams = total(rows)
    assert (all_teams.team, all_teams.opened, all_teams.resolved, all_teams.past_sla) == (None, 5, 2, 4)
    assert all_teams.past_sla_pct == 80
    assert all_teams.median_claim_hours == (5 + 9.5) / 2  # over 2, 5, 9.5 and 44.5
    assert all_teams.median_resolve_hours == (10 + 44.5) / 2
    assert all_teams.past_sla_now == (ids["L3"], ids["P2"], ids["P3"])  # the longest overdue first


def test_request_figures_for_some_partners_and_a_quiet_period(office, figures_data):
    with unit_of_work() as s:
        globex = select(Partner.id).where(Partner.name == "Globex")
        (product,) = request_figures(s, start=WEEK[0], end=WEEK[1], now=NOW, settings=office, partner_ids=globex)
        quiet = request_figures(s, start=utc(2026, 1, 5), end=utc(2026, 1, 12), now=utc(2026, 1, 12), settings=office)
    assert (product.opened, product.past_sla, product.past_sla_now) == (2, 2, (figures_data["P2"],))
    assert quiet == [] and total(quiet).past_sla_pct is None and total(quiet).median_claim_hours is None
