"""Lists page in SQL: a page of rows and a count, so a long list costs one page
whatever its length; the page shown and its wording stay as before."""

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from storage.db import unit_of_work
from storage.models import HelpRequest, Partner
from tests.conftest import texts


@contextmanager
def loaded(model):
    """Count the rows of `model` the bot loads from the database while the block runs."""
    seen = []

    def count(target, context):
        seen.append(target)

    event.listen(model, "load", count)
    try:
        yield seen
    finally:
        event.remove(model, "load", count)


def add_partners(n: int) -> None:
    from storage import partners

    with unit_of_work() as s:
        for i in range(n):
            partners.create(session=s, name=f"P{i:02d}", type="channel", tier=None, owner_id="UOWNER1",
                            stage="active", created_by="UOWNER1", now=datetime.now(timezone.utc))


def test_partner_list_loads_one_page_and_counts_the_rest(slack_app):
    add_partners(60)
    with loaded(Partner) as partners_loaded:
        reply = slack_app.command("list page:2")
    body = texts(reply["blocks"])
    assert "60 partners · page 2 of 3" in body and "P25" in body and "P49" in body
    assert "P24" not in body and "P50" not in body and "… and 10 more" in body
    assert reply["blocks"][-1]["elements"][0]["value"] == "list page:3"
    assert len(partners_loaded) <= 25


def test_a_page_past_the_end_shows_the_last_page(slack_app):
    add_partners(30)
    reply = slack_app.command("list page:9")
    body = texts(reply["blocks"])
    assert "30 partners · page 2 of 2" in body and "P29" in body and "P24" not in body
    assert not any(b.get("type") == "actions" for b in reply["blocks"])  # no Next page on the last page


def test_requests_list_loads_one_page(slack_app):
    from storage import requests as request_store

    slack_app.command('add "Acme Corp" type:channel', user="UOWNER1")
    start = datetime.now(timezone.utc) - timedelta(days=2)
    with unit_of_work() as s:
        for n in range(70):
            request_store.create(session=s, partner_id=1, team="legal", text=f"need {n:02d}", requester_id="UREQ1",
                                 origin_channel_id=None, due_on=None, now=start + timedelta(minutes=n))
    with loaded(HelpRequest) as requests_loaded:
        reply = slack_app.command("requests page:3")
    body = texts(reply["blocks"])
    assert "Open requests* · 70 · page 3 of 3" in body and "need 60" in body and "need 69" in body
    assert "need 59" not in body
    assert len(requests_loaded) <= 30
