"""Resolving a partner reference (SPEC §6, §9 Grammar)."""

from __future__ import annotations

import difflib

from sqlalchemy.orm import Session

from commands.errors import UserError
from commands.parser import Command, shown
from storage import partners
from storage.models import Partner
from storage.names import name_key

MAX_NAME_WORDS = 8


def take_partner(cmd: Command, index: int, *, session: Session, usage: str) -> tuple[Partner, int]:
    """The partner named at token `index`, and the index after its name.

    Quoted: that token. Unquoted: the longest run of leading words that
    exactly names a partner; otherwise the first word as a unique prefix.
    Typed in a partner's linked channel, a line that names no partner means that one
    (nothing consumed).
    """
    tokens = cmd.tokens
    if index >= len(tokens):
        if (here := _linked_here(cmd, session)) is not None:
            return here, index
        raise UserError("Which partner? Give its name (a unique prefix is enough).", usage=usage)
    first = tokens[index]
    if first.quoted:
        return resolve(first.text, session=session, usage=usage), index + 1
    run = []
    for token in tokens[index : index + MAX_NAME_WORDS]:
        if token.quoted or token.key_value() or token.user_id or token.channel_id:
            break
        run.append(token.text)
    keys = {name_key(" ".join(run[:k])): k for k in range(1, len(run) + 1)}
    exact = partners.by_keys(session=session, keys=list(keys))
    if exact:
        best = max(exact, key=lambda p: keys[p.name_key])
        return best, index + keys[best.name_key]
    try:
        return resolve(first.text, session=session, usage=usage), index + 1
    except UserError:
        if (here := _linked_here(cmd, session)) is not None and not (first.user_id or first.channel_id):
            return here, index
        raise


def _linked_here(cmd: Command, session: Session) -> Partner | None:
    """The live partner linked to the channel the line was typed in, if any."""
    return partners.linked_to(session=session, channel_id=cmd.channel_id) if cmd.channel_id else None


def resolve(text: str, *, session: Session, usage: str) -> Partner:
    key = name_key(text)
    if not key:
        raise UserError("Which partner? Give its name (a unique prefix is enough).", usage=usage)
    exact = partners.by_keys(session=session, keys=[key])
    if exact:
        return exact[0]
    candidates = partners.by_prefix(session=session, prefix=key, limit=6)
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise UserError(
            f"{shown(text)} matches several partners; type more of the name.",
            usage=usage,
            suggestions=[p.name for p in candidates[:5]],
        )
    raise UserError(
        f"No partner is called {shown(text)}. See them with `/partner list`, or add it with "
        "`/partner add &lt;name&gt; type:channel|alliance|technology`.",
        usage=usage,
        suggestions=near_misses(key, partners.all_name_keys(session=session)),
    )


def near_misses(key: str, names: dict[str, str], limit: int = 3) -> list[str]:
    """Partners whose name, or whose name's first word, is close to what was typed:
    `acne` suggests "Acme Corp" as `acmee` suggests "Acme"."""
    close = difflib.get_close_matches(key, list(names), n=limit, cutoff=0.6)
    by_first: dict[str, list[str]] = {}
    for name_key_, name in names.items():
        by_first.setdefault(name_key_.split(" ", 1)[0], []).append(name)
    first = key.split(" ", 1)[0]
    words = difflib.get_close_matches(first, list(by_first), n=limit, cutoff=0.75)
    found = [names[k] for k in close] + [n for w in words for n in sorted(by_first[w])]
    return list(dict.fromkeys(found))[:limit]
