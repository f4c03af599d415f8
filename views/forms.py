"""Reading a submitted form: one input's value by its block_id (views/ids.py Block).

Each form's typed reader sits next to the view that builds the form and uses these;
listeners never walk `view.state.values` themselves."""

from __future__ import annotations

from typing import Any

from views.ids import Action, Block


def _element(view: dict[str, Any], block: Block, action: str) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    return (values.get(block) or {}).get(action) or {}


def typed(view: dict[str, Any], block: Block, action: str = Action.INPUT) -> str:
    """A text input as the person typed it ("" when left empty)."""
    return _element(view, block, action).get("value") or ""


def chosen(view: dict[str, Any], block: Block, action: str = Action.INPUT) -> str:
    """The value of the option picked in a select ("" when none)."""
    return (_element(view, block, action).get("selected_option") or {}).get("value") or ""


def day(view: dict[str, Any], block: Block, action: str = Action.INPUT) -> str | None:
    """A date picker's ISO date, or None."""
    return _element(view, block, action).get("selected_date")


def ticked(view: dict[str, Any], block: Block, action: str = Action.INPUT) -> bool:
    """Whether any checkbox of a checkboxes input was ticked."""
    return bool(_element(view, block, action).get("selected_options"))
