"""Looking after partners: `owner`, `rename`, `archive`, `channel` (owner or admin)
and `reassign` (admins: hand over a departing colleague's partners)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.exc import IntegrityError

from views.messages import confirmation
from views.partner_facing import desk as desk_view
from views.text import escape, plural, plural_noun, user
from commands.add import near_names, validate_name
from commands.context import Context, Reply
from core.messenger import NOT_OURS, SEVERAL_ORGS, SHARED, Notification, Posted
from commands.errors import UserError
from commands.parser import Command, channel_ref, choice, user_ref, without_option
from commands.permissions import require_admin, require_owner_or_admin
from commands.refs import take_partner
from storage import audit, partners
from storage.models import Partner
from storage.names import name_key


def _remember(ctx: Context, partner: Partner, summary: str) -> None:
    """Record the partner's fields as they were, for `/partner undo`."""
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="partner.fields", summary=summary,
                 undo={"partner_id": partner.id, "fields": audit.partner_fields(partner)}, now=ctx.now)


def _one_more(cmd: Command, index: int, usage: str, what: str):
    if index >= len(cmd.tokens):
        raise UserError(f"Give the {what}.", usage=usage)
    if index + 1 < len(cmd.tokens):
        raise UserError(f"Give just the {what} after the partner.", usage=usage)
    return cmd.tokens[index]


class Owner:
    USAGE = "owner <partner> <@user>"
    DESCRIPTION = "hand a partner to another owner (owner or admin)"

    @staticmethod
    def run(cmd: Command, index: int, ctx: Context) -> Reply:
        partner, index = take_partner(cmd, index, session=ctx.session, usage=Owner.USAGE)
        new_owner = user_ref(_one_more(cmd, index, Owner.USAGE, "new owner"), "new owner")
        require_owner_or_admin(partner, ctx, "change its owner")
        _remember(ctx, partner, f"gave {partner.name} to {new_owner} (was {partner.owner_id})")
        previous, partner.owner_id = partner.owner_id, new_owner
        ctx.session.flush()
        return Reply(text=f"{partner.name} is now owned by {new_owner}.",
                     blocks=confirmation(f"*{escape(partner.name)}* is now owned by {user(new_owner)} (was {user(previous)})."))


class Rename:
    USAGE = "rename <partner> <new name> [confirm:yes]"
    DESCRIPTION = "rename a partner (owner or admin)"

    @staticmethod
    def run(cmd: Command, index: int, ctx: Context) -> Reply:
        from commands import SUBCOMMANDS

        partner, index = take_partner(cmd, index, session=ctx.session, usage=Rename.USAGE)
        end, confirmed = len(cmd.tokens), False
        if end > index and (kv := cmd.tokens[-1].key_value()) and kv[0] == "confirm":
            confirmed, end = choice(kv[1], ["yes"], "confirmation") == "yes", end - 1
        new_name = validate_name(cmd.span(index, end), reserved=set(SUBCOMMANDS), usage=Rename.USAGE)
        require_owner_or_admin(partner, ctx, "rename it")
        if new_name == partner.name:
            raise UserError(f"*{escape(partner.name)}* is already called that, so nothing was changed.", usage=Rename.USAGE)
        question = near_names(ctx, new_name, usage=Rename.USAGE, confirmed=confirmed,
                              again=without_option(cmd, "confirm"), exclude_key=partner.name_key)
        if question is not None:
            return question
        _remember(ctx, partner, f"renamed {partner.name} to {new_name}")
        previous = partner.name
        try:
            with ctx.session.begin_nested():
                partner.name, partner.name_key = new_name, name_key(new_name)
                ctx.session.flush()
        except IntegrityError:
            raise UserError(f"Another partner is already called *{escape(new_name)}*.", usage=Rename.USAGE) from None
        if name_key(previous) == name_key(new_name):  # only the case or spacing changed: "X is now X" would read as nothing
            return Reply(text=f"Renamed {previous} to {new_name}.",
                         blocks=confirmation(f"Renamed *{escape(previous)}* to *{escape(new_name)}*."))
        return Reply(text=f"{previous} is now {new_name}.", blocks=confirmation(f"*{escape(previous)}* is now *{escape(new_name)}*."))


class Archive:
    USAGE = "archive <partner>"
    DESCRIPTION = "hide a partner from lists, App Home and jobs; kept in exports (owner or admin)"

    @staticmethod
    def run(cmd: Command, index: int, ctx: Context) -> Reply:
        partner, index = take_partner(cmd, index, session=ctx.session, usage=Archive.USAGE)
        if index < len(cmd.tokens):
            raise UserError("`archive` takes one partner name.", usage=Archive.USAGE)
        require_owner_or_admin(partner, ctx, "archive it")
        if partner.archived_at is not None:
            return Reply(text="Already archived.", blocks=confirmation(f"*{escape(partner.name)}* was already archived."))
        _remember(ctx, partner, f"archived {partner.name}")
        partner.archived_at = ctx.now
        ctx.session.flush()
        return Reply(text=f"{partner.name} archived.", blocks=confirmation(
            f"Archived *{escape(partner.name)}*: hidden from lists, App Home and scheduled posts, kept in exports."))


def shared_refusal(channel: str, problem: str) -> str:
    if problem == SHARED:
        return f"<#{channel}> is shared with another organisation, so partnerbot won't link partner data to it. Pick an internal channel."
    return (f"Slack couldn't confirm that <#{channel}> is internal (`{problem}`), so it wasn't linked. "
            "If it is private, invite me with `/invite @partnerbot` there; otherwise try again in a minute.")


