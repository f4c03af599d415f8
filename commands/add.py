"""`/partner add <name> type:<channel|alliance|technology> [tier:<tier>] [owner:<@user>]`"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from views.ids import Action
from views.messages import confirmation
from views.text import button, escape, plural, section, user
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, choice, shown, slack_to_text, split_options, user_ref, without_option
from storage import audit, partners
from storage.models import PartnerType, Stage
from storage.names import clean, match_key, name_key

USAGE = "add <name> type:<channel|alliance|technology> [tier:<tier>] [owner:@user] [confirm:yes]"
DESCRIPTION = "register a partner (you own it unless you name an owner)"
MAX_NAME = 80
MAX_TIER = 40


# Names are shown exactly as typed everywhere, so they may not hold what Slack's
# mrkdwn would turn into formatting, nor quotes that the quoting of names uses.
FORMATTING = "*_~`"
QUOTES = "\"“”„«»"


def validate_name(name: str, *, reserved: set[str], usage: str = USAGE) -> str:
    name = clean(name)
    if not name:
        raise UserError("Give the partner a name.", usage=usage)
    if len(name) > MAX_NAME:
        raise UserError(f"A partner name can be at most {MAX_NAME} characters.", usage=usage)
    if ":" in name:
        raise UserError("A partner name cannot contain `:` (it starts an option like `type:`).", usage=usage)
    if name.casefold() in reserved:
        raise UserError(f"{shown(name)} is a command word; choose another name.", usage=usage)
    if any(not ch.isprintable() for ch in name):
        raise UserError("A partner name cannot contain control characters.", usage=usage)
    if any(ch in QUOTES for ch in name):
        raise UserError("A partner name cannot contain quotes: put the whole name in one pair of double quotes, "
                        'like `"Acme Corp"`.', usage=usage)
    if marks := sorted({ch for ch in name if ch in FORMATTING}):
        listed = " ".join(f"`{ch}`" if ch != "`" else "`` ` ``" for ch in marks)
        raise UserError(f"A partner name cannot contain {listed}: Slack would show it as formatting "
                        "(bold, italic, strikethrough, code) instead of the name as typed.", usage=usage)
    return name


def validate_tier(tier: str, *, usage: str = USAGE) -> str | None:
    """The one tier rule, for `add` and the CSV import: at most MAX_TIER characters
    (the column's size), refused rather than cut; empty means no tier."""
    tier = clean(tier)
    if len(tier) > MAX_TIER:
        raise UserError(f"A tier can be at most {MAX_TIER} characters (this one has {len(tier)}).", usage=usage)
    return tier or None


def near_names(ctx: Context, name: str, *, usage: str, confirmed: bool, again: str, exclude_key: str | None = None) -> Reply | None:
    """Refuse a name that is another partner's under the match key (SPEC §10), and ask
    before taking one that is a prefix of another partner's name, or has one as its
    prefix: either would make `acme` stop finding the partner it finds today.
    `again` is the command as typed (Slack-escaped), re-run with `confirm:yes`."""
    names = partners.all_name_keys(session=ctx.session)
    names.pop(exclude_key, None)
    key, same = name_key(name), match_key(name)
    for existing_key, existing in names.items():
        if existing_key == key:
            raise UserError(f"*{escape(existing)}* already exists. See it with `/partner status {escape(ref(existing))}`.")
        if same and match_key(existing) == same:
            raise UserError(
                f"*{escape(existing)}* already exists, and *{escape(name)}* would be the same partner "
                "(names are compared without case, punctuation or a legal suffix like Inc or Corp). "
                f"See it with `/partner status {escape(ref(existing))}`.",
                usage=usage,
            )
    close = sorted(existing for existing_key, existing in names.items()
                   if existing_key.startswith(key) or key.startswith(existing_key))
    if not close or confirmed:
        return None
    listed = ", ".join(f"*{escape(n)}*" for n in close[:5]) + (f" and {plural(len(close) - 5, 'other')}" if len(close) > 5 else "")
    command = f"{again} confirm:yes"
    question = (f":question: *{escape(name)}* and {listed} start the same way, so a short name like "
                f"`{escape(min([name, *close], key=len).split(' ')[0].casefold())}` could mean either. Is it really another partner? "
                f"Nothing was saved. To go ahead, type `/partner {escape(slack_to_text(command))}`"
                + (" or click *Yes, it is another partner*." if len(command) < 1900 else "."))
    blocks = [section(question)]
    if len(command) < 1900:
        # The generic "re-run this command" button (also used by Next page) runs it as the clicker.
        blocks.append({"type": "actions", "elements": [button("Yes, it is another partner", Action.PAGE, command, style="primary")]})
    return Reply(text=f"{name} and {', '.join(close[:5])} start the same way; nothing was saved.", blocks=blocks)


def ref(name: str) -> str:
    """A partner name as it can be typed back: quoted when it has spaces."""
    return f'"{name}"' if " " in name else name


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    from commands import SUBCOMMANDS

    name_tokens = []
    rest = cmd.tokens[index:]
    while rest and rest[0].key_value() is None:
        token = rest.pop(0)
        if token.user_id or token.channel_id:
            raise UserError("A partner name cannot be a @person or #channel.", usage=USAGE)
        name_tokens.append(token)
    positional, options = split_options(rest, {"type", "tier", "owner", "confirm"})
    if positional:
        raise UserError(
            f"Put the whole name before the options; {shown(positional[0].text)} came after them.", usage=USAGE
        )
    name = validate_name(" ".join(t.text for t in name_tokens), reserved=set(SUBCOMMANDS))
    if "type" not in options:
        raise UserError("Say what kind of partner it is: `type:channel`, `type:alliance` or `type:technology`.", usage=USAGE)
    kind = choice(options["type"], [t.value for t in PartnerType], "partner type")
    tier = validate_tier(options["tier"].text) if "tier" in options else None
    owner = user_ref(options["owner"], "owner") if "owner" in options else ctx.caller.user_id

    confirmed = "confirm" in options and choice(options["confirm"], ["yes"], "confirmation") == "yes"
    if (question := near_names(ctx, name, usage=USAGE, confirmed=confirmed,
                               again=without_option(cmd, "confirm"))) is not None:
        return question
    try:
        with ctx.session.begin_nested():
            partner = partners.create(
                session=ctx.session,
                name=name,
                type=kind,
                tier=tier,
                owner_id=owner,
                stage=Stage.ONBOARDING,
                created_by=ctx.caller.user_id,
                now=ctx.now,
            )
    except IntegrityError:
        raise UserError(f"*{escape(name)}* was just added by someone else.") from None
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="partner.add", summary=f"added {partner.name}",
                 undo={"partner_id": partner.id}, now=ctx.now)
    detail = f"Type {kind}" + (f" · tier {escape(tier)}" if tier else "") + f" · owner {user(owner)} · stage onboarding"
    return Reply(
        text=f"Added {partner.name}.",
        blocks=confirmation(f"Added *{escape(partner.name)}*.", detail=detail),
    )
