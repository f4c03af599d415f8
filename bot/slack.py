"""The one place that talks to Slack's Web API for commands and jobs."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from commands.context import Posted

log = logging.getLogger(__name__)
# Channel errors a person can fix by inviting the bot or picking another channel.
CHANNEL_ERRORS = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


class SlackMessenger:
    def __init__(self, client: WebClient):
        self.client = client

    def _call(self, method: str, **kwargs: Any) -> tuple[dict[str, Any] | None, str | None]:
        try:
            response = getattr(self.client, method.replace(".", "_"))(**kwargs)
            return response.data, None  # type: ignore[return-value]
        except SlackApiError as error:
            code = error.response.get("error") if isinstance(error.response.data, dict) else None
            code = code or f"http_{error.response.status_code}"
            log.warning("Slack %s failed: %s", method, code)
            return None, code
        except (SlackRequestError, OSError) as error:
            log.warning("Slack %s failed: %s", method, type(error).__name__)
            return None, "network_error"

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], *, thread_ts: str | None = None) -> Posted:
        args: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks, "unfurl_links": False}
        if thread_ts:
            args["thread_ts"] = thread_ts
        data, error = self._call("chat.postMessage", **args)
        if data is None:
            return Posted(False, channel=channel, error=error)
        return Posted(True, channel=data.get("channel", channel), ts=data.get("ts"))

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Posted:
        data, error = self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)
        return Posted(data is not None, channel=channel, ts=ts, error=error)

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except (SlackApiError, SlackRequestError, OSError):
            return None

    def is_external(self, channel: str) -> bool:
        """A channel shared with another organisation (Slack Connect): partner data stays out."""
        data, _ = self._call("conversations.info", channel=channel)
        return bool(((data or {}).get("channel") or {}).get("is_ext_shared"))

    def ensure_member(self, channel: str) -> str | None:
        data, error = self._call("conversations.info", channel=channel)
        if data is None:
            return error
        info = data.get("channel", {})
        if info.get("is_ext_shared"):
            return "is_ext_shared"
        if info.get("is_member"):
            return None
        if info.get("is_private"):
            return "not_in_channel"
        _, error = self._call("conversations.join", channel=channel)
        return error


class JobSlack(SlackMessenger):
    """What jobs need on top of posting: file uploads and users' time zones (cached a day)."""

    TZ_TTL = 86_400.0

    def __init__(self, client: WebClient, fallback_zone: ZoneInfo):
        super().__init__(client)
        self.fallback_zone = fallback_zone
        self._users: dict[str, tuple[dict[str, Any], float]] = {}
        self._lock = threading.Lock()

    def upload(self, channel: str, thread_ts: str | None, filename: str, title: str, content: bytes) -> Posted:
        """Slack's current upload flow (getUploadURLExternal → upload → completeUploadExternal)."""
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

    def user_info(self, user_id: str) -> dict[str, Any] | None:
        """users.info, cached a day; None when Slack could not tell (not cached)."""
        now = time.monotonic()
        with self._lock:
            cached = self._users.get(user_id)
            if cached and now - cached[1] < self.TZ_TTL:
                return cached[0]
        data, _ = self._call("users.info", user=user_id)
        info = (data or {}).get("user")
        if info is not None:
            with self._lock:
                self._users[user_id] = (info, now)
        return info

    def user_tz(self, user_id: str) -> ZoneInfo:
        name = (self.user_info(user_id) or {}).get("tz")
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return self.fallback_zone

    def is_guest(self, user_id: str) -> bool:
        info = self.user_info(user_id) or {}
        return bool(info.get("is_restricted") or info.get("is_ultra_restricted"))
