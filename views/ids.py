"""Slack identifiers (action_id, callback_id) in one place."""

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


class View(enum.StrEnum):
    """Modal callback_ids."""

    REQUEST_NOTE = "request_note_modal"
    REQUEST_RESOLVE = "request_resolve_modal"
    ASK = "ask_modal"
    LOG = "log_modal"


class Shortcut(enum.StrEnum):
    ASK = "ask_a_team"
    LOG = "log_to_partner"
