"""The one parser for `/partner` text.

Slack sends the command text escaped (`&amp;`, `&lt;`, `&gt;`) and, because the
command has `should_escape: true`, users and channels as `<@U123|name>` and
`<#C123|name>`. The tokenizer keeps each token's span in the raw text so free
text (a summary) is taken verbatim from the raw remainder, then unescaped once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.views.text import cut, escape
from commands.errors import UserError
from storage.names import clean

OPEN_QUOTES = {'"': '"', "“": "”", "„": "“", "”": "”", "«": "»"}
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_USERGROUP = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$")
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


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def typed_text(value: str) -> str:
    """Text from a modal input, as stored: control characters dropped, trimmed."""
    return _CONTROLS.sub("", value).strip()


def tokenize(raw: str) -> Command:
    """Split on whitespace; straight or curly double quotes group words.
    Control characters (NUL and friends) are dropped: no database stores them."""
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


def page_number(options: dict[str, Token], usage: str) -> int:
    """The `page:N` option (default 1)."""
    if "page" not in options:
        return 1
    if not options["page"].text.isdigit() or int(options["page"].text) < 1:
        raise UserError("`page:` takes a page number like `page:2`.", usage=usage)
    return int(options["page"].text)


def without_page(cmd: Command) -> str:
    """The command as typed, minus its `page:` option (the Next page button adds the next one)."""
    return " ".join(t.raw for t in cmd.tokens if not ((kv := t.key_value()) and kv[0] == "page"))


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


# --- values: amounts, dates, periods -------------------------------------------------

_AMOUNT = re.compile(r"^(?P<cur>[$€£])?(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?(?P<suffix>[kmb])?(?P<pct>%)?$", re.I)
_MULTIPLIER = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
MAX_AMOUNT = 10**15


def amount(text: str, *, what: str = "value") -> tuple[Decimal, bool]:
    """`12,500`, `12.5k`, `$1.2M`, `45%` → (Decimal, is_percent). Refuses nonsense."""
    from decimal import Decimal

    cleaned = text.strip().replace(" ", "")
    match = _AMOUNT.match(cleaned)
    if not match:
        hint = " Negative values are not allowed." if cleaned.startswith("-") else ""
        raise UserError(f"{shown(text)} is not a {what}.{hint} Write it like `12,500`, `12.5k`, `$1.2M` or `45%`.")
    number = Decimal(match["num"].replace(",", "") + (f".{match['frac']}" if match["frac"] else ""))
    if match["suffix"]:
        number *= _MULTIPLIER[match["suffix"].lower()]
    if number >= MAX_AMOUNT:
        raise UserError(f"{shown(text)} is too large to be a real {what}.")
    return number.quantize(Decimal("0.01")), bool(match["pct"])


WEEKDAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DATE_HELP = "Use `YYYY-MM-DD`, `today`, `tomorrow`, a weekday like `tuesday`, or `in 2 weeks`."


def take_date(tokens: list[Token], index: int, *, today: date) -> tuple[date, int]:
    """A date at `index` (one to three words); returns it and the next index."""
    from datetime import date as date_, timedelta

    words = [t.word for t in tokens[index : index + 3]]
    if not words:
        raise UserError(f"Which day? {DATE_HELP}")
    first = words[0]
    if first == "today":
        return today, index + 1
    if first == "tomorrow":
        return today + timedelta(days=1), index + 1
    if first == "next" and len(words) > 1 and words[1].rstrip(",") in WEEKDAY_NAMES + [w[:3] for w in WEEKDAY_NAMES]:
        first, index = words[1], index + 1
    for n, name in enumerate(WEEKDAY_NAMES):
        if first in (name, name[:3]):
            ahead = (n - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead), index + 1
    if first == "in" and len(words) == 3 and words[1].isdigit() and int(words[1]) <= 3650:
        unit = words[2].rstrip("s")
        if unit in ("day", "week"):
            return today + timedelta(days=int(words[1]) * (7 if unit == "week" else 1)), index + 3
    try:
        return date_.fromisoformat(tokens[index].text), index + 1
    except ValueError:
        raise UserError(f"{shown(tokens[index].text)} is not a date. {DATE_HELP}") from None


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-q([1-4])$", re.I)


def period(text: str) -> str:
    """`YYYY-MM` or `YYYY-Qn`, normalized; anything else is an error."""
    text = text.strip()
    if (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12 and 2000 <= int(m[1]) <= 2100:
        return text
    if (m := _QUARTER.match(text)) and 2000 <= int(m[1]) <= 2100:
        return f"{m[1]}-Q{m[2]}"
    raise UserError(f"{shown(text)} is not a period: use a month like `2026-03` or a quarter like `2026-Q1`.")
