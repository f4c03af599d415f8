"""Dates and periods as users type them: `2026-03-01`, `tomorrow`, `tuesday`,
`in 2 weeks`, `3 days ago`, `12/20`; periods `2026-03` and `2026-Q1`."""

from __future__ import annotations

import re
from datetime import date

from commands.errors import UserError
from commands.parser import ParseError, Token, shown

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
