"""Generic replies: errors, confirmations, help."""

from __future__ import annotations

from typing import Any

from views.text import context, escape, lines_section, section


def error_blocks(message: str, *, usage: str | None = None, suggestions: list[str] | None = None) -> list[dict[str, Any]]:
    # The message is composed by us; values inside it were escaped where built.
    blocks = [section(f":warning: {message}")]
    if suggestions:
        blocks.append(section("Did you mean: " + ", ".join(f"*{escape(s)}*" for s in suggestions[:5]) + "?"))
    if usage:
        blocks.append(context(f"Usage: `{escape(usage)}`"))
    return blocks


def confirmation(message: str, *, detail: str | None = None) -> list[dict[str, Any]]:
    blocks = [section(f":white_check_mark: {message}")]
    if detail:
        blocks.append(context(detail))
    return blocks


def help_blocks(usages: list[tuple[str, str]]) -> list[dict[str, Any]]:
    lines = ["*partnerbot* — your partner record in Slack. Commands:"]
    # Usage strings hold <placeholders>: escaped, or Slack would read them as links.
    lines += [f"• `/partner {escape(usage)}` — {escape(description)}" for usage, description in usages]
    blocks = lines_section(lines)
    blocks.append(
        context(
            'Names with spaces go in quotes: `"Acme Corp"`. A unique prefix is enough: `/partner status acm`.'
        )
    )
    return blocks


def notice_modal(title: str, message: str) -> dict[str, Any]:
    """A form replaced by one line (a refusal, or something gone)."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [section(escape(message))],
    }


def notice_home(message: str) -> dict[str, Any]:
    """App Home for someone partnerbot does not serve: one line, nothing of the record."""
    return {"type": "home", "blocks": [section(escape(message))]}
