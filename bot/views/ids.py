"""Slack identifiers (action_id, callback_id) in one place."""

from __future__ import annotations

import enum


class Action(enum.StrEnum):
    SHARE = "share_reply"
    PAGE = "next_page"
