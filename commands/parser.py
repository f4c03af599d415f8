"""The one parser for `/partner` text.

Slack sends the command text escaped (`&amp;`, `&lt;`, `&gt;`) and, because the
command has `should_escape: true`, users and channels as `<@U123|name>` and
`<#C123|name>`. The tokenizer keeps each token's span in the raw text so free
text (a summary) is taken verbatim from the raw remainder, then unescaped once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from core.slacktext import slack_to_text  # re-exported: commands read typed text through the parser
from views.text import a, cut, escape
from commands.errors import UserError
from storage.names import clean

class ParseError(UserError):
    """A malformed line: the subcommand's usage is shown with it (commands.handle adds it)."""


OPEN_QUOTES = {'"': '"', "“": "”", "„": "“", "”": "”", "«": "»"}
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_USERGROUP = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$")
_KEY = re.compile(r"^([a-z]+):(.*)$", re.S)
_KEY_START = re.compile(r"[a-z]+:", re.I)
QUOTES = set(OPEN_QUOTES) | set(OPEN_QUOTES.values())
MAX_TEXT = 4000


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
    def usergroup_id(self) -> str | None:
        match = _USERGROUP.match(self.raw)
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
        value = self.raw[offset:]
        quoted = len(value) >= 2 and value[0] in OPEN_QUOTES and value[-1] in QUOTES
        return match[1], Token(value, self.start + offset, self.end, quoted=quoted)


@dataclass(frozen=True)
class Command:
    raw: str
    tokens: list[Token]
    # Where the line was typed: a partner linked to this channel is the partner meant
    # when none is named (commands/refs.py take_partner).
    channel_id: str | None = None

    def rest(self, index: int) -> str:
        """Free text from token `index` to the end, as typed."""
        return self.span(index, len(self.tokens))

    def span(self, start: int, end: int) -> str:
        """Free text of tokens `start` to `end` (exclusive), as typed. One quoted
        argument (`link Globex "GLOBEX-CRM-123"`) means what is inside the quotes."""
        if start >= min(end, len(self.tokens)):
            return ""
        if end - start == 1 and self.tokens[start].quoted:
            return slack_to_text(self.tokens[start].raw[1:-1]).strip()
        return slack_to_text(self.raw[self.tokens[start].start : self.tokens[end - 1].end]).strip()


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def typed_text(value: str) -> str:
    """Text from a modal input, as stored: control characters dropped, trimmed."""
    return _CONTROLS.sub("", value).strip()


def tokenize(raw: str) -> Command:
    """Split on whitespace; straight or curly double quotes group words, also as an
    option's value (`next:"in 2 weeks"`). Control characters (NUL and friends) are
    dropped: no database stores them."""
    raw = _CONTROLS.sub("", raw)
    if len(raw) > MAX_TEXT:
        raise UserError(f"That is {len(raw):,} characters; keep a command under {MAX_TEXT:,}.")
    tokens: list[Token] = []
    i, n = 0, len(raw)
    while i < n:
        if raw[i].isspace():
            i += 1
            continue
        start = i
        key = _KEY_START.match(raw, i)
        opening = key.end() if key and key.end() < n and raw[key.end()] in OPEN_QUOTES else None
        if raw[i] in OPEN_QUOTES or opening is not None:
            quote_at = i if opening is None else opening
            closers = {OPEN_QUOTES[raw[quote_at]], '"', "”", "“"}
            j = quote_at + 1
            while j < n and raw[j] not in closers:
                j += 1
            if j >= n:
                raise ParseError(
                    "A quote is not closed. Put names with spaces in double quotes, "
                    'like `"Acme Corp"`.'
                )
            i = j + 1
            if i < n and not raw[i].isspace():
                # `"Bad "quote" Inc"`: quotes inside quotes cannot be told apart from the closing one.
                raise ParseError(
                    f"The quotes in {shown(raw[start:])} don't pair up: put a name in one pair of double quotes, "
                    "with no quotes inside it."
                )
            tokens.append(Token(raw[start:i], start, i, quoted=opening is None))
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
            raise ParseError(f"{shown(key + ':')} is not an option here (options: {names}).")
        if key in options:
            raise ParseError(f"`{key}:` is given twice.")
        if not value.raw:
            raise ParseError(f"`{key}:` needs a value right after the colon, like `{key}:value`.")
        options[key] = value
    return positional, options


def page_number(options: dict[str, Token], usage: str) -> int:
    """The `page:N` option (default 1)."""
    if "page" not in options:
        return 1
    if not options["page"].text.isdigit() or int(options["page"].text) < 1:
        raise ParseError("`page:` takes a page number like `page:2`.", usage=usage)
    return int(options["page"].text)


def without_page(cmd: Command) -> str:
    """The command as typed, minus its `page:` option (the Next page button adds the next one)."""
    return without_option(cmd, "page")


def without_option(cmd: Command, key: str) -> str:
    """The command as typed (Slack-escaped), minus its `key:` option."""
    return " ".join(t.raw for t in cmd.tokens if not ((kv := t.key_value()) and kv[0] == key))


def shown(text: str) -> str:
    """User text quoted inside an error message: escaped, short, in code style."""
    return "`" + escape(cut(text, 80)).replace("`", "'") + "`"


def user_ref(token: Token, what: str = "user") -> str:
    """A Slack user picked from the autocomplete (`<@U123|name>`)."""
    if token.user_id:
        return token.user_id
    if token.text.startswith("@"):
        raise ParseError(f"{shown(token.text)} is typed as text: pick the {what} from the @ autocomplete.")
    raise ParseError(f"{shown(token.text)} is not a Slack user: type @ and pick the {what} from the list.")


def channel_ref(token: Token) -> str:
    """A Slack channel picked from the autocomplete (`<#C123|name>`)."""
    if token.channel_id:
        return token.channel_id
    raise ParseError(f"{shown(token.text)} is not a channel: type # and pick the channel from the list.")


def choice(token: Token, options: list[str], what: str) -> str:
    """One of a fixed set of words, with a suggestion on a near miss."""
    import difflib

    word = token.word
    if word in options:
        return word
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    listed = ", ".join(f"`{o}`" for o in options)
    raise ParseError(f"{shown(token.text)} is not {a(what)}.{hint} Choose one of {listed}.")

