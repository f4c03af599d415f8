"""Slack identifiers (action_id, block_id, callback_id) in one place: views write them, listeners match on them."""

from __future__ import annotations

import enum


class Action(enum.StrEnum):
    SHARE = "share_reply"
    PAGE = "next_page"
    REQUEST_CLAIM = "request_claim"
    REQUEST_RESOLVE = "request_resolve"
    REQUEST_NOTE = "request_note"
    REQUEST_REPOST = "request_repost"
    PARTNER_PICK = "partner_pick"
    HOME_LOG = "home_log"
    HOME_OPEN_PARTNER = "home_open_partner"
    DEAL_APPROVE = "deal_approve"
    DEAL_REJECT = "deal_reject"
    BRIEF_SHARE_SCORECARD = "brief_share_scorecard"  # the QBR brief's Share scorecard with partner (value: partner id)
    DEAL_REJECT_REASON = "deal_reject_reason"  # a partner's own submission: the reason goes back to them
    # The partner desk in a partner channel (its labels are fixed by SPEC §9).
    DESK_DEAL = "desk_register_deal"
    DESK_HELP = "desk_ask_for_help"
    DESK_SCORECARD = "desk_scorecard"
    INPUT = "value"  # the action_id of every plain form input; its block_id says which one


class Block(enum.StrEnum):
    """Form input block_ids: a submitted form's values are keyed by them, and so are its errors."""

    TEAM = "team"
    PARTNER = "partner"
    TEXT = "text"
    DUE = "due"
    KIND = "kind"
    DATE = "date"
    CUSTOMER = "customer"
    AMOUNT = "amount"
    CLOSE = "close"
    NOTES = "notes"
    CATEGORY = "category"
    TO_PARTNER = "to_partner"  # the resolver's choice: send the resolution text to the partner


class View(enum.StrEnum):
    """Modal callback_ids."""

    REQUEST_NOTE = "request_note_modal"
    REQUEST_RESOLVE = "request_resolve_modal"
    ASK = "ask_modal"
    LOG = "log_modal"
    DESK_DEAL = "desk_deal_modal"
    DESK_HELP = "desk_help_modal"
    DEAL_REJECT = "deal_reject_modal"


class Shortcut(enum.StrEnum):
    ASK = "ask_a_team"
    LOG = "log_to_partner"
