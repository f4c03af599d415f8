"""`/partner add <name> type:<channel|alliance|technology> [tier:<tier>] [owner:<@user>]`"""

from __future__ import annotations

import bisect

from sqlalchemy.exc import IntegrityError

from views.messages import confirmation
from views.partners import same_start_question
from views.text import escape, user
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, choice, shown, split_options, user_ref, without_option
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


class NameIndex:
    """The near-duplicate rule (SPEC §10), in one place for `add`, `rename` and the CSV
    import: a name whose match key is another partner's is that partner; a name that
    is a prefix of another's, or has one as its prefix, would make `acme` stop finding
    the partner it finds today. Prefix look-ups use a sorted list, so an import of
    thousands of rows stays fast."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = dict(names)  # name_key → display name
        self.by_match = {match_key(n): n for n in self.names.values() if match_key(n)}
        self.keys = sorted(self.names)

    def add(self, name: str) -> None:
        key = name_key(name)
        if key not in self.names:
            self.names[key] = name
            bisect.insort(self.keys, key)
        self.by_match.setdefault(match_key(name), name)

    def same(self, name: str) -> str | None:
        """The existing name that is this partner under the match key (an exact name included)."""
        if (exact := self.names.get(name_key(name))) is not None:
            return exact
        same = match_key(name)
        return self.by_match.get(same) if same else None

    def close(self, name: str) -> list[str]:
        """Existing names this one is a prefix of, or that are a prefix of it."""
        key = name_key(name)
        start = bisect.bisect_left(self.keys, key)
        found = set()
        for existing in self.keys[start:]:
            if not existing.startswith(key):
                break
            found.add(existing)
        found |= {key[:end] for end in range(1, len(key)) if key[:end] in self.names}
        found.discard(key)
        return sorted(self.names[k] for k in found)


def same_partner_error(name: str, existing: str, *, usage: str | None) -> UserError:
    if name_key(existing) == name_key(name):
        return UserError(f"*{escape(existing)}* already exists. See it with `/partner status {escape(ref(existing))}`.")
    return UserError(
        f"*{escape(existing)}* already exists, and *{escape(name)}* would be the same partner "
        "(names are compared without case, punctuation or a legal suffix like Inc or Corp). "
        f"See it with `/partner status {escape(ref(existing))}`.",
        usage=usage,
    )


def near_names(ctx: Context, name: str, *, usage: str, confirmed: bool, again: str, exclude_key: str | None = None) -> Reply | None:
    """Refuse a name that is another partner's under the match key, and ask before
    taking a prefix near-name (NameIndex). `again` is the command as typed
    (Slack-escaped), re-run with `confirm:yes`."""
    names = partners.all_name_keys(session=ctx.session)
    names.pop(exclude_key, None)
    index = NameIndex(names)
    if (existing := index.same(name)) is not None:
        raise same_partner_error(name, existing, usage=usage)
    close = index.close(name)
    if not close or confirmed:
        return None
    text, blocks = same_start_question(name, close, f"{again} confirm:yes")
    return Reply(text=text, blocks=blocks)


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
