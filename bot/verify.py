"""Before anything else happens: a request is Slack's, or it is refused.

One signature check per request, slack_sdk's `SignatureVerifier` (the library's):
the HTTP door (bot/web.py) checks it before the body is even parsed and marks the
request verified; `Verification` — installed as Bolt's middleware in place of
Bolt's own, which logs the whole body of a refused request — checks requests
that did not come through that door (`app.dispatch` in-process). Replies only
ever go to Slack's own response URLs.
"""

from __future__ import annotations

import logging
import re
import time
import urllib.parse
import weakref
from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # SPEC §9: bodies over 1 MiB get 413
MAX_AGE = 60 * 5  # Slack's own replay window, as the library enforces it
VERIFIED = "partnerbot_verified"  # a context key: only our code sets it, never a request
SLACK_RESPONSE_ORIGINS = ("https://hooks.slack.com",)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
# What a response URL's path may contain (Slack's are /commands/T…/…/… and /actions/…):
# nothing that could smuggle another host in (no @, \, ?, # or spaces).
_RESPONSE_PATH = re.compile(r"/[A-Za-z0-9._~/%-]*")


def header_rejection(timestamp: str | None, signature: str | None) -> str | None:
    """What is wrong with the signature headers alone (the body need not be read), or None."""
    if not timestamp or not signature:
        return "no signature"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "malformed timestamp"
    if abs(time.time() - int(timestamp)) > MAX_AGE:
        return "stale timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return "malformed signature"
    return None


def rejection(secret: str, body: bytes, timestamp: str | None, signature: str | None) -> str | None:
    """Why this request is not Slack's (a fixed phrase, never request text), or None."""
    if reason := header_rejection(timestamp, signature):
        return reason
    if not secret:
        return "no signing secret configured"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:  # Slack signs UTF-8 text; nothing else can carry its signature
        return "body is not UTF-8"
    if not SignatureVerifier(secret).is_valid(text, timestamp, signature):
        return "signature does not match"
    return None


def log_rejection(status: int, reason: str) -> None:
    """One short line per refused request: the status and a fixed reason, no request text."""
    log.log(logging.INFO if status in (404, 405) else logging.WARNING, "request refused (%d): %s", status, reason)


class Verification(Middleware):
    """Bolt's signature middleware, replaced: checks what the door did not, and drops
    a response URL that is not Slack's, so nothing can be posted there."""

    def __init__(self, signing_secret: str, api_url: str):
        self._secret = signing_secret
        self._api_url = api_url

    def attach(self, app: App) -> None:
        """Let the HTTP door check requests for `app` before they are parsed."""
        _attached[app] = self

    def rejection(self, body: bytes, timestamp: str | None, signature: str | None) -> str | None:
        return rejection(self._secret, body, timestamp, signature)

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        if req.mode != "socket_mode" and not req.context.get(VERIFIED):
            reason = self.rejection(req.raw_body.encode("utf-8"), _header(req, "x-slack-request-timestamp"),
                                    _header(req, "x-slack-signature"))
            if reason:
                log_rejection(401, reason)
                return BoltResponse(status=401, body={"error": "invalid request"})
        # Socket Mode requests come from Slack over the app-level token's connection.
        req.context[VERIFIED] = True
        if not allowed_response_url(req.context.response_url, self._api_url):
            req.context.pop("response_url", None)
            req.context.pop("respond", None)
        return next()


_attached: weakref.WeakKeyDictionary[App, Verification] = weakref.WeakKeyDictionary()


def attached(app: App) -> Verification | None:
    """The verification `app` was built with (None: a bare Bolt app checks for itself)."""
    return _attached.get(app)


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or [None]
    return values[0]


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def allowed_response_url(url: object, api_url: str) -> bool:
    """Slack's own response URLs only: https://hooks.slack.com/…, and the origin of
    SLACK_API_URL (a proxy, or the fake Slack in tests, serves them there)."""
    if not isinstance(url, str):
        return False
    for origin in (*SLACK_RESPONSE_ORIGINS, _origin(api_url)):
        if url.startswith(origin + "/") and _RESPONSE_PATH.fullmatch(url[len(origin):]):
            return True
    return False


def may_respond(context: BoltContext, api_url: str) -> bool:
    """The error handler answers only a request that passed verification, at Slack's own URL."""
    return bool(context.get(VERIFIED)) and allowed_response_url(context.response_url, api_url)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _is_dict(value: object) -> bool:
    return isinstance(value, dict)


# What each kind of request must carry before anything of ours (or Bolt's) reads it.
_SHAPES: dict[str, Callable[[dict], bool]] = {
    "event_callback": lambda b: _is_dict(b.get("event")) and _is_text(b["event"].get("type")),
    "url_verification": lambda b: _is_text(b.get("challenge")),
    "block_actions": lambda b: isinstance(b.get("actions"), list) and bool(b["actions"])
    and all(_is_dict(a) and _is_text(a.get("action_id")) for a in b["actions"]),
    "block_suggestion": lambda b: _is_text(b.get("action_id")),
    "view_submission": lambda b: _is_dict(b.get("view")) and _is_text(b["view"].get("type"))
    and _is_text(b["view"].get("callback_id")) and _is_dict(b["view"].get("state", {})),
    "view_closed": lambda b: _is_dict(b.get("view")) and _is_text(b["view"].get("callback_id")),
    "shortcut": lambda b: _is_text(b.get("callback_id")),
    "message_action": lambda b: _is_text(b.get("callback_id")),
}


def shape_problem(body: dict) -> str | None:
    """Why a verified body is not a Slack payload partnerbot can read, or None.
    (Slack never sends these; a signed malformed body is a 400, not a crash.)"""
    if "command" in body and "type" not in body:
        return None if _is_text(body.get("command")) and _is_text(body.get("user_id")) else "malformed slash command"
    kind = body.get("type")
    if not _is_text(kind):
        return "no payload type"
    if "user" in body and kind != "event_callback" and not (_is_dict(body["user"]) and _is_text(body["user"].get("id"))):
        return "malformed user"
    check = _SHAPES.get(kind)
    if check is not None and not check(body):
        return f"malformed {kind}"
    return None
