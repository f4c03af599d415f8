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

from core.slacktext import slack_to_text  # re-exported: commands read typed text through the parser
from views.text import a, cut, escape, money
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


# --- values: amounts, dates, periods -------------------------------------------------

MAX_AMOUNT = Decimal(10**12)  # SPEC §9: larger amounts are refused as absurd
_MAGNITUDES = {
    "k": 10**3, "thousand": 10**3,
    "m": 10**6, "mm": 10**6, "mn": 10**6, "million": 10**6,
    "b": 10**9, "bn": 10**9, "billion": 10**9,
    "t": 10**12, "tn": 10**12, "trillion": 10**12,
}
_AMOUNT = re.compile(r"^(?P<pre>[^\d.]*?)\s*(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?P<tail>\D*)$")
_TAIL_PART = re.compile(r"%|[^\W\d_]+|[^\w\s%.,]+")
AMOUNT_FORMS = "`12,500`, `12.5k`, `$1.2M`, `1.2 million` or `45%`"


def examples(kind: str, currency: str | None = None) -> str:
    """The forms an error suggests for one kind of value — only forms that place
    accepts: `money` (in the configured currency), `count` (whole numbers) or
    `percent` (0–100)."""
    if kind == "money":
        return f"`12,500`, `12.5k` or `{escape(money(Decimal(1_200_000), currency or 'USD'))}`"
    if kind == "count":
        return "`12` or `1,200`"
    if kind == "percent":
        return "`45%` or `45`"
    return AMOUNT_FORMS


def _currency_symbols() -> dict[str, str]:
    """Currency symbol (as babel writes it in en_US) → ISO code, for every currency babel knows."""
    from babel.numbers import get_currency_symbol, list_currencies

    symbols: dict[str, str] = {}
    for code in sorted(list_currencies()):
        symbols.setdefault(get_currency_symbol(code, "en_US"), code)
    for code in ("USD", "EUR", "GBP", "JPY", "INR"):  # the usual meaning of a bare symbol
        symbols[get_currency_symbol(code, "en_US")] = code
    return symbols


_SYMBOLS: dict[str, str] = {}


def currency_of(mark: str, configured: str) -> str | None:
    """The ISO code a typed currency mark (`$`, `€`, `eur`, `CA$`) stands for; None if it is no currency.
    A bare `$` (or `¥`) means the configured currency when that is a dollar (or yen/yuan)."""
    from babel.numbers import get_currency_symbol, list_currencies

    if not _SYMBOLS:
        _SYMBOLS.update(_currency_symbols())
    mark = mark.strip()
    own = get_currency_symbol(configured, "en_US")
    if mark.upper() in (configured.upper(), configured.upper()[:2] + "$" if own.endswith("$") else configured.upper()) \
            or mark == own or (not mark.isalpha() and own.endswith(mark)):
        return configured.upper()
    if mark.upper() in list_currencies():
        return mark.upper()
    return _SYMBOLS.get(mark)


def _looks_like_currency(mark: str) -> bool:
    """A mark babel does not know but that is plainly money: a currency sign with
    letters (`C$`, `NZ$`, `Mex$`, `R$`). It is refused as another currency, not as
    'not a value'."""
    import unicodedata

    return any(unicodedata.category(ch) == "Sc" for ch in mark) and all(
        ch.isalpha() or unicodedata.category(ch) == "Sc" for ch in mark)


def amount(text: str, *, what: str = "value", currency: str | None = None, forms: str = AMOUNT_FORMS,
           positive: bool = False) -> tuple[Decimal, bool]:
    """`12,500`, `12.5k`, `$1.2M`, `1.2 million`, `$50k`, `45%` → (Decimal, is_percent).

    With `currency` (money), a currency symbol or code must be that currency's;
    without it, a currency mark is refused. Amounts keep their cents; above
    MAX_AMOUNT they are refused. `forms` are the examples the errors suggest (see
    `examples`); `positive` refuses zero too, and the errors say so."""
    least = "more than zero" if positive else "zero or more"
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    not_amount = ParseError(f"{shown(text)} is not {a(what)}. Write it like {forms}.")
    match = _AMOUNT.match(cleaned)
    if "-" in (match["pre"] if match else cleaned[:1]):
        raise ParseError(f"{shown(text)} is negative; {a(what)} is {least}, like {forms}.")
    if not match:
        raise not_amount
    tail = match["tail"]
    parts = _TAIL_PART.findall(tail)
    if "".join(parts) != tail.replace(" ", ""):
        raise not_amount
    magnitude, percent, marks = 1, False, [m for m in [match["pre"].replace("+", "").strip()] if m]
    after: list[str] = []
    for i, part in enumerate(parts):
        if i == 0 and part.lower() in _MAGNITUDES:
            magnitude = _MAGNITUDES[part.lower()]
        elif part == "%" and not percent:
            percent = True
        else:
            after.append(part)
    if len(after) > 1 and _looks_like_currency("".join(after)):  # `5k C$`: letters and sign are one mark
        after = ["".join(after)]
    marks += after
    for mark in marks:
        code = currency_of(mark, currency or "XXX")
        if code is None and not _looks_like_currency(mark):
            raise not_amount
        code = code or "another currency"
        if currency is None:
            raise ParseError(f"{shown(text)} is money, but {a(what)} is a plain number: write it like {forms}.")
        if code != currency.upper():
            raise ParseError(
                f"{shown(text)} is in {code}, but amounts here are in {currency.upper()} (`PARTNERBOT_CURRENCY`): "
                f"give it in {currency.upper()}, like `{escape(money(Decimal(12500), currency))}`."
            )
    if percent and marks:
        raise ParseError(f"{shown(text)} is both money and a percentage.")
    number = Decimal(match["num"].replace(",", "")) * magnitude
    if number > MAX_AMOUNT:
        raise ParseError(f"{shown(text)} is more than {MAX_AMOUNT:,}: too large to be a real {what}.")
    if positive and number == 0:
        raise ParseError(f"{shown(text)} is zero; {a(what)} is {least}, like {forms}.")
    return number.quantize(Decimal("0.01")), percent


