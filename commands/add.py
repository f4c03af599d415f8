"""`/partner add <name> type:<channel|alliance|technology> [tier:<tier>] [owner:<@user>]`"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.views.messages import confirmation
from bot.views.text import escape, user
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, choice, shown, split_options, user_ref
from storage import audit, partners
from storage.models import PartnerType, Stage
from storage.names import clean

USAGE = "add <name> type:<channel|alliance|technology> [tier:<tier>] [owner:@user]"
DESCRIPTION = "register a partner (you own it unless you name an owner)"
MAX_NAME = 80
MAX_TIER = 40


def validate_name(name: str, *, reserved: set[str]) -> str:
    name = clean(name)
    if not name:
        raise UserError("Give the partner a name.", usage=USAGE)
    if len(name) > MAX_NAME:
        raise UserError(f"A partner name can be at most {MAX_NAME} characters.", usage=USAGE)
    if ":" in name:
        raise UserError("A partner name cannot contain `:` (it starts an option like `type:`).", usage=USAGE)
    if name.casefold() in reserved:
        raise UserError(f"{shown(name)} is a command word; choose another name.", usage=USAGE)
    if any(not ch.isprintable() for ch in name):
        raise UserError("A partner name cannot contain control characters.", usage=USAGE)
    return name


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    from commands import SUBCOMMANDS

    name_tokens = []
    rest = cmd.tokens[index:]
    while rest and rest[0].key_value() is None:
        token = rest.pop(0)
        if token.user_id or token.channel_id:
            raise UserError("A partner name cannot be a @person or #channel.", usage=USAGE)
        name_tokens.append(token)
    positional, options = split_options(rest, {"type", "tier", "owner"})
    if positional:
        raise UserError(
            f"Put the whole name before the options; {shown(positional[0].text)} came after them.", usage=USAGE
        )
    name = validate_name(" ".join(t.text for t in name_tokens), reserved=set(SUBCOMMANDS))
    if "type" not in options:
        raise UserError("Say what kind of partner it is: `type:channel`, `type:alliance` or `type:technology`.", usage=USAGE)
    kind = choice(options["type"], [t.value for t in PartnerType], "partner type")
    tier = clean(options["tier"].text)[:MAX_TIER] if "tier" in options else None
    owner = user_ref(options["owner"], "owner") if "owner" in options else ctx.caller.user_id

    existing = partners.exists(session=ctx.session, name=name)
    if existing:
        raise UserError(f"*{escape(existing.name)}* already exists. See it with `/partner status {escape(name)}`.")
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
