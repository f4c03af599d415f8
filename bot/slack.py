"""The one place that talks to Slack's Web API for commands and jobs."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from core.messenger import SEVERAL_ORGS, SHARED, Posted

log = logging.getLogger(__name__)
# Channel errors a person can fix by inviting the bot or picking another channel.
CHANNEL_ERRORS = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
# How long "this channel is internal" is believed; a channel can become Slack Connect at any time.
INTERNAL_TTL = 120.0
# How long "this person is one of us" is believed: a guest or a deactivated account is refused within minutes.
ACCESS_TTL = 300.0
# Our own error code for a DM to someone partnerbot does not serve (a guest, another organisation).
NOT_A_MEMBER = "recipient_not_a_member"


def is_user_id(target: str) -> bool:
    """A user ID (a DM opened by posting to it), not a conversation."""
    return target[:1] in ("U", "W")


def outsider_reason(info: dict[str, Any], team: dict[str, Any]) -> str | None:
    """Why this users.info record is not a full member of this workspace ("guest",
    "outsider"), or None. Decided from Slack's record alone."""
    if info.get("is_restricted") or info.get("is_ultra_restricted"):
        return "guest"
    if info.get("is_stranger") or info.get("deleted") or info.get("is_bot"):
        return "outsider"
    if info.get("team_id") == team["team_id"]:
        return None
    # Enterprise Grid: a member of another workspace of the same organisation.
    enterprise = (info.get("enterprise_user") or {}).get("enterprise_id")
    return None if team.get("enterprise_id") and enterprise == team["enterprise_id"] else "outsider"


def is_external(info: dict[str, Any], team: dict[str, Any]) -> bool:
    """A live person of another organisation (Slack Connect): another team, or someone Slack
    shows as a stranger; never a guest, a deleted account or a bot of ours."""
    if info.get("is_restricted") or info.get("is_ultra_restricted") or info.get("deleted") or info.get("is_bot"):
        return False
    return bool(info.get("is_stranger")) or outsider_reason(info, team) == "outsider"


def other_orgs(channel: dict[str, Any], team: dict[str, Any]) -> set[str] | None:
    """The organisations other than ours a Slack Connect channel reaches, when Slack names
    them (`connected_team_ids`, or `shared_team_ids`); None when it does not say."""
    ids = channel.get("connected_team_ids") or channel.get("shared_team_ids")
    if not ids:
        return None
    return set(ids) - {team["team_id"], *(channel.get("internal_team_ids") or [])}


def shared_flags(info: dict[str, Any]) -> bool:
    """conversations.info's answer says the channel reaches another organisation (now or pending)."""
    shared_outside_org = bool(info.get("is_shared")) and not info.get("is_org_shared")
    return bool(info.get("is_ext_shared") or info.get("is_pending_ext_shared") or shared_outside_org)