def amount_words(tokens: list[Token]) -> int:
    """How many trailing tokens make up an amount (`25k` → 1, `1.2 million` → 2,
    `€ 50 k` → 3): the last word with a digit, plus any magnitude or currency
    words right after it and currency symbols right before it."""
    count = 0
    while count < len(tokens) and not any(c.isdigit() for c in tokens[-1 - count].text):
        word = tokens[-1 - count].word
        if word not in _MAGNITUDES and not (len(word) == 3 and word.isalpha()) and any(c.isalnum() for c in word):
            return 0
        count += 1
    if count >= len(tokens):
        return 0
    count += 1
    while count < len(tokens) and not any(c.isalnum() for c in tokens[-1 - count].text):
        count += 1
    return count


WEEKDAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7}
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}))?$")


def date_forms(prefix: str = "") -> str:
    """The date forms every date place accepts, written for that place (`next:` writes
    `in 2 weeks` as one word). Every form listed here parses (tests/test_values.py)."""
    if prefix:
        return (f"Use `{prefix}YYYY-MM-DD`, `{prefix}today`, `{prefix}tomorrow`, a weekday like `{prefix}tuesday`, "
                f'`{prefix}in-2-weeks` or `{prefix}"in 2 weeks"`.')
    return "Use `YYYY-MM-DD`, `today`, `tomorrow`, `yesterday`, a weekday like `tuesday`, `in 2 weeks` or `3 days ago`."


DATE_HELP = date_forms()


def _words(tokens: list[Token], index: int) -> list[str]:
    """Up to three words from `index`; a quoted or hyphenated value (`"in 2 weeks"`,
    `in-2-weeks`) is split into its words, so every place takes every form."""
    words: list[str] = []
    for token in tokens[index : index + 3]:
        parts = re.split(r"[\s_]+|(?<=[a-z])-(?=\d)|(?<=\d)-(?=[a-z])|(?<=^in)-", token.word) if (
            token.quoted or re.match(r"^(in-\d|\d+-[a-z])", token.word)) else [token.word]
        words.append(" ".join(p for p in parts if p))
    return words


def _relative(words: list[str], today: date) -> tuple[date, int] | None:
    """`in 2 weeks` / `2 weeks ago` (possibly all in the first word) → (date, words used)."""
    from datetime import timedelta

    flat: list[tuple[str, int]] = [(w, i) for i, word in enumerate(words) for w in word.split()]
    seq = [w for w, _ in flat]
    for form in ("in", "ago"):
        if form == "in" and len(seq) >= 3 and seq[0] == "in":
            number, unit = seq[1], seq[2]
            used = flat[2][1] + 1
            sign = 1
        elif form == "ago" and len(seq) >= 3 and seq[2] == "ago":
            number, unit = seq[0], seq[1]
            used = flat[2][1] + 1
            sign = -1
        else:
            continue
        if number.isdigit() and int(number) <= 3650 and unit in _UNITS:
            return today + sign * timedelta(days=int(number) * _UNITS[unit]), used
    return None


