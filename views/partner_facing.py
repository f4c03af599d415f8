"""What a partner sees in its own channel: the partner desk, its two forms, and the
receipts and outcomes posted in the thread of each submission.

Everything here is built from the partner's own words and a few partner-facing facts
(its name, a deal's customer, amount and status, a request's category and status).
Nothing internal is passed in, so nothing internal can come out: no health, notes,
interaction summaries, owners, internal team names or other partners. Like every
message of ours, the top-level `text` fallback is escaped as the blocks are: what a
partner typed is shown as typed, never as a mention or a link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from core.settings import HELP_CATEGORIES
from views import forms
from views.ids import Action, Block, View
from views.text import button, context, cut, escape, money, section

MAX_NOTES = 2000
MAX_HELP = 2500


def desk(partner_name: str) -> tuple[str, list[dict[str, Any]]]:
    """The partner desk: pinned in the partner channel, the partner's front door."""
    text = escape(f"{partner_name} partner desk")
    return text, [
        section(f"*{escape(partner_name)} · partner desk*\nRegister a deal, ask us for help or see where we stand together. "
                "Only you and your partner team here see what you send; we answer in its thread."),
        {"type": "actions", "block_id": "partner_desk", "elements": [
            button("Register a deal", Action.DESK_DEAL, style="primary"),
            button("Ask for help", Action.DESK_HELP),
            button("Our scorecard", Action.DESK_SCORECARD),
        ]},
    ]


def help_text() -> tuple[str, list[dict[str, Any]]]:
    """`/partner help` for a partner's own people: what they can do here, nothing more."""
    text = ("In this channel you can register a deal, ask us for help and see your scorecard: use the buttons on the "
            "pinned partner desk, or type `/partner scorecard`.")
    return text, [section(text)]


def _input(block: Block, label: str, element: dict[str, Any], *, optional: bool = False, hint: str | None = None) -> dict[str, Any]:
    block_ = {"type": "input", "block_id": block, "optional": optional, "label": {"type": "plain_text", "text": label},
              "element": {"action_id": Action.INPUT, **element}}
    if hint:
        block_["hint"] = {"type": "plain_text", "text": hint}
    return block_


def _modal(callback_id: View, title: str, submit: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": submit}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": blocks}


def deal_modal(currency: str) -> dict[str, Any]:
    return _modal(View.DESK_DEAL, "Register a deal", "Register", [
        _input(Block.CUSTOMER, "Customer", {"type": "plain_text_input", "max_length": 120}),
        _input(Block.AMOUNT, f"Amount ({currency})", {"type": "plain_text_input", "max_length": 40,
                                                     "placeholder": {"type": "plain_text", "text": "e.g. 25000 or 25k"}}),
        _input(Block.CLOSE, "Expected close date", {"type": "datepicker"}),
        _input(Block.NOTES, "Notes for our team", {"type": "plain_text_input", "multiline": True, "max_length": MAX_NOTES},
               optional=True),
    ])


def help_modal() -> dict[str, Any]:
    options = [{"text": {"type": "plain_text", "text": label}, "value": key} for key, label in HELP_CATEGORIES.items()]
    return _modal(View.DESK_HELP, "Ask for help", "Send", [
        _input(Block.CATEGORY, "What is it about?", {"type": "static_select", "options": options,
                                                     "placeholder": {"type": "plain_text", "text": "Pick one"}}),
        _input(Block.TEXT, "What do you need?", {"type": "plain_text_input", "multiline": True, "max_length": MAX_HELP}),
    ])


@dataclass(frozen=True)
class DealForm:
    customer: str
    amount: str
    close: str | None
    notes: str

    @classmethod
    def read(cls, view: dict[str, Any]) -> DealForm:
        return cls(forms.typed(view, Block.CUSTOMER), forms.typed(view, Block.AMOUNT), forms.day(view, Block.CLOSE),
                   forms.typed(view, Block.NOTES))


@dataclass(frozen=True)
class HelpForm:
    category: str
    text: str

    @classmethod
    def read(cls, view: dict[str, Any]) -> HelpForm:
        return cls(forms.chosen(view, Block.CATEGORY), forms.typed(view, Block.TEXT))


# --- in the thread of each submission ------------------------------------------------------

def deal_received(*, customer: str, amount: Decimal, close: date | None, currency: str, by: str) -> tuple[str, list[dict[str, Any]]]:
    when = f" · expected to close {close:%a %b} {close.day}, {close.year}" if close else ""
    text = escape(f"Deal registration received for {customer}: under review.")
    return text, [
        section(f"*Deal registration received* · under review\n*{escape(customer)}* · {money(amount, currency)}{when}"),
        context(f"Submitted by <@{by}>. We'll post the decision in this thread."),
    ]


def deal_outcome(*, customer: str, approved: bool, reason: str | None) -> tuple[str, list[dict[str, Any]]]:
    if approved:
        text = escape(f"Deal registration for {customer} approved.")
        return text, [section(f":white_check_mark: *Approved* · your registration of *{escape(customer)}*.")]
    why = f"\n>{escape(cut(reason, 1500))}" if reason else ""
    text = escape(f"Deal registration for {customer} rejected.")
    return text, [section(f":no_entry: *Rejected* · your registration of *{escape(customer)}*.{why}")]


def help_received(*, category: str, by: str) -> tuple[str, list[dict[str, Any]]]:
    label = HELP_CATEGORIES.get(category, "Help")
    text = escape(f"{label} request received.")
    return text, [section(f"*Request received* · {escape(label)}"),
                  context(f"Asked by <@{by}>. We'll post updates in this thread.")]


def help_claimed() -> tuple[str, list[dict[str, Any]]]:
    text = "Someone on our team is working on your request."
    return text, [section(f"*In progress* · {text}")]


def help_resolved(resolution: str | None) -> tuple[str, list[dict[str, Any]]]:
    said = f"\n>{escape(cut(resolution, 2500))}" if resolution else ""
    text = "Your request is resolved."
    return text, [section(f":white_check_mark: *Resolved* · {text}{said}")]