class SlackMessenger:
    TZ_TTL = 86_400.0

    def __init__(self, client: WebClient):
        self.client = client
        # Lookups that decide access answer now or not at all: no waiting out a rate limit.
        self.quick = WebClient(token=client.token, base_url=client.base_url, timeout=5)
        self._internal: dict[str, float] = {}  # channel → when Slack last said it is not shared
        self._internal_lock = threading.Lock()
        self._users: dict[str, tuple[dict[str, Any], float]] = {}
        self._team: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _call(self, method: str, *, quick: bool = False, **kwargs: Any) -> tuple[dict[str, Any] | None, str | None]:
        try:
            response = getattr(self.quick if quick else self.client, method.replace(".", "_"))(**kwargs)
            return response.data, None  # type: ignore[return-value]
        except SlackApiError as error:
            code = error.response.get("error") if isinstance(error.response.data, dict) else None
            code = code or f"http_{error.response.status_code}"
            log.warning("Slack %s failed: %s", method, code)
            return None, code
        except (SlackRequestError, OSError) as error:
            log.warning("Slack %s failed: %s", method, type(error).__name__)
            return None, "network_error"

    def shared_problem(self, channel: str, *, fresh: bool = False) -> str | None:
        """None when Slack says this channel is not shared with another organisation;
        otherwise why nothing may be posted there. Decided at post time and failing
        closed: an error or no answer is a refusal. Only a positive answer is cached,
        briefly — and `fresh` (a person's Share) always asks Slack now."""
        if is_user_id(channel):
            return None
        now = time.monotonic()
        with self._internal_lock:
            if not fresh and now - self._internal.get(channel, -INTERNAL_TTL) < INTERNAL_TTL:
                return None
        data, error = self._call("conversations.info", channel=channel)
        if data is None:
            return error or "network_error"
        if shared_flags(data.get("channel") or {}):
            return SHARED
        with self._internal_lock:
            self._internal[channel] = now
        return None

    def recipient_problem(self, target: str) -> str | None:
        """None when a message may go to `target`: a conversation Slack says is internal,
        or a person who is a full member of this workspace (never a guest or someone
        of another organisation, whoever set them as owner); fails closed."""
        if not is_user_id(target):
            return self.shared_problem(target)
        info, team = self.user_info(target, max_age=ACCESS_TTL), self.own_team()
        if info is None or team is None:
            return "user_unknown"
        return NOT_A_MEMBER if outsider_reason(info, team) else None

    def user_info(self, user_id: str, *, max_age: float = TZ_TTL, quick: bool = False) -> dict[str, Any] | None:
        """users.info, remembered up to `max_age`; None when Slack could not tell (not remembered)."""
        now = time.monotonic()
        with self._lock:
            cached = self._users.get(user_id)
            if cached and now - cached[1] < max_age:
                return cached[0]
        data, _ = self._call("users.info", quick=quick, user=user_id)
        info = (data or {}).get("user")
        if info is not None:
            with self._lock:
                self._users[user_id] = (info, now)
        return info

    def knows(self, user_id: str, *, max_age: float) -> bool:
        """Both this person and this workspace are remembered (no Slack call needed)."""
        with self._lock:
            cached = self._users.get(user_id)
            return self._team is not None and cached is not None and time.monotonic() - cached[1] < max_age

    def own_team(self, *, quick: bool = False) -> dict[str, Any] | None:
        """auth.test: this workspace (team_id, enterprise_id); None while Slack cannot say."""
        with self._lock:
            if self._team is not None:
                return self._team
        data, _ = self._call("auth.test", quick=quick)
        if not data or not data.get("team_id"):
            return None
        with self._lock:
            self._team = {"team_id": data["team_id"], "enterprise_id": data.get("enterprise_id")}
            return self._team

    def partner_channel_problem(self, channel: str) -> str | None:
        """None when this channel may be one partner's: Slack names at most one other
        organisation in it (or does not name them); asked now, never cached."""
        info, team = self.channel_info(channel), self.own_team()
        if info is None or team is None:
            return "channel_unknown"
        others = other_orgs(info, team)
        return SEVERAL_ORGS if others is not None and len(others) > 1 else None

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], *, thread_ts: str | None = None,
             partner_safe: bool = False) -> Posted:
        # Partner-facing content (a partner channel's own) may go to a shared channel that reaches
        # one other organisation; nothing else may go to a shared channel.
        if is_user_id(channel) or not partner_safe:
            problem = self.recipient_problem(channel)
        else:
            problem = self.partner_channel_problem(channel)
        if problem:
            return Posted(False, channel=channel, error=problem)
        args: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks, "unfurl_links": False}
        if thread_ts:
            args["thread_ts"] = thread_ts
        data, error = self._call("chat.postMessage", **args)
        if data is None:
            return Posted(False, channel=channel, error=error)
        return Posted(True, channel=data.get("channel", channel), ts=data.get("ts"))

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]], *, partner_safe: bool = False) -> Posted:
        if not partner_safe and (problem := self.shared_problem(channel)):
            return Posted(False, channel=channel, ts=ts, error=problem)
        data, error = self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)
        return Posted(data is not None, channel=channel, ts=ts, error=error)

    def pin(self, channel: str, ts: str) -> bool:
        data, _ = self._call("pins.add", channel=channel, timestamp=ts)
        return data is not None

    def channel_info(self, channel: str, *, quick: bool = False) -> dict[str, Any] | None:
        """conversations.info's channel, now (never cached); None when Slack did not answer."""
        data, _ = self._call("conversations.info", quick=quick, channel=channel)
        return (data or {}).get("channel")

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except (SlackApiError, SlackRequestError, OSError):
            return None

    def ensure_member(self, channel: str) -> str | None:
        data, error = self._call("conversations.info", channel=channel)
        if data is None:
            return error
        info = data.get("channel", {})
        if shared_flags(info):
            return SHARED
        if info.get("is_member"):
            return None
        if info.get("is_private"):
            return "not_in_channel"
        _, error = self._call("conversations.join", channel=channel)
        return error


class JobSlack(SlackMessenger):
    """What jobs need on top of posting: file uploads and users' time zones (cached a day)."""

    def __init__(self, client: WebClient, fallback_zone: ZoneInfo):
        super().__init__(client)
        self.fallback_zone = fallback_zone

    def upload(self, channel: str, thread_ts: str | None, filename: str, title: str, content: bytes) -> Posted:
        """Slack's current upload flow (getUploadURLExternal → upload → completeUploadExternal)."""
        if problem := self.shared_problem(channel):
            return Posted(False, channel=channel, error=problem)
        try:
            self.client.files_upload_v2(channel=channel, thread_ts=thread_ts, content=content, filename=filename, title=title)
        except SlackApiError as error:
            code = error.response.get("error") if isinstance(error.response.data, dict) else None
            log.warning("Slack file upload failed: %s", code or error.response.status_code)
            return Posted(False, channel=channel, error=code or f"http_{error.response.status_code}")
        except (SlackRequestError, OSError) as error:
            log.warning("Slack file upload failed: %s", type(error).__name__)
            return Posted(False, channel=channel, error="network_error")
        return Posted(True, channel=channel, ts=thread_ts)

    def user_tz(self, user_id: str) -> ZoneInfo:
        name = (self.user_info(user_id) or {}).get("tz")
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return self.fallback_zone
        data, _ = self._call("auth.test")
        if not data or not data.get("team_id"):
            return None
        with self._lock:
            self._team = {"team_id": data["team_id"], "enterprise_id": data.get("enterprise_id")}
            return self._team