def _slashed(text: str, today: date, *, past: bool) -> date | None:
    """`12/20` or `20/12/2026` when only one reading is a real date (month/day or day/month)."""
    from datetime import date as date_

    match = _SLASHED.match(text)
    if not match:
        return None
    a_, b_ = int(match[1]), int(match[2])
    year = int(match[3]) if match[3] else None
    readings = []
    for month, day in ((a_, b_), (b_, a_)):
        candidates = [year] if year else [today.year - 1, today.year, today.year + 1]
        for y in candidates:
            try:
                readings.append((month, day, date_(y, month, day)))
            except ValueError:
                pass
    months = {(m, d) for m, d, _ in readings}
    if not months:
        raise ParseError(f"{shown(text)} is not a date. {DATE_HELP}")
    if len(months) > 1:
        options = " or ".join(f"`{_nearest(today, m, d, past=past, year=year).isoformat()}`" for m, d in sorted(months))
        raise ParseError(f"{shown(text)} could be read two ways: write {options} (YYYY-MM-DD).")
    (month, day), = months
    return _nearest(today, month, day, past=past, year=year)


def _nearest(today: date, month: int, day: int, *, past: bool, year: int | None) -> date:
    """The date with this month and day: in `year`, else the next one (or, `past`, the last one)."""
    from datetime import date as date_

    if year:
        return date_(year, month, day)
    for y in ((today.year, today.year - 1, today.year - 2) if past else (today.year, today.year + 1, today.year + 2)):
        try:
            candidate = date_(y, month, day)
        except ValueError:  # 29 February
            continue
        if (candidate <= today) if past else (candidate >= today):
            return candidate
    return date_(today.year, month, day)


def take_date(tokens: list[Token], index: int, *, today: date, past: bool = False, option: str = "") -> tuple[date, int]:
    """A date at `index` (one to three words); returns it and the next index.

    Forms: `YYYY-MM-DD`, `today`, `tomorrow`, `yesterday`, a weekday (`next` one,
    or with `past` the last one), `in N days|weeks`, `N days|weeks ago`,
    and `12/20` when month and day cannot be mixed up. `option` names the
    `key:` the date came from, so the error shows forms written for it."""
    from datetime import date as date_, timedelta

    help_ = date_forms(option)
    if index >= len(tokens):
        raise ParseError(f"Which day? {help_}")
    words = _words(tokens, index)
    first = words[0]
    if first == "today":
        return today, index + 1
    if first == "tomorrow":
        return today + timedelta(days=1), index + 1
    if first == "yesterday":
        return today - timedelta(days=1), index + 1
    weekday_words = WEEKDAY_NAMES + [w[:3] for w in WEEKDAY_NAMES]
    step = 0
    if first in ("next", "last") and len(words) > 1 and words[1].rstrip(",") in weekday_words:
        past = first == "last"
        first, step = words[1].rstrip(","), 1
    for n, name in enumerate(WEEKDAY_NAMES):
        if first.rstrip(",") in (name, name[:3]):
            if past:
                return today - timedelta(days=(today.weekday() - n) % 7 or 7), index + step + 1
            return today + timedelta(days=(n - today.weekday()) % 7 or 7), index + step + 1
    relative = _relative(words, today)
    if relative is not None:
        return relative[0], index + relative[1]
    text = tokens[index].text
    slashed = _slashed(text, today, past=past)
    if slashed is not None:
        return slashed, index + 1
    try:
        return date_.fromisoformat(text), index + 1
    except ValueError:
        pass
    if _DATE_SHAPED.match(text):
        raise ParseError(f"{shown(text)} is not a date. {help_}")
    if first in ("in", "next", "last") or first.isdigit():
        raise ParseError(f"{shown(' '.join(words))} is not a date I can read. {help_}")
    raise ParseError(f"{shown(text)} is not a date. {help_}")


# A word shaped like a date (`2026-13-01`, `31/31`, `1/2/3`) is meant as one: where a
# date is optional it is an error when invalid, never silently taken as other text.
_DATE_SHAPED = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$|^\d{1,4}/\d{1,4}(?:/\d{1,4})?$")


def try_date(tokens: list[Token], index: int, *, today: date, past: bool = False) -> tuple[date | None, int]:
    """A date at `index` if one is there (e.g. before free-text notes), else (None, index).
    A date-shaped word that is no valid date is an error."""
    try:
        return take_date(tokens, index, today=today, past=past)
    except UserError:
        if index < len(tokens) and _DATE_SHAPED.match(tokens[index].text):
            raise
        return None, index


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?q([1-4])$|^q([1-4])[-\s]?(\d{4})$", re.I)


def period(text: str) -> str:
    """`YYYY-MM` or `YYYY-Qn` (also `2026Q1`, `Q1-2026`), normalized; anything else is an error."""
    text = text.strip()
    if (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12 and 2000 <= int(m[1]) <= 2100:
        return f"{m[1]}-{int(m[2]):02d}"
    if m := _QUARTER.match(text):
        year, quarter = (m[1], m[2]) if m[1] else (m[4], m[3])
        if 2000 <= int(year) <= 2100:
            return f"{year}-Q{quarter}"
    raise ParseError(f"{shown(text)} is not a period: use a month like `2026-03` or a quarter like `2026-Q1`.")
