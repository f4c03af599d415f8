"""`/partner scorecard <partner>`: post the partner-facing scorecard in the partner's
linked channel (owner or admin). Also the scorecard shown to the partner's own people
(`show`, the partner desk's **Our scorecard**) and posted by the QBR brief's
**Share scorecard with partner** (`share`).

Everything here comes from storage/scorecard.py, which reads only what a partner
may see, and goes out as a partner-facing notification (`partner_id` set): the
sender posts it only while the partner is still linked to that channel."""

from __future__ import annotations

from core.messenger import NOT_OURS, Notification, Posted
from views.messages import confirmation, error_blocks
from views.scorecard import scorecard
from views.text import escape
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command
from commands.permissions import require_owner_or_admin
from commands.refs import take_partner
from storage import partners
from storage.models import Partner
from storage.scorecard import scorecard_data

USAGE = "scorecard <partner>"
DESCRIPTION = "post the partner's own scorecard (KPIs, deals, next QBR, requests) in its linked partner channel"
JOB = "scorecard"  # the ledger's job name for a posted scorecard
# Why Slack (or the sender) did not post it, said so the owner knows what to do.
NOT_POSTED = {
    "partner_channel_unlinked": "the channel is no longer linked to the partner",
    "not_in_channel": "partnerbot is not a member: invite it to the channel",
    "channel_not_found": "Slack can't find the channel: invite partnerbot to it, or link another one",
    "is_archived": "the channel is archived",
}


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    partner, after = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    if after < len(cmd.tokens):
        raise UserError("`scorecard` takes one partner name; put names with spaces in quotes.", usage=USAGE)
    return post(ctx, partner)


def share(ctx: Context, partner_id: int) -> Reply:
    """The QBR brief's **Share scorecard with partner**: the same as typing `/partner scorecard`."""
    partner = partners.get(session=ctx.session, partner_id=partner_id)
    if partner is None:
        raise UserError("That partner no longer exists. Nothing was posted.")
    return post(ctx, partner)


def post(ctx: Context, partner: Partner) -> Reply:
    """The scorecard for the partner's linked channel, claimed with this unit of work and sent
    after it; the caller is told where it went, or why it did not."""
    require_owner_or_admin(partner, ctx, "post its scorecard")
    channel = partners.channel_of(session=ctx.session, partner_id=partner.id)
    name = escape(partner.name)
    if channel is None:
        raise UserError(f"*{name}* has no linked channel to post its scorecard in. Link its Slack Connect channel with "
                        f"`/partner channel {name} #channel`, then try again.")
    data = scorecard_data(ctx.session, partner, now=ctx.now, settings=ctx.settings)
    text, blocks = scorecard(data, zone=ctx.settings.zone, currency=ctx.settings.currency)
    quarter = data.quarter
    # Each run is a new post (a scorecard is a snapshot): the period is this run's time.
    note = Notification(JOB, f"partner:{partner.id}", ctx.now.isoformat(), channel, escape(text), blocks, partner_id=partner.id)

    def then(outcomes: list[Posted]) -> Reply:
        posted = outcomes[0]
        if posted.ok or posted.error == NOT_OURS:
            return Reply(text=f"Posted the {quarter} scorecard in the partner's channel.",
                         blocks=confirmation(f"Posted *{name}*'s {quarter} scorecard in <#{channel}>."))
        why = NOT_POSTED.get(posted.error or "", f"Slack said `{posted.error}`")
        message = f"Couldn't post *{name}*'s scorecard in <#{channel}>: {why}."
        return Reply(text=message, error=True, blocks=error_blocks(message))

    return Reply(text="Posting the scorecard…", outbox=[note], then=then)


def show(ctx: Context, partner_id: int) -> Reply:
    """The scorecard for the partner's own people (the desk's **Our scorecard**), only to
    the person who asked. Whose it is comes from the caller's channel link, never from them."""
    partner = partners.get(session=ctx.session, partner_id=partner_id)
    if partner is None or partner.archived_at is not None:
        raise UserError("There is no scorecard to show here.")
    text, blocks = scorecard(scorecard_data(ctx.session, partner, now=ctx.now, settings=ctx.settings),
                             zone=ctx.settings.zone, currency=ctx.settings.currency)
    return Reply(text=text, blocks=blocks)
