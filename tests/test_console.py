"""The offline console on the demo workspace (`partnerbot run` without tokens), as a
newcomer tries it: buttons clicked by number, forms filled in line by line, colleagues
and channels typed by name, switching who you are."""

import io
import re

import pytest

from bot.console import Directory, console, escape_like_slack
from tests import cli


def demo(tmp_path, lines: str) -> str:
    """`partnerbot run` with no Slack tokens (the demo workspace in tmp_path), `lines` piped in."""
    result = cli.run("run", input=lines, env=cli.base_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "\x1b[" not in result.stdout  # piped: plain text, no terminal styling
    return result.stdout


def after(output: str, line: str) -> str:
    """What the console showed after the typed `line` (up to the next one)."""
    shown = output.split(f"/partner {line}\n", 1)[1]
    return shown.split("\n/partner ", 1)[0]


def channel_partners(tmp_path) -> list[str]:
    return re.findall(r"^• \*(.+?)\* · channel", demo(tmp_path, "list type:channel\n"), re.M)


def test_a_request_is_claimed_by_a_colleague_and_resolved(tmp_path):
    partner = channel_partners(tmp_path)[0]
    output = demo(tmp_path, f'ask legal "{partner}" Review the reseller addendum\nas @dana\nclick 1\n'
                            "click 1 signed and sent\n")
    posted = after(output, f'ask legal "{partner}" Review the reseller addendum')
    assert "→ posted to #legal:" in posted
    assert "[1 Claim]  [2 Resolve]  [3 Add note]" in posted
    assert "You are now @dana." in after(output, "as @dana")
    claimed = after(output, "click 1")
    assert "→ updated the message in #legal:" in claimed
    assert "Claimed by @dana" in claimed
    assert "[1 Resolve]  [2 Add note]" in claimed
    assert "→ posted to DM to @alex:\n    @dana claimed your legal request" in claimed
    resolved = after(output, "click 1 signed and sent")
    assert "Resolved by @dana" in resolved and "*Resolution:* signed and sent" in resolved
    assert "@dana resolved your legal request" in resolved


def test_a_form_asks_field_by_field_when_the_click_gives_no_text(tmp_path):
    partner = channel_partners(tmp_path)[0]
    output = demo(tmp_path, f'ask legal "{partner}" Check the NDA\nas @dana\n3\nlooked at clause 4\n')
    shown = after(output, "3")
    assert "Add note: fill in the form" in shown
    assert "  note: looked at clause 4" in shown
    assert "→ posted to #legal (in thread):\n    :memo: @dana: looked at clause 4" in output


def test_a_deal_conflict_is_approved_by_an_admin_not_by_anyone(tmp_path):
    first, second = channel_partners(tmp_path)[:2]
    output = demo(tmp_path, f'deal "{first}" "Wayne Retail Demo" 20000\ndeal "{second}" "Wayne Retail Demo" 30000\n'
                            "as @dana\nclick 1\nas @alex\nclick 1\n")
    flagged = after(output, f'deal "{second}" "Wayne Retail Demo" 30000')
    assert "Deal conflict" in flagged and "[1 Approve]  [2 Reject]" in flagged
    assert "flagged as a *conflict*" in flagged
    refused = output.split("/partner as @dana\n", 1)[1].split("/partner as @alex\n", 1)[0]
    assert "Only admins can approve or reject deal conflicts. Nothing was changed." in refused
    assert "You are now @alex (an admin)." in output
    approved = output.rsplit("/partner click 1\n", 1)[1]
    assert "Approved by @alex" in approved
    assert "was *approved* by @alex" in approved  # the registrant's DM


def test_open_on_app_home_shows_the_partners_card(tmp_path):
    output = demo(tmp_path, "home\nclick 2\n")
    home = after(output, "home")
    assert "Your partners" in home and "[1 Log an interaction]" in home
    partner = re.search(r"^• \*(.+?)\* · .*\[2 Open\]$", home, re.M)[1]
    card = after(output, "click 2")
    assert card.startswith(f"{partner}\n{'=' * len(partner)}\n")
    assert "Owner: @alex" in card and "Last interactions" in card


def test_log_from_app_home_asks_each_field_and_logs(tmp_path):
    partner = channel_partners(tmp_path)[0]
    output = demo(tmp_path, f"home\nclick 1\n{partner}\ncall\nMet their CTO\n\nstatus \"{partner}\"\n")
    assert f"Logged a call with {partner}." in output
    assert "*call* by @alex: Met their CTO" in after(output, f'status "{partner}"')


def test_share_posts_the_reply_without_its_buttons(tmp_path):
    partner = channel_partners(tmp_path)[0]
    output = demo(tmp_path, f'status "{partner}"\nclick 1\n')
    assert "[1 Share in channel]" in after(output, f'status "{partner}"')
    shared = after(output, "click 1")
    assert shared.startswith(f"  → shared in the channel:\n    {partner}\n")
    assert "Share in channel" not in shared


def test_people_and_channels_are_typed_by_name_and_listed_in_help(tmp_path):
    output = demo(tmp_path, "help\nlist owner:@dana\nroute legal #finance\nas @nobody\nclick 9\n")
    helped = after(output, "help")
    assert "click N [text]" in helped and "as @someone" in helped
    assert "People: @alex (you, admin), @dana, @sam." in helped
    assert "Channels: #legal, #product, #finance, #partner-connect (Slack Connect: try `/partner channel <partner> #partner-connect`)." in helped
    owners = re.findall(r"owner (@\w+)$", after(output, "list owner:@dana"), re.M)
    assert owners and set(owners) == {"@dana"}
    assert "#finance" in after(output, "route legal #finance")
    assert "Nobody called @nobody here." in after(output, "as @nobody")
    assert "There is no button 9 to click" in after(output, "click 9")


def test_the_next_page_button_runs_its_line(settings):
    from datetime import datetime, timezone

    from storage import partners
    from storage.db import unit_of_work

    now = datetime.now(timezone.utc)
    with unit_of_work() as s:
        for n in range(30):
            partners.create(session=s, name=f"Partner {n:02d}", type="channel", tier=None, owner_id="U1",
                            stage="active", created_by="U1", now=now)
    out = io.StringIO()
    assert console(settings, user_id="U1", stdin=io.StringIO("list\nclick 1\n"), stdout=out) == 0
    output = out.getvalue()
    assert "[1 Next page]" in after(output, "list")
    assert "page 2 of 2" in after(output, "click 1")
    assert "Partner 29" in after(output, "click 1")


@pytest.mark.parametrize("typed, sent", [
    ("list owner:@dana", "list owner:<@U0DEMO2>"),
    ("route legal #legal", "route legal <#C0LEGAL|>"),
    ("log acme note email dana@example.com & @nobody", "log acme note email dana@example.com &amp; @nobody"),
    ("owner acme @U0DEMO3", "owner acme <@U0DEMO3>"),
])
def test_names_become_the_mentions_slack_would_insert(typed, sent):
    directory = Directory(people={"dana": "U0DEMO2"}, channels={"legal": "C0LEGAL"})
    assert escape_like_slack(typed, directory) == sent


def test_the_partner_desk_is_tried_offline_in_the_demo_slack_connect_channel(tmp_path):
    partner = channel_partners(tmp_path)[0]
    output = demo(tmp_path, f'channel "{partner}" #partner-connect\nclick 3\nclick 1\nGlobex Retail\n40k\n2099-02-01\n\n'
                            "click 2\nAlready in our pipeline\n"
                            # The desk again (linking once more posts it anew), for its other buttons.
                            f'channel "{partner}" #partner-connect\nclick 2\ncontracts\nPlease send the signed MSA\n')
    linked = after(output, f'channel "{partner}" #partner-connect')
    assert "→ posted to #partner-connect:" in linked and "partner-safe mode" in linked
    assert "[1 Register a deal]  [2 Ask for help]  [3 Our scorecard]" in linked
    registered = after(output, "click 1")
    assert "under review" in registered and "→ posted to DM to @" in registered and "[2 Reject]" in registered
    rejected = after(output, "click 2")
    assert "→ posted to #partner-connect (in thread):" in rejected and "Already in our pipeline" in rejected
    assert "→ posted to #legal:" in output and "Please send the signed MSA" in output
    assert f"{partner} · scorecard" in after(output, "click 3")
