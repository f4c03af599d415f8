"""Values mean what they say (issue 12): money, dates, names, near-duplicate
partners, typos, teams, each subcommand's usage, articles and plurals.

End-to-end cases go through `slack_app` (signed HTTP to the real Bolt app);
parser properties call the one parser directly."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import func, select

from bot.dispatch import run_command
from views.text import a, money, plural
from commands import SUBCOMMANDS, Caller
from commands.errors import UserError
from commands.amounts import MAX_AMOUNT, amount
from commands.dates import date_forms, take_date
from commands.parser import tokenize
from storage.db import unit_of_work
from storage.models import Base, DealRegistration, Interaction, KpiValue, Partner
from tests.conftest import Quiet, texts


def body(reply) -> str:
    return texts(reply["blocks"])


def count(model) -> int:
    with unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model))


def kpi_value(metric: str = "revenue") -> Decimal | None:
    with unit_of_work() as s:
        return s.scalar(select(KpiValue.value).where(KpiValue.metric == metric))


# --- money ---------------------------------------------------------------------------


def test_money_in_another_currency_is_refused_naming_the_configured_one(slack_app):
    slack_app.command("add Acme type:channel")
    for typed in ("€50k", "50k EUR", "£50,000"):
        reply = slack_app.command(f"kpi acme revenue {typed}")
        assert "amounts here are in USD" in body(reply), typed
        assert "PARTNERBOT_CURRENCY" in body(reply)
    assert kpi_value() is None
    # The configured currency's own marks are fine.
    assert "*$50K*" in body(slack_app.command("kpi acme revenue $50k"))
    assert "*$60K*" in body(slack_app.command("kpi acme revenue 60k USD"))


def test_absurd_amounts_are_refused_above_the_documented_ceiling(slack_app):
    slack_app.command("add Acme type:channel")
    reply = slack_app.command("kpi acme revenue 10000000000000")
    assert "too large" in body(reply) and "1,000,000,000,000" in body(reply)
    assert kpi_value() is None
    assert "*$1T*" in body(slack_app.command("kpi acme revenue 1000000000000"))


def test_cents_below_ten_are_shown_and_kept(slack_app):
    slack_app.command("add Acme type:channel")
    assert "*$0.50*" in body(slack_app.command("kpi acme revenue 0.5"))
    assert kpi_value() == Decimal("0.50")
    assert "$0.50" in body(slack_app.command("status acme"))


@pytest.mark.parametrize("typed", ["1.2 million", "1.2m", "1.2M", "$1,200,000", "$1.2M", "1,200k", "1.2 mm"])
def test_every_way_of_writing_a_million_means_the_same(slack_app, typed):
    slack_app.command("add Acme type:channel")
    reply = slack_app.command(f"kpi acme revenue {typed}")
    assert "*$1.2M*" in body(reply), body(reply)
    assert kpi_value() == Decimal("1200000")


def test_deal_amount_takes_words_and_refuses_other_currencies(slack_app):
    slack_app.command("add Acme type:channel")
    assert "$1.2M" in body(slack_app.command('deal acme "Globex Inc" 1.2 million'))
    with unit_of_work() as s:
        deal = s.scalars(select(DealRegistration)).one()
    assert (deal.customer, deal.amount) == ("Globex Inc", Decimal("1200000"))
    refused = slack_app.command("deal acme Initech €5k")
    assert "amounts here are in USD" in body(refused)
    assert count(DealRegistration) == 1


def test_counts_are_not_money(slack_app):
    slack_app.command("add Acme type:channel")
    assert "plain number" in body(slack_app.command("kpi acme leads $5"))
    assert kpi_value("leads") is None


@pytest.mark.parametrize("typed, value", [
    ("12,500", "12500"), ("12.5k", "12500"), ("1.2k", "1200"), ("$1.2M", "1200000"), ("1.2 million", "1200000"),
    ("0.5", "0.50"), ("USD 7", "7"), ("$ 50k", "50000"), ("1 trillion", "1000000000000"),
])
def test_amount_forms(typed, value):
    assert amount(typed, what="revenue value", currency="USD") == (Decimal(value), False)


def test_bare_dollar_means_the_configured_dollar():
    assert amount("$5", currency="CAD")[0] == Decimal(5)
    with pytest.raises(UserError, match="in EUR, but amounts here are in CAD"):
        amount("€5", currency="CAD")


@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False, allow_infinity=False))
@hsettings(max_examples=300, deadline=None)
def test_money_parsing_round_trips_through_display(value):
    shown = money(value, "USD")
    parsed, percent = amount(shown, what="revenue value", currency="USD")
    assert not percent
    assert money(parsed, "USD") == shown  # what is shown reads back as itself
    assert abs(parsed - value) <= max(Decimal("0.005") * value, Decimal("0.01"))  # within display rounding
    if value < 1000:  # below a thousand the display is exact
        assert parsed == value


@given(st.sampled_from(["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "INR"]), st.integers(min_value=0, max_value=10**12))
@hsettings(max_examples=200, deadline=None)
def test_display_of_any_configured_currency_reads_back(currency, whole):
    shown = money(whole, currency)
    parsed, _ = amount(shown, currency=currency)
    assert money(parsed, currency) == shown


# --- dates ---------------------------------------------------------------------------


TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize("typed, expected", [
    ("today", TODAY), ("tomorrow", TODAY + timedelta(1)), ("friday", date(2026, 11, 27)),
    ("next friday", date(2026, 11, 27)), ("in 2 weeks", date(2026, 12, 9)), ('"in 2 weeks"', date(2026, 12, 9)),
    ("in-2-weeks", date(2026, 12, 9)), ("in 3 days", date(2026, 11, 28)), ("2026-12-20", date(2026, 12, 20)),
    ("12/20", date(2026, 12, 20)), ("20/12/2026", date(2026, 12, 20)), ("yesterday", TODAY - timedelta(1)),
])
def test_date_forms(typed, expected):
    assert take_date(tokenize(typed).tokens, 0, today=TODAY)[0] == expected


def test_a_slashed_date_that_could_be_read_two_ways_names_the_actual_year():
    with pytest.raises(UserError) as error:
        take_date(tokenize("05/06").tokens, 0, today=TODAY)
    assert "`2027-05-06`" in error.value.message and "`2027-06-05`" in error.value.message


@pytest.mark.parametrize("prefix", ["", "next:"])
def test_every_date_form_the_help_shows_works(prefix):
    """The help never suggests a form that would be refused."""
    import re

    for form in re.findall(r"`([^`]+)`", date_forms(prefix)):
        typed = form.removeprefix(prefix).replace("YYYY-MM-DD", "2026-12-01")
        assert take_date(tokenize(typed).tokens, 0, today=TODAY)[0] >= TODAY - timedelta(days=3), form


@pytest.mark.parametrize("option", ["next:in 2 weeks", 'next:"in 2 weeks"', "next:in-2-weeks"])
def test_log_follow_up_in_two_weeks(slack_app, option):
    slack_app.command("add Initech type:channel")
    reply = slack_app.command(f"log Initech demo went well {option} then pricing")
    assert "reminder on" in body(reply), body(reply)
    with unit_of_work() as s:
        interaction = s.scalars(select(Interaction)).one()
    assert interaction.follow_up_on == datetime.now(timezone.utc).date() + timedelta(weeks=2)
    assert interaction.summary == "went well then pricing"


def test_a_date_error_never_suggests_the_form_it_refused(slack_app):
    slack_app.command("add Initech type:channel")
    reply = slack_app.command("log Initech demo went well next:someday")
    text = body(reply)
    assert "`someday` is not a date" in text
    assert "`next:in-2-weeks`" in text and "Usage: `/partner log" in text
    assert count(Interaction) == 0


def test_qbr_takes_every_date_form(slack_app):
    slack_app.command("add Acme type:channel")
    today = datetime.now(timezone.utc).date()
    for typed, expected in (("in-2-weeks", today + timedelta(weeks=2)), ('"in 3 days"', today + timedelta(days=3))):
        slack_app.command(f"qbr acme {typed}")
        with unit_of_work() as s:
            from storage.models import Qbr

            days = set(s.scalars(select(Qbr.scheduled_for)))
        assert expected in days, (typed, days)


# --- each subcommand shows its own usage -----------------------------------------------


def test_rename_without_a_new_name_shows_renames_usage(slack_app):
    slack_app.command("add Hooli type:channel")
    text = body(slack_app.command("rename Hooli"))
    assert "Usage: `/partner rename" in text
    assert "/partner add" not in text


# --- names ---------------------------------------------------------------------------


def test_quotes_inside_a_quoted_name_are_refused(slack_app):
    reply = slack_app.command('add "Bad "quote" Inc" type:channel')
    assert "don't pair up" in body(reply) and "Usage: `/partner add" in body(reply)
    assert 'Bad quote' not in body(reply)
    reply = slack_app.command('add Bad"quote type:channel')
    assert "cannot contain quotes" in body(reply)
    assert count(Partner) == 0


def test_slack_formatting_characters_are_refused_in_names(slack_app):
    reply = slack_app.command('add "*Evil* _co_ ~x~" type:channel')
    text = body(reply)
    assert "cannot contain" in text and "formatting" in text and "Usage: `/partner add" in text
    assert count(Partner) == 0
    slack_app.command("add Hooli type:channel")
    assert "cannot contain" in body(slack_app.command("rename hooli *Hooli*"))
    with unit_of_work() as s:
        assert s.scalar(select(Partner.name)) == "Hooli"


def test_quoted_arguments_are_unquoted(slack_app):
    slack_app.command("add Globex type:channel")
    slack_app.command('link Globex "GLOBEX-CRM-123"')
    slack_app.command('rename Globex "Globex Intl"')
    with unit_of_work() as s:
        partner = s.scalars(select(Partner)).one()
    assert (partner.crm_id, partner.name) == ("GLOBEX-CRM-123", "Globex Intl")


def test_option_values_can_be_quoted():
    (token,) = tokenize('next:"in 2 weeks"').tokens
    key, value = token.key_value()
    assert (key, value.text, value.quoted) == ("next", "in 2 weeks", True)


def test_same_partner_under_the_match_key_is_refused(slack_app):
    slack_app.command('add "Acme Corp" type:channel')
    for typed in ("acme", "ACME corp.", '"Acme Corporation"'):
        reply = slack_app.command(f"add {typed} type:alliance")
        assert "*Acme Corp* already exists" in body(reply), typed
    assert count(Partner) == 1
    slack_app.command("add Hooli type:channel")
    assert "*Acme Corp* already exists" in body(slack_app.command("rename hooli Acme Inc"))


def test_a_name_that_is_a_prefix_of_another_asks_for_confirmation(slack_app):
    slack_app.command('add "Acme Labs" type:channel')
    reply = slack_app.command("add Acme type:technology")
    text = body(reply)
    assert "Nothing was saved" in text and "/partner add Acme type:technology confirm:yes" in text
    assert count(Partner) == 1
    # The button re-runs the same command with confirm:yes.
    button = reply["blocks"][-1]["elements"][0]
    assert button["value"] == "add Acme type:technology confirm:yes"
    response, url = slack_app.action(button["action_id"], button["value"])
    assert "Added *Acme*" in body(slack_app.reply_to(url))
    # The reverse: an existing name that is a prefix of the new one.
    assert "confirm:yes" in body(slack_app.command('add "Acme Labs Europe" type:channel'))
    assert "Added" in body(slack_app.command('add "Acme Labs Europe" type:channel confirm:yes'))
    assert count(Partner) == 3


def test_rename_to_a_prefix_asks_too(slack_app):
    slack_app.command("add Globex type:channel")
    slack_app.command("add Initech type:channel")
    assert "/partner rename initech Glob confirm:yes" in body(slack_app.command("rename initech Glob"))
    assert "is now *Glob*" in body(slack_app.command("rename initech Glob confirm:yes"))


@pytest.mark.parametrize("typed, name", [("Acne", "Acme Corp"), ("Oceanik", "Oceanic Airlines"), ("Hooly", "Hooli")])
def test_a_typo_of_the_first_word_suggests_the_partner(slack_app, typed, name):
    for partner in ('"Acme Corp"', '"Oceanic Airlines"', "Hooli"):
        slack_app.command(f"add {partner} type:channel")
    text = body(slack_app.command(f"status {typed}"))
    assert "Did you mean" in text and f"*{name}*" in text


def test_status_of_an_archived_partner_says_so(slack_app):
    slack_app.command("add Hooli type:channel")
    slack_app.command("archive hooli")
    assert "Archived" in body(slack_app.command("status hooli"))


# --- teams ---------------------------------------------------------------------------


def test_requests_with_an_unknown_filter_is_refused_with_a_suggestion(slack_app):
    text = body(slack_app.command("requests bogus"))
    assert "`bogus` is not a filter or a team" in text and "none" not in text
    assert "Usage: `/partner requests" in text
    assert "Did you mean `open`" in body(slack_app.command("requests opne"))
    assert "Did you mean `legal`" in body(slack_app.command("requests legl"))


def test_ask_with_a_typo_of_a_team_suggests_the_team_not_routing_it(slack_app):
    slack_app.command("add Acme type:channel")
    slack_app.command("route finance <#C0FIN|finance>", user="UADMIN1")
    text = body(slack_app.command("ask finanse acme invoice question"))
    assert "Did you mean `finance`" in text
    assert "route finanse" not in text


# --- articles and plurals --------------------------------------------------------------


def test_articles_and_plurals_come_from_one_helper():
    assert (a("email"), a("call"), a("alliance partner")) == ("an email", "a call", "an alliance partner")
    assert (plural(1, "partner"), plural(2, "partner"), plural(1200, "request")) == ("1 partner", "2 partners", "1,200 requests")


def test_replies_use_the_right_article_and_number(slack_app):
    slack_app.command("add Acme type:alliance")
    assert "Logged an *email*" in body(slack_app.command("log acme email sent the deck"))
    assert "is an alliance partner" in body(slack_app.command("deal acme Initech 5k"))
    portfolio = body(slack_app.command("status"))
    assert "Portfolio · 1 partner" in portfolio and "1 partners" not in portfolio


# --- every malformed line: a user error with THAT subcommand's usage, nothing written ----

MALFORMED = {
    "add": ["", "type:channel", "Acme2", "Zed type:bogus", "Zed type:channel colour:red", '"Bad "quote" Inc" type:channel'],
    "status": ["acme extra words", "nosuchpartner"],
    "list": ["bogus", "type:bogus", "zz:1"],
    "log": ["", "acme", "acme cal hello", "acme call hi next:someday", "nosuchpartner call hi"],
    "stage": ["", "acme", "acme bogus"],
    "onboard": ["", "nosuchpartner"],
    "qbr": ["", "acme someday", "acme 13/13", "acme 05/06"],
    "kpi": ["", "acme", "acme revenue", "acme revenue lots", "acme revenue €5", "acme bogus 5", "acme revenue 5 period:2026-13",
            "acme leads $5", "acme revenue 10000000000000"],
    "target": ["", "acme", "acme revenue lots", "acme revenue 5 period:soon"],
    "deal": ["", "acme", "acme 5k", "acme Initech lots", "acme Initech €5k"],
    "ask": ["", "finanse acme hi", "legal"],
    "requests": ["bogus", "open unclaimed"],
    "route": ["legal", "legal notachannel"],
    "owner": ["", "acme", "acme bob"],
    "rename": ["", "acme", "acme *Bold*"],
    "archive": ["", "acme extra"],
    "channel": ["", "acme", "acme general"],
    "reassign": ["", "a b"],
    "link": ["", "acme"],
}


@pytest.fixture
def with_partner(settings):
    run_command("add Acme type:channel", caller=Caller("UADMIN1", "C1"), settings=settings, slack=Quiet())
    run_command("route legal <#C0LEGAL|legal>", caller=Caller("UADMIN1", "C1"), settings=settings, slack=Quiet())
    return settings


def rows() -> dict[str, int]:
    with unit_of_work() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def assert_malformed(line: str, settings) -> None:
    word = line.split(None, 1)[0]
    before = rows()
    reply = run_command(line, caller=Caller("UADMIN1", "C1"), settings=settings, slack=Quiet())
    text = texts(reply.blocks)
    assert reply.payload()["response_type"] == "ephemeral"
    assert text.startswith(":warning:"), (line, text)
    assert f"Usage: `/partner {SUBCOMMANDS[word].USAGE.split(' ', 1)[0]}" in text, (line, text)
    assert "Traceback" not in text
    assert rows() == before, line


@pytest.mark.parametrize("word", sorted(MALFORMED))
def test_each_malformed_line_shows_that_subcommands_usage(with_partner, word):
    for args in MALFORMED[word]:
        assert_malformed(f"{word} {args}".strip(), with_partner)


_NOISE = st.text(st.characters(blacklist_categories=["Cc", "Cs"], blacklist_characters="\"“”„«»"), max_size=40)


@given(word=st.sampled_from(sorted(MALFORMED) + ["history", "undo", "jobs"]), noise=_NOISE,
       defect=st.sampled_from(['{w} {n} "{n}', '{w} acme "{n}', '{w} "{n}" "y', '{w} "{n}"tail', '{w} acme "{n}"x']))
@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_line_with_broken_quotes_is_that_subcommands_usage_error(with_partner, word, noise, defect):
    line = defect.format(w=word, n=noise)
    assert_malformed(line, with_partner)


def test_qbr_done_takes_past_date_forms(slack_app):
    from storage.models import Qbr

    slack_app.command("add Acme type:channel")
    today = datetime.now(timezone.utc).date()
    for typed, expected in (("3 days ago", today - timedelta(days=3)), ("yesterday", today - timedelta(days=1))):
        slack_app.command(f"qbr acme done {typed} renewal agreed")
        with unit_of_work() as s:
            assert expected in set(s.scalars(select(Qbr.held_on))), typed


# --- issue 12 item 8: a date-shaped word that is no date is an error, not notes ------------

def test_a_date_shaped_word_that_is_no_date_is_refused_where_a_date_is_optional(slack_app):
    slack_app.command("add Oceanic type:alliance")
    for typed in ("2026-13-01", "31/31", "2026-02-30"):
        reply = body(slack_app.command(f"qbr oceanic done {typed} notes"))
        assert f"`{typed}` is not a date" in reply, typed
    with unit_of_work() as s:
        from storage.models import Qbr
        assert s.scalar(select(func.count()).select_from(Qbr)) == 0
    # A real date, or none, still works: notes start after it.
    slack_app.command("qbr oceanic done 2026-11-30 went well")
    with unit_of_work() as s:
        from storage.models import Qbr
        (qbr,) = s.scalars(select(Qbr))
        assert (qbr.held_on.isoformat(), qbr.notes) == ("2026-11-30", "went well")


# --- issue 12 item 9: an error suggests only forms that place accepts --------------------

def test_value_errors_suggest_only_what_that_metric_takes(slack_app):
    slack_app.command("add Acme type:channel")
    revenue = body(slack_app.command("kpi acme revenue lots"))
    assert "`12.5k`" in revenue and "`$1.2M`" in revenue and "45%" not in revenue
    assert "45%" not in body(slack_app.command("target acme revenue 1e13"))
    for line in ("kpi acme deals 1e13", "deal acme Initrode 1e13"):
        text = body(slack_app.command(line))
        assert "45%" not in text, line
    assert "$1.2M" not in body(slack_app.command("kpi acme deals 1e13"))
    adoption = body(slack_app.command("kpi acme adoption $5"))
    assert "`45%` or `45`" in adoption and "`120`" not in adoption
    # The deal rule and its message agree: more than zero, for -5 and 0 alike.
    for typed in ("-5", "0"):
        text = body(slack_app.command(f"deal acme Initrode {typed}"))
        assert "a deal amount is more than zero" in text and "zero or more" not in text, typed
    assert count(DealRegistration) == 0 and kpi_value() is None


BAD_VALUES = st.one_of(
    st.sampled_from(["lots", "1e13", "-5", "0", "$5", "C$5k", "45%", "12.5", "200%", "10000000000000", "€5", "5 EUR", "k"]),
    st.text(alphabet="0123456789-.,%$kKmMe€", min_size=1, max_size=8),
)
PLACES = ["kpi acme {metric} {value}", "target acme {metric} {value}"]


@pytest.fixture
def channel_partner(settings):
    run_command("add Acme type:channel", caller=Caller("UADMIN1", "C1"), settings=settings, slack=Quiet())
    return settings


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=BAD_VALUES, data=st.data())
def test_every_form_an_amount_error_suggests_parses_in_that_place(channel_partner, value, data):
    import itertools
    import re as re_

    line = data.draw(st.sampled_from(
        [p.format(metric=m, value="{value}") for p in PLACES for m in ("revenue", "leads", "adoption", "deals")]
        + ["deal acme {customer} {value}"]))
    customers = (f"Customer{n}" for n in itertools.count(int(datetime.now().timestamp() * 1000)))

    def run(typed: str) -> str:
        text = line.format(value=typed, customer=next(customers))
        return texts(run_command(text, caller=Caller("UADMIN1", "C1"), settings=channel_partner, slack=Quiet()).blocks)

    error = run(value)
    if not error.startswith(":warning:"):
        return
    spans = re_.findall(r"`([^`]+)`", error.split("Usage:")[0])
    if error.startswith(":warning: `"):
        spans = spans[1:]  # the value as typed, echoed back
    suggested = [e for e in spans if not e.startswith(("PARTNERBOT_", "/partner", "period:"))]
    for example in suggested:
        assert not run(example).startswith(":warning:"), (line, value, error, example)


# --- issue 12 item 10: Slack's auto-links read as what the person typed --------------------

def test_slack_auto_links_are_read_as_typed(slack_app):
    reply = body(slack_app.command("add <http://Partner.io|Partner.io> type:channel"))
    assert "Added *Partner.io*" in reply, reply
    slack_app.command('deal partner.io "<mailto:a@b.com|a@b.com>" 5k')
    with unit_of_work() as s:
        assert s.scalar(select(DealRegistration.customer)) == "a@b.com"
    slack_app.command("log partner.io call see <https://docs.example/x> and <mailto:c@d.com|c@d.com>")
    with unit_of_work() as s:
        assert s.scalar(select(Interaction.summary)) == "see https://docs.example/x and c@d.com"


# --- issue 12 item 16: small things that said the wrong thing ------------------------------

def test_rename_to_the_same_name_or_only_its_case_says_what_happened(slack_app):
    slack_app.command("add Foo type:channel")
    same = body(slack_app.command("rename foo Foo"))
    assert "*Foo* is already called that, so nothing was changed" in same and "is now" not in same
    assert "Renamed *Foo* to *FOO*." in body(slack_app.command("rename foo FOO"))
    with unit_of_work() as s:
        assert s.scalar(select(Partner.name)) == "FOO"


def test_kpi_with_a_quarter_suggests_a_month_of_that_quarter(slack_app):
    slack_app.command("add Acme type:channel")
    reply = body(slack_app.command("kpi acme leads 12 period:2026-Q3"))
    assert "`period:2026-07`" in reply and "`period:2026-09`" in reply and "2026-03" not in reply
    assert "targets are per quarter" in reply and kpi_value("leads") is None


def test_any_currency_mark_is_refused_naming_the_configured_currency(slack_app):
    slack_app.command("add Acme type:channel")
    for typed in ("C$5k", "5k C$", "NZ$5k"):
        reply = body(slack_app.command(f"kpi acme revenue {typed}"))
        assert "amounts here are in USD" in reply and "not a revenue value" not in reply, typed
    assert kpi_value() is None
