"""A fake Slack Web API server for tests: it answers like Slack (response shapes,
error codes, HTTP 429 with Retry-After, 5xx) and records every call it receives,
so tests assert on what Slack would have been sent.

Standard library only; binds 127.0.0.1 on a free port. Unknown user IDs starting
with U get a default full member (time zone UTC); unknown C/G channel IDs
accept posts, so tests only declare the channels whose behaviour they test.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # bursts of concurrent calls overflowed the default backlog of 5 (1 s retransmits)


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    body: bytes
    path: str
    answered: bool = False  # the fake has sent its answer
    result: dict[str, Any] | None = None  # what the fake answered (a view's id, a message's ts)


@dataclass
class _Fault:
    kind: str  # "error" | "ratelimit" | "server" | "delay"
    value: Any
    times: int


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, list[_Fault]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeSlack:
    def __init__(self, token: str = "xoxb-test-token", team_id: str = "T0TEAM", bot_user_id: str = "U0BOT"):
        self.token, self.team_id, self.bot_user_id = token, team_id, bot_user_id
        self.app_token = "xapp-test-token"  # the app-level token that opens Socket Mode connections
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out (tests/fake_socket_mode.py)
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self._state = _State()
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------
    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def api_url(self) -> str:
        return self.base_url + "api/"

    # --- what tests read ---------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self._state.calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self._state.calls]
                    raise AssertionError(f"expected {count} call(s) to {method}, got {len(found)}; received: {seen}")
                self._lock.wait(left)

    def wait_answered(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Like `wait_for`, until the fake has also sent its answers (a delayed one included)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self._state.calls if c.method == method and c.answered]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} answered call(s) to {method}, got {len(found)}")
                self._lock.wait(left)

    def new_response_url(self) -> str:
        return f"{self.base_url}response/{uuid.uuid4().hex}"

    def responses(self) -> list[Call]:
        return self.calls_to("response_url")

    def wait_for_responses(self, count: int = 1, timeout: float = 5.0) -> list[Call]:
        return self.wait_for("response_url", count, timeout)

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for (ch, _), m in self._state.messages.items() if channel in (None, ch)]

    # --- what tests arrange --------------------------------------------------------
    def _fault(self, method: str, fault: _Fault) -> None:
        with self._lock:
            self._state.faults.setdefault(method, []).append(fault)

    def fail_next(self, method: str, error: str, times: int = 1) -> None:
        self._fault(method, _Fault("error", error, times))

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        self._fault(method, _Fault("ratelimit", retry_after, times))

    def server_error_next(self, method: str, status: int = 500, times: int = 1) -> None:
        self._fault(method, _Fault("server", status, times))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next N calls of `method` answer normally, but only after `seconds` (a slow Slack)."""
        self._fault(method, _Fault("delay", seconds, times))

    def add_user(
        self, user_id: str, *, name: str | None = None, tz: str = "America/New_York", is_restricted: bool = False,
        is_ultra_restricted: bool = False, is_bot: bool = False, deleted: bool = False,
        team_id: str | None = None, is_stranger: bool = False,
    ) -> None:
        """A member of this workspace by default; `team_id` of another workspace makes a
        Slack Connect member, `is_stranger` one Slack shows without a team."""
        user = self._user(user_id, name=name, tz=tz, is_restricted=is_restricted,
                          is_ultra_restricted=is_ultra_restricted, is_bot=is_bot, deleted=deleted)
        if team_id:
            user["team_id"] = team_id
        if is_stranger:
            user["is_stranger"] = True
        self.users[user_id] = user

    def add_channel(self, channel_id: str, *, name: str, is_private: bool = False, is_member: bool = True,
                    is_ext_shared: bool = False, is_pending_ext_shared: bool = False,
                    connected_team_ids: list[str] | None = None) -> None:
        """`connected_team_ids`: the organisations a Slack Connect channel reaches (ours
        included), as conversations.info names them; left out unless given."""
        self.channels[channel_id] = {
            "id": channel_id, "name": name, "is_channel": not is_private, "is_private": is_private,
            "is_member": is_member, "is_archived": False, "is_shared": is_ext_shared, "is_org_shared": False,
            "is_ext_shared": is_ext_shared, "is_pending_ext_shared": is_pending_ext_shared,
        }
        if connected_team_ids is not None:
            self.channels[channel_id]["connected_team_ids"] = list(connected_team_ids)

    def reset(self) -> None:
        """A fresh workspace for the next test: no calls, messages, faults, users or channels."""
        with self._lock:
            self._state = _State()
            self.users.clear()
            self.channels.clear()
            self.socket_mode_url = None

    def reset_calls(self) -> None:
        """Forget what was received so far (the arranged users and channels stay)."""
        with self._lock:
            self._state.calls.clear()
            self._state.messages.clear()

    # --- the server ------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        parsed = urllib.parse.urlparse(request.path)
        headers = {k.lower(): v for k, v in request.headers.items()}
        args = self._args(parsed.query, body, headers.get("content-type", ""))
        path = parsed.path
        if path.startswith("/response/"):
            method = "response_url"
        elif path.startswith("/upload/"):
            method = "upload"
        elif path.startswith("/api/"):
            method = path[len("/api/"):]
        else:
            method = "unknown"
        call = Call(method, args, headers, body, path)
        with self._lock:
            self._state.calls.append(call)
            self._lock.notify_all()
            fault = self._take_fault(method)
        if method == "response_url":
            return self._send(request, 200, b"ok", "text/plain")
        if method == "upload":
            file_id = path.rsplit("/", 1)[-1]
            with self._lock:
                if file_id in self._state.uploads:
                    self._state.uploads[file_id]["uploaded"] = True
            return self._send(request, 200, f"OK - {len(body)}".encode(), "text/plain")
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.value)
            fault = None
        if fault is not None:
            if fault.kind == "ratelimit":
                return self._send(request, 429, self._json({"ok": False, "error": "ratelimited"}), extra={"Retry-After": str(fault.value)})
            if fault.kind == "server":
                return self._send(request, fault.value, b"<html>Slack is having trouble</html>", "text/html")
            return self._send(request, 200, self._json({"ok": False, "error": fault.value}))
        if method != "unknown" and not method.startswith("api."):
            token = headers.get("authorization", "").removeprefix("Bearer ").strip() or args.get("token", "")
            if not token:
                return self._send(request, 200, self._json({"ok": False, "error": "not_authed"}))
            if token != (self.app_token if method == "apps.connections.open" else self.token):
                return self._send(request, 200, self._json({"ok": False, "error": "invalid_auth"}))
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        result = handler(args) if handler else {"ok": False, "error": "unknown_method"}
        call.result = result
        self._send(request, 200, self._json(result))
        with self._lock:
            call.answered = True
            self._lock.notify_all()

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._state.faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    @staticmethod
    def _args(query: str, body: bytes, content_type: str) -> dict[str, Any]:
        args: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
        if body:
            if "application/json" in content_type:
                try:
                    loaded = json.loads(body)
                    if isinstance(loaded, dict):
                        args.update(loaded)
                except ValueError:
                    pass
            elif "x-www-form-urlencoded" in content_type:
                try:
                    args.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                except UnicodeDecodeError:  # file bytes posted to an upload URL
                    pass
        for key in JSON_FIELDS:
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass
        return args

    @staticmethod
    def _json(data: dict[str, Any]) -> bytes:
        return json.dumps(data).encode()

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "application/json; charset=utf-8", extra: dict[str, str] | None = None) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(body)

    # --- methods -------------------------------------------------------------------------
    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.000100"

    def _user(self, user_id: str, *, name: str | None = None, tz: str = "UTC", **flags: bool) -> dict[str, Any]:
        name = name or user_id.lower()
        return {
            "id": user_id, "team_id": self.team_id, "name": name, "real_name": name.title(), "tz": tz,
            "tz_offset": 0, "is_bot": flags.get("is_bot", False), "deleted": flags.get("deleted", False),
            "is_restricted": flags.get("is_restricted", False), "is_ultra_restricted": flags.get("is_ultra_restricted", False),
            "profile": {"display_name": name, "real_name": name.title()},
        }

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake Team", "user": "partnerbot",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": "B0BOT"}

    def _channel_problem(self, channel: str) -> str | None:
        info = self.channels.get(channel)
        if info is None or info["is_member"]:
            return None
        return "channel_not_found" if info["is_private"] else "not_in_channel"

    @staticmethod
    def _blocks_problem(blocks: Any, limit: int = 50) -> str | None:
        if blocks is None:
            return None
        if not isinstance(blocks, list) or len(blocks) > limit:
            return "invalid_blocks"
        for block in blocks:
            text = (block.get("text") or {}).get("text", "") if isinstance(block, dict) else ""
            if block.get("type") == "section" and len(text) > 3000:
                return "invalid_blocks"
            if block.get("type") == "header" and len(text) > 150:
                return "invalid_blocks"
        return None

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if problem := self._channel_problem(channel) or self._blocks_problem(args.get("blocks")):
            return {"ok": False, "error": problem}
        if len(args.get("text") or "") > 40000:
            return {"ok": False, "error": "msg_too_long"}
        if channel.startswith(("U", "W")):
            channel = "D" + channel
        ts = self._next_ts()
        message = {"channel": channel, "ts": ts, "text": args.get("text", ""), "blocks": args.get("blocks"),
                   "thread_ts": args.get("thread_ts")}
        with self._lock:
            self._state.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": {"type": "message", "user": self.bot_user_id, **message}}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel") or not args.get("user"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (args.get("channel", ""), args.get("ts", ""))
        if problem := self._blocks_problem(args.get("blocks")):
            return {"ok": False, "error": problem}
        with self._lock:
            message = self._state.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.update(text=args.get("text", message["text"]), blocks=args.get("blocks", message["blocks"]))
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"]}

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._state.messages.pop((args.get("channel", ""), args.get("ts", "")), None) is None:
                return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        if not channel or not ts:
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "channel": channel, "permalink": f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"}

    def _view_result(self, view: Any, limit: int) -> dict[str, Any]:
        if not isinstance(view, dict) or len(view.get("blocks", [])) > limit or self._blocks_problem(view.get("blocks"), limit):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": {"id": "V" + uuid.uuid4().hex[:10].upper(), "hash": uuid.uuid4().hex, **view}}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view_result(args.get("view"), 100)

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = args.get("trigger_id", "")
        if not trigger:
            return {"ok": False, "error": "invalid_arguments"}
        if trigger.startswith("expired"):
            return {"ok": False, "error": "expired_trigger_id"}
        return self._view_result(args.get("view"), 100)

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("view_id") and not args.get("external_id"):
            return {"ok": False, "error": "invalid_arguments"}
        result = self._view_result(args.get("view"), 100)
        if result["ok"]:
            result["view"]["id"] = args.get("view_id") or result["view"]["id"]
        return result

    _m_views_push = _m_views_open

    def _m_pins_add(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (args.get("channel", ""), args.get("timestamp", ""))
        with self._lock:
            message = self._state.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            if message.get("pinned"):
                return {"ok": False, "error": "already_pinned"}
            message["pinned"] = True
        return {"ok": True}

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.socket_mode_url is None:
            return {"ok": False, "error": "not_allowed_token_type"}  # Slack's answer when Socket Mode is off
        return {"ok": True, "url": self.socket_mode_url}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user", "")
        if user_id in self.users:
            return {"ok": True, "user": self.users[user_id]}
        if user_id.startswith(("U", "W")):
            return {"ok": True, "user": self._user(user_id)}
        return {"ok": False, "error": "user_not_found"}

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel", "")
        info = self.channels.get(channel)
        if info is None and channel.startswith("C"):
            # Like chat.postMessage here: a channel no test declared is an ordinary
            # internal public channel the bot is in.
            info = {"id": channel, "name": channel.lower(), "is_channel": True, "is_private": False, "is_member": True,
                    "is_archived": False, "is_shared": False, "is_org_shared": False, "is_ext_shared": False,
                    "is_pending_ext_shared": False}
        if info is None or (info["is_private"] and not info["is_member"]):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": dict(info)}

    def _m_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        info = self.channels.get(args.get("channel", ""))
        if info is None:
            return {"ok": False, "error": "channel_not_found"}
        if info["is_private"]:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        info["is_member"] = True
        return {"ok": True, "channel": dict(info)}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = args.get("users", "")
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        with self._lock:
            self._state.uploads[file_id] = {"filename": args["filename"], "uploaded": False}
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            for item in files:
                if item.get("id") not in self._state.uploads:
                    return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}

    def _m_team_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team": {"id": self.team_id, "name": "Fake Team", "domain": "fake"}}
