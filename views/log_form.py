"""The "Log to partner" form (message shortcut and App Home button): the modal,
its private_metadata (where it was opened) and what it sends back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from views import forms
from views.ids import Action, Block, View
from views.requests import partner_options
from views.text import partner_picker


class LogSource(BaseModel):
    """private_metadata of the log modal: the message it was opened on, if any."""

    link: str | None = None
    author: str | None = None

    def note(self) -> str | None:
        """The line stored under the summary that says where it came from."""
        author = f" by <@{self.author}>" if self.author else ""
        return f"(from a Slack message{author}: {self.link})" if self.link else None


@dataclass(frozen=True)
class LogForm:
    """What the "Log to partner" form sends back, with the message it was opened on."""

    partner_id: str
    kind: str
    text: str
    day: str | None
    source: LogSource

    @classmethod
    def read(cls, view: dict[str, Any]) -> LogForm:
        return cls(forms.chosen(view, Block.PARTNER, Action.PARTNER_PICK), forms.chosen(view, Block.KIND),
                   forms.typed(view, Block.TEXT), forms.day(view, Block.DATE),
                   LogSource.model_validate_json(view.get("private_metadata") or "{}"))


def log_modal(*, summary: str = "", source: LogSource | None = None, today: str | None = None,
              partner: tuple[int, str] | None = None) -> dict[str, Any]:
    """Log an interaction: partner picker (with `partner`, (id, name), already chosen), kind,
    summary, date. Input values are not escaped."""
    kinds = ["call", "meeting", "email", "note", "training", "demo"]
    options = [{"text": {"type": "plain_text", "text": k}, "value": k} for k in kinds]
    date_element: dict[str, Any] = {"type": "datepicker", "action_id": Action.INPUT}
    if today:
        date_element["initial_date"] = today
    summary_element: dict[str, Any] = {"type": "plain_text_input", "action_id": Action.INPUT, "multiline": True, "max_length": 3000}
    if summary:
        summary_element["initial_value"] = summary[:3000]
    picker = partner_picker()
    if partner is not None:
        (picker["element"]["initial_option"],) = partner_options([partner])
    return {
        "type": "modal",
        "callback_id": View.LOG,
        "private_metadata": (source or LogSource()).model_dump_json(exclude_none=True)[:3000],
        "title": {"type": "plain_text", "text": "Log to partner"},
        "submit": {"type": "plain_text", "text": "Log"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            picker,
            {
                "type": "input",
                "block_id": Block.KIND,
                "label": {"type": "plain_text", "text": "Kind"},
                "element": {"type": "static_select", "action_id": Action.INPUT, "options": options, "initial_option": options[3]},
            },
            {"type": "input", "block_id": Block.TEXT, "label": {"type": "plain_text", "text": "Summary"}, "element": summary_element},
            {"type": "input", "block_id": Block.DATE, "label": {"type": "plain_text", "text": "When"}, "element": date_element},
        ],
    }
