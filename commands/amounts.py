"""Amounts as users type them: `12,500`, `12.5k`, `$1.2M`, `1.2 million`, `45%`.

Currency marks are checked against the configured currency (babel knows the
symbols); `amount_words` finds where an amount ends in a line of words."""

from __future__ import annotations

import re
from decimal import Decimal

from views.text import a, escape, money
from commands.parser import ParseError, Token, shown

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
    magnitude, percent, after = _tail(parts)
    marks = [m for m in [match["pre"].replace("+", "").strip()] if m] + after
    for mark in marks:
        _check_currency(mark, text, what=what, currency=currency, forms=forms, not_amount=not_amount)
    if percent and marks:
        raise ParseError(f"{shown(text)} is both money and a percentage.")
    number = Decimal(match["num"].replace(",", "")) * magnitude
    if number > MAX_AMOUNT:
        raise ParseError(f"{shown(text)} is more than {MAX_AMOUNT:,}: too large to be a real {what}.")
    if positive and number == 0:
        raise ParseError(f"{shown(text)} is zero; {a(what)} is {least}, like {forms}.")
    return number.quantize(Decimal("0.01")), percent


def _tail(parts: list[str]) -> tuple[int, bool, list[str]]:
    """The words after the number: (magnitude, is_percent, currency marks).
    `5k C$`: letters and sign after the magnitude are one mark."""
    magnitude, percent, after = 1, False, []
    for i, part in enumerate(parts):
        if i == 0 and part.lower() in _MAGNITUDES:
            magnitude = _MAGNITUDES[part.lower()]
        elif part == "%" and not percent:
            percent = True
        else:
            after.append(part)
    if len(after) > 1 and _looks_like_currency("".join(after)):
        after = ["".join(after)]
    return magnitude, percent, after


def _check_currency(mark: str, text: str, *, what: str, currency: str | None, forms: str,
                    not_amount: ParseError) -> None:
    """A currency mark typed with an amount must be the configured currency's (money) or absent."""
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
