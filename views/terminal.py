"""Block Kit as a terminal shows it (the offline console and `jobs run --dry-run`).

`render` is plain text (pipes, tests, dry runs); `styled` is the same lines with
rich's styles for a terminal. The console numbers the buttons it shows
(`buttons=`), so one can be clicked by its number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.slacktext import slack_to_text

# A mention as slack_to_text shows one with no label (`@U1`, `#C1`): the console's directory can name it.
_BY_ID = re.compile(r"(?<![\w@#])([@#])([UWCG][A-Z0-9]{2,})\b")


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str
    channel: str | None = None  # where the message carrying it was posted (the console's desk needs it)


def plain(mrkdwn: str, names: dict[str, str] | None = None) -> str:
    """mrkdwn as a terminal shows it: mentions readable (by name when `names`,
    Slack ID → name, knows them), entities unescaped."""
    text = slack_to_text(mrkdwn)
    if names:
        text = _BY_ID.sub(lambda m: m[1] + names.get(m[2], m[2]), text)
    return text


def _button(element: dict[str, Any], buttons: list[Button] | None) -> str:
    label = element["text"]["text"]
    if buttons is None:
        return f"[{label}]"
    buttons.append(Button(label, element.get("action_id", ""), element.get("value", "")))
    return f"[{len(buttons)} {label}]"


def lines(blocks: list[dict[str, Any]], fallback: str = "", *, buttons: list[Button] | None = None,
          names: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(kind, text) a line: kind is the block type the line comes from, for styling.
    Buttons are appended to `buttons` (when given) and shown with their number."""
    out: list[tuple[str, str]] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            out += [("header", title), ("header", "=" * min(len(title), 60))]
        elif kind == "section":
            text = plain(block["text"]["text"], names) if "text" in block else ""
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                text = f"{text}  {_button(accessory, buttons)}"
            if text:
                out.append(("section", text))
            for field in block.get("fields", []):
                label, _, value = plain(field["text"], names).partition("\n")
                out.append(("field", f"{label.strip('*')}: {value}"))
        elif kind == "context":
            out.append(("context", "  " + " ".join(plain(e.get("text", ""), names) for e in block["elements"])))
        elif kind == "divider":
            out.append(("divider", "-" * 40))
        elif kind == "actions":
            shown = [_button(e, buttons) for e in block["elements"] if "text" in e]
            out.append(("actions", "  " + "  ".join(shown)))
    return out if out else [("section", plain(fallback, names))]


def render(blocks: list[dict[str, Any]], fallback: str = "", *, buttons: list[Button] | None = None,
           names: dict[str, str] | None = None) -> str:
    return "\n".join(text for _, text in lines(blocks, fallback, buttons=buttons, names=names))


STYLES = {"header": "bold", "field": "", "context": "dim", "divider": "dim", "actions": "bold cyan", "section": ""}


def styled(rendered: list[tuple[str, str]], indent: str = "") -> Any:
    """The lines as a rich Text, for a terminal."""
    from rich.text import Text

    text = Text()
    for n, (kind, line) in enumerate(rendered):
        text.append(("\n" if n else "") + indent + line.replace("\n", "\n" + indent), style=STYLES.get(kind, ""))
    return text