class Channel:
    USAGE = "channel <partner> <#channel|none>"
    DESCRIPTION = ("link the partner's Slack channel: `status` typed there shows this partner; a Slack Connect channel "
                   "becomes the partner's channel, with its partner desk")

    @staticmethod
    def run(cmd: Command, index: int, ctx: Context) -> Reply:
        partner, index = take_partner(cmd, index, session=ctx.session, usage=Channel.USAGE)
        token = _one_more(cmd, index, Channel.USAGE, "channel")
        if token.word in ("none", "off"):
            return Channel.unlink(partner, ctx)
        channel = channel_ref(token)
        require_owner_or_admin(partner, ctx, "link its channel")
        other = partners.in_channel(session=ctx.session, channel_id=channel)
        if other is not None and other.id != partner.id:
            raise UserError(f"<#{channel}> is already the channel of *{escape(other.name)}*; a channel belongs to one partner. "
                            f"Unlink it first with `/partner channel {escape(other.name)} none`.", usage=Channel.USAGE)
        problem = ctx.slack.shared_problem(channel)
        if problem not in (None, SHARED):  # Slack could not say what this channel is: not linked
            raise UserError(shared_refusal(channel, problem), usage=Channel.USAGE)
        if problem == SHARED and (several := ctx.slack.partner_channel_problem(channel)):
            raise UserError(f"<#{channel}> is shared with several other organisations, so it can't be one partner's "
                            "channel: use a Slack Connect channel with this partner alone." if several == SEVERAL_ORGS
                            else shared_refusal(channel, several), usage=Channel.USAGE)
        _remember(ctx, partner, f"linked {partner.name} to a channel" + (" (partner channel)" if problem else ""))
        partner.slack_channel_id = channel
        ctx.session.flush()
        if problem is None:
            return Reply(text=f"{partner.name} linked to a channel.", blocks=confirmation(
                f"*{escape(partner.name)}* is linked to <#{channel}>: `/partner status` there shows it."))
        return Channel.open_desk(partner, channel, ctx)

    @staticmethod
    def open_desk(partner: Partner, channel: str, ctx: Context) -> Reply:
        """A Slack Connect channel: partner-safe mode, and the partner desk posted (and pinned) there."""
        text, blocks = desk_view(partner.name)
        post = Notification("partner-desk", f"desk:{partner.id}", f"{channel}:{ctx.now:%Y%m%d%H%M%S%f}", channel, text, blocks,
                            partner_id=partner.id, pin=True)
        name = escape(partner.name)
        said = (f"<#{channel}> is shared with another organisation, so it is now the partner channel of *{name}*, in "
                "partner-safe mode: partner data is never posted there, only what the partner may see (its scorecard, "
                "and the outcomes of what it asks for). Your own `/partner` replies there stay visible to you alone.")

        def posted(outcomes: list[Posted]) -> Reply:
            if outcomes[0].ok or outcomes[0].error == NOT_OURS:
                where = f"<{outcomes[0].link}|partner desk>" if outcomes[0].link else "partner desk"
                return Reply(text=f"Partner channel of {partner.name} set.", blocks=confirmation(
                    said, detail=f"I posted the {where} there (pinned if I may pin): its people can register a deal, "
                                 "ask for help and see their scorecard."))
            return Reply(text=f"Partner channel of {partner.name} set.", blocks=confirmation(
                said, detail=f"I couldn't post the partner desk there (`{outcomes[0].error}`): invite me with "
                             f"`/invite @partnerbot` in <#{channel}>, then run this command again."))

        return Reply(text="", outbox=[replace(post, link=True)], then=posted)

    @staticmethod
    def unlink(partner: Partner, ctx: Context) -> Reply:
        require_owner_or_admin(partner, ctx, "unlink its channel")
        if not partner.slack_channel_id:
            raise UserError(f"*{escape(partner.name)}* has no linked channel; nothing was changed.")
        _remember(ctx, partner, f"unlinked the channel of {partner.name}")
        channel, partner.slack_channel_id = partner.slack_channel_id, None
        ctx.session.flush()
        return Reply(text=f"{partner.name} unlinked from its channel.", blocks=confirmation(
            f"*{escape(partner.name)}* is no longer linked to <#{channel}>. If it was the partner channel, its desk is "
            "closed: nothing more is posted there and its buttons answer that the desk is closed."))


class Reassign:
    USAGE = "reassign <@from> <@to>"
    DESCRIPTION = "admins: hand all of a departing colleague's partners to someone else"

    @staticmethod
    def run(cmd: Command, index: int, ctx: Context) -> Reply:
        tokens = cmd.tokens[index:]
        if len(tokens) != 2:
            raise UserError("Give the person leaving and the new owner, both picked with @.", usage=Reassign.USAGE)
        old, new = user_ref(tokens[0], "person leaving"), user_ref(tokens[1], "new owner")
        require_admin(ctx, "reassign partners")
        if old == new:
            raise UserError("That is the same person twice.", usage=Reassign.USAGE)
        moved = partners.reassign(session=ctx.session, old_owner=old, new_owner=new)
        if not moved:
            raise UserError(f"{user(old)} owns no partners; nothing was changed.")
        audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="partners.reassign",
                     summary=f"reassigned {plural(moved, 'partner')}", undo={"from": old, "to": new}, now=ctx.now)
        return Reply(text=f"Moved {plural(moved, 'partner')}.", blocks=confirmation(f"Moved *{moved:,}* {plural_noun(moved, 'partner')} from {user(old)} to {user(new)}."))
