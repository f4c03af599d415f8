"""The one escaping helper and Block Kit building blocks that respect Slack's limits."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.numbers import format_compact_currency, format_currency

from views.ids import Action, Block

if TYPE_CHECKING:
    import inflect

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON = 75
MAX_CONTEXT_TEXT = 2000


def escape(text: str) -> str:
    """Make user text inert in mrkdwn: `<!channel>` and `<@U1>` cannot ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Formatting characters Slack's mrkdwn acts on. Partner names may not contain them
# (commands.add refuses them), so a name renders exactly as typed inside `*…*`.
MRKDWN_MARKS = "*_~`"


@lru_cache(maxsize=1)
def _english() -> inflect.engine:
    # Imported on first use: the import alone takes ~2.5 s of CPU (typeguard instruments
    # inflect), which every `partnerbot` start that never inflects a word would pay.
    import inflect

    return inflect.engine()


def warm_up() -> None:
    """Load the English rules now (at start-up), not inside the first reply's 3-second ack."""
    _english()


def a(word: str) -> str:
    """`word` with its indefinite article: "a call", "an email", "an alliance partner"."""
    return _english().a(word)


def article(word: str) -> str:
    """Just the article for `word` ("a" or "an"), for when the word itself is formatted."""
    return a(word).split(" ", 1)[0]


def plural(count: int, noun: str) -> str:
    """The count and the noun that agrees with it: "1 partner", "2,000 partners"."""
    return f"{count:,} {plural_noun(count, noun)}"


def plural_noun(count: int, noun: str) -> str:
    """Only the noun that agrees with `count` ("partner" / "partners"), for when the count is formatted."""
    return _english().plural_noun(noun, count)


def verb(count: int, singular: str) -> str:
    """The verb that agrees with `count`: verb(1, "is") → "is", verb(3, "has") → "have"."""
    return _english().plural_verb(singular, count)


MONEY_LOCALE = "en_US"
CENTS_BELOW = 10


def money(value: Decimal | float | int, currency: str) -> str:
    """The one money formatter: "$0.50", "$9.99", "$950", "$12.5K", "$1.2M", "$1T" in
    the configured currency (babel's en_US compact currency format). Cents show
    below 10, where they matter; commands.amounts.amount reads every form back."""
    value = Decimal(str(value))
    if abs(value) < CENTS_BELOW:
        if value == value.to_integral_value():
            return format_currency(value, currency, format="¤#,##0", currency_digits=False, locale=MONEY_LOCALE)
        return format_currency(value, currency, locale=MONEY_LOCALE)
    return format_compact_currency(value, currency, locale=MONEY_LOCALE, fraction_digits=2)


def metric_value(metric: str, value: Decimal | float, currency: str) -> str:
    """A KPI figure as shown everywhere: revenue as money, adoption in %, counts whole."""
    if metric == "revenue":
        return money(value, currency)
    if metric == "adoption":
        return percent(value)
    return f"{float(value):,.0f}"


def percent(value: Decimal | float) -> str:
    """The one adoption percentage: whole from 1 up ("46%", halves round up), decimals
    below 1 so a small value does not read as nothing ("0.5%", "0.25%")."""
    value = Decimal(str(value))
    if 0 < abs(value) < 1:
        return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP).normalize():f}%"
    return f"{value.quantize(Decimal(1), rounding=ROUND_HALF_UP):,f}%"


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user(user_id: str) -> str:
    """A mention of a user ID we stored (never user-typed text)."""
    return f"<@{user_id}>"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION)}}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": cut(text, MAX_HEADER), "emoji": True}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, MAX_CONTEXT_TEXT)}]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A section of up to 10 label/value fields (values already escaped)."""
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": cut(f"*{label}*\n{value}", 2000)} for label, value in pairs[:10]],
    }


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": cut(text, MAX_BUTTON), "emoji": True},
        "action_id": action_id,
    }
    if value:
        element["value"] = value[:2000]
    if style:
        element["style"] = style
    return element


def lines_section(lines: list[str], *, limit: int = MAX_SECTION) -> list[dict[str, Any]]:
    """Pack lines into as few sections as fit, each under the section limit."""
    blocks, chunk = [], ""
    for line in lines:
        line = cut(line, limit)
        if chunk and len(chunk) + 1 + len(line) > limit:
            blocks.append(section(chunk))
            chunk = line
        else:
            chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(section(chunk))
    return blocks


def more(count: int, noun: str = "more") -> dict[str, Any]:
    return context(f"… and {count:,} {noun}")


def ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    seconds = (now - then).total_seconds()
    if seconds < 90:
        return "just now"
    if seconds < 3600 * 1.5:
        return f"{round(seconds / 60)} min ago"
    if seconds < 86400:
        return f"{round(seconds / 3600)} h ago"
    days = int(seconds // 86400)
    return "yesterday" if days == 1 else f"{days} days ago"


def day(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d")


def partner_picker() -> dict[str, Any]:
    """The modal input that searches partners as you type (options from the bot)."""
    return {
        "type": "input",
        "block_id": Block.PARTNER,
        "label": {"type": "plain_text", "text": "Partner"},
        "element": {
            "type": "external_select",
            "action_id": Action.PARTNER_PICK,
            "min_query_length": 1,
            "placeholder": {"type": "plain_text", "text": "Type a partner's name"},
        },
    }


def page_of(total: int, page: int, size: int) -> tuple[int, int, int]:
    """(the page actually shown, the number of pages, the offset of its first item) for
    `total` items: a page past the end shows the last one."""
    pages = max((total + size - 1) // size, 1)
    page = min(max(page, 1), pages)
    return page, pages, (page - 1) * size


def paginate(items: list, page: int, size: int, *, total: int | None = None) -> tuple[list, int, int]:
    """(the items on `page`, the page actually shown, the number of pages). With `total`,
    `items` is that page already, fetched in SQL at page_of's offset."""
    if total is not None:
        page, pages, _ = page_of(total, page, size)
        return items, page, pages
    page, pages, offset = page_of(len(items), page, size)
    return items[offset : offset + size], page, pages


def next_page(command: str, *, remaining: int) -> list[dict[str, Any]]:
    """"… and N more" with a button that reruns the command for the next page."""
    return [more(remaining), {"type": "actions", "elements": [button("Next page", Action.PAGE, value=command)]}]
