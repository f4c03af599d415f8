"""Block Kit as a terminal shows it (the offline console and `jobs run --dry-run`)."""

from __future__ import annotations

from typing import Any

from core.slacktext import slack_to_text


def plain(mrkdwn: str) -> str:
    """mrkdwn as a terminal shows it: mentions readable, entities unescaped."""
    return slack_to_text(mrkdwn)


def render(blocks: list[dict[str, Any]], fallback: str = "") -> str:
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            out += [title, "=" * min(len(title), 60)]
        elif kind == "section":
            if "text" in block:
                out.append(plain(block["text"]["text"]))
            for field in block.get("fields", []):
                label, _, value = plain(field["text"]).partition("\n")
                out.append(f"{label.strip('*')}: {value}")
        elif kind == "context":
            out.append("  " + " ".join(plain(e.get("text", "")) for e in block["elements"]))
        elif kind == "divider":
            out.append("-" * 40)
        elif kind == "actions":
            out.append("  " + "  ".join(f"[{e['text']['text']}]" for e in block["elements"] if "text" in e))
    return "\n".join(out) if out else plain(fallback)
