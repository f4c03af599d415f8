"""The one parser for `/partner` text.

Slack sends the command text escaped (`&amp;`, `&lt;`, `&gt;`) and, because the
command has `should_escape: true`, users and channels as `<@U123|name>` and
`<#C123|name>`. The tokenizer keeps each token's span in the raw text so free
text (a summary) is taken verbatim from the raw remainder, then unescaped once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.views.text import cut, escape
from commands.errors import UserError
from storage.names import clean

OPEN_QUOTES = {'"': '"', "“": "”", "„": "“", "”": "”", "«": "»"}
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_SLACK_REF = re.compile(r"<([@#!])([^>|]*)(?:\|([^>]*))?>|<(https?://[^>|]+)(?:\|([^>]*))?>")
_KEY = re.compile(r"^([a-z]+):(.*)$", re.S)
MAX_TEXT = 4000


def slack_to_text(raw: str) -> str:
    """Slack's escaped text as the person typed it (mentions become @names)."""

    def readable(match: re.Match[str]) -> str:
        sigil, ident, label, url, url_label = match.groups()
        if url:
            return url
        if sigil == "!":
            # <!here>, <!channel>, <!subteam^S123|@team>, <!date^…|fallback>
            if label:
                return label
            return "@" + ident.split("^", 1)[0]
        if label:
            return ("@" if sigil == "@" else "#") + label.lstrip("@#")
        return sigil + ident

    text = _SLACK_REF.sub(readable, raw)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class Token:
    raw: str  # as Slack sent it
    start: int  # span in the raw command text
    end: int
    quoted: bool = False

    @property
    def text(self) -> str:
        inner = self.raw[1:-1] if self.quoted else self.raw
        return clean(slack_to_text(inner))

    @property
    def word(self) -> str:
        """Lower-cased text for keyword comparison."""
        return self.text.casefold()

    @property
    def user_id(self) -> str | None:
        match = _USER.match(self.raw)
        return match[1] if match else None

    @property
    def channel_id(self) -> str | None:
        match = _CHANNEL.match(self.raw)
        return match[1] if match else None

    def key_value(self) -> tuple[str, Token] | None:
        """`type:channel` → ("type", Token("channel")); None if not key:value."""
        if self.quoted:
            return None
        match = _KEY.match(self.raw)
        if not match:
            return None
        offset = len(match[1]) + 1
        return match[1], Token(self.raw[offset:], self.start + offset, self.end)


@dataclass(frozen=True)
class Command:
    raw: str
    tokens: list[Token]

    def rest(self, index: int) -> str:
        """Free text from token `index` to the end, as typed."""
        if index >= len(self.tokens):
            return ""
        return slack_to_text(self.raw[self.tokens[index].start :]).strip()


def tokenize(raw: str) -> Command:
    """Split on whitespace; straight or curly double quotes group words."""
    if len(raw) > MAX_TEXT:
        raise UserError(f"That is {len(raw):,} characters; keep a command under {MAX_TEXT:,}.")
    tokens: list[Token] = []
    i, n = 0, len(raw)
    while i < n:
        if raw[i].isspace():
            i += 1
            continue
        start = i
        if raw[i] in OPEN_QUOTES:
            closers = {OPEN_QUOTES[raw[i]], '"', "”", "“"}
            j = i + 1
            while j < n and raw[j] not in closers:
                j += 1
            if j >= n:
                raise UserError(
                    "A quote is not closed. Put names with spaces in double quotes, "
                    'like `"Acme Corp"`.'
                )
            i = j + 1
            tokens.append(Token(raw[start:i], start, i, quoted=True))
            continue
        while i < n and not raw[i].isspace():
            i += 1
        tokens.append(Token(raw[start:i], start, i))
    return Command(raw, tokens)


def split_options(tokens: list[Token], allowed: set[str]) -> tuple[list[Token], dict[str, Token]]:
    """Separate `key:value` options from positional tokens; unknown keys are errors."""
    positional: list[Token] = []
    options: dict[str, Token] = {}
    for token in tokens:
        pair = token.key_value()
        if pair is None:
            positional.append(token)
            continue
        key, value = pair
        if key not in allowed:
            names = ", ".join(f"`{k}:`" for k in sorted(allowed)) or "none"
            raise UserError(f"{shown(key + ':')} is not an option here (options: {names}).")
        if key in options:
            raise UserError(f"`{key}:` is given twice.")
        if not value.raw:
            raise UserError(f"`{key}:` needs a value right after the colon, like `{key}:value`.")
        options[key] = value
    return positional, options


def shown(text: str) -> str:
    """User text quoted inside an error message: escaped, short, in code style."""
    return "`" + escape(cut(text, 80)).replace("`", "'") + "`"


def user_ref(token: Token, what: str = "user") -> str:
    """A Slack user picked from the autocomplete (`<@U123|name>`)."""
    if token.user_id:
        return token.user_id
    if token.text.startswith("@"):
        raise UserError(f"{shown(token.text)} is typed as text: pick the {what} from the @ autocomplete.")
    raise UserError(f"{shown(token.text)} is not a Slack user: type @ and pick the {what} from the list.")


def channel_ref(token: Token) -> str:
    """A Slack channel picked from the autocomplete (`<#C123|name>`)."""
    if token.channel_id:
        return token.channel_id
    raise UserError(f"{shown(token.text)} is not a channel: type # and pick the channel from the list.")


def choice(token: Token, options: list[str], what: str) -> str:
    """One of a fixed set of words, with a suggestion on a near miss."""
    import difflib

    word = token.word
    if word in options:
        return word
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    listed = ", ".join(f"`{o}`" for o in options)
    raise UserError(f"{shown(token.text)} is not a {what}.{hint} Choose one of {listed}.")
