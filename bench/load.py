"""The load generator and the Slack stand-in it measures against.

Every request is built and signed before the clock starts; each worker thread
keeps one keep-alive connection (http.client: a fraction of httpx's CPU per
request), so the generator costs little beside the server it measures and a
bare Bolt app is server-bound. Latency runs from sending the request until the
reply reaches Slack: the HTTP response when the reply is in the ack, else the
response_url post (or, for App Home, the views.publish call).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import socket
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of replies overflowed the default 5: 1 s SYN retransmits


class Receiver:
    """Slack's side: the Web API methods the app calls, response_url posts and
    views.publish, each arrival timed and handed to the request waiting for it."""

    def __init__(self):
        self.arrived: dict[str, float] = {}
        self.events: dict[str, threading.Event] = {}
        self.publishes: deque[str] = deque()  # App Home requests waiting for their views.publish, oldest first
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                if self.path.startswith("/response/"):
                    receiver._arrive(self.path.rsplit("/", 1)[-1], now)
                    body = b"ok"
                elif self.path.endswith("auth.test"):
                    body = json.dumps({"ok": True, "user_id": "U0BOT", "team_id": "T0", "bot_id": "B0"}).encode()
                elif self.path.endswith("users.info"):
                    # A full member of this workspace (auth.test's team), or the access gate refuses everyone.
                    user = (urllib.parse.parse_qs(raw.decode()).get("user") or ["U"])[0]
                    body = json.dumps({"ok": True, "user": {"id": user, "team_id": "T0", "tz": "UTC", "is_restricted": False,
                                                            "is_ultra_restricted": False}}).encode()
                elif self.path.endswith("views.publish"):
                    with receiver.lock:
                        key = receiver.publishes.popleft() if receiver.publishes else None
                    if key:
                        receiver._arrive(key, now)
                    body = json.dumps({"ok": True, "view": {"id": "V1"}}).encode()
                else:
                    body = json.dumps({"ok": True, "ts": "1.0", "channel": "C1"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def _arrive(self, key: str, at: float) -> None:
        with self.lock:
            self.arrived[key] = at
            event = self.events.get(key)
        if event:
            event.set()

    def expect(self) -> tuple[str, threading.Event]:
        key = os.urandom(8).hex()
        event = threading.Event()
        with self.lock:
            self.events[key] = event
        return key, event


def signed(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60) -> None:
    parsed = urllib.parse.urlparse(url)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=1)
            conn.request("GET", parsed.path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


@dataclass
class Request:
    body: bytes
    headers: dict[str, str]
    key: str
    event: threading.Event
    home: bool = False  # the reply is a views.publish, matched in arrival order


@dataclass
class Load:
    """One named load: texts for slash commands, or App Home opens."""

    name: str
    texts: list[str] = field(default_factory=list)
    user: str = "U0DEMO1"
    home: bool = False
    write: bool = False  # always waits for the response_url post, whatever the ack says


def build(load: Load, receiver: Receiver, count: int, rng) -> list[Request]:
    out = []
    for _ in range(count):
        key, event = receiver.expect()
        if load.home:
            body = json.dumps({
                "token": "x", "team_id": "T0", "api_app_id": "A0", "type": "event_callback",
                "event_id": "Ev" + key, "event_time": int(time.time()),
                "authorizations": [{"team_id": "T0", "user_id": "U0BOT", "is_bot": True}],
                "event": {"type": "app_home_opened", "user": load.user, "channel": "D0", "tab": "home", "event_ts": "1.0"},
            }).encode()
            headers = {**signed(body), "Content-Type": "application/json"}
        else:
            form = {"command": "/partner", "text": rng.choice(load.texts), "user_id": load.user, "team_id": "T0",
                    "channel_id": "C1", "response_url": f"{receiver.url}response/{key}", "trigger_id": "t", "api_app_id": "A0"}
            body = urllib.parse.urlencode(form).encode()
            headers = signed(body)
        headers["Content-Length"] = str(len(body))
        out.append(Request(body, headers, key, event, home=load.home))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (serve --workers forks), from /proc."""
    total = 0.0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14 and 15)
    return total


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def run(base: str, receiver: Receiver, load: Load, *, pid: int, concurrency: int, total: int, rng, db_pids=None) -> dict:
    """Drive `total` requests with `concurrency` closed-loop workers; latency, throughput and CPU per request.
    `db_pids`: a function naming the database server's processes serving us (PostgreSQL backends)."""
    parsed = urllib.parse.urlparse(base)
    per_worker = max(1, total // concurrency)
    batches = [build(load, receiver, per_worker, rng) for _ in range(concurrency)]
    conns = [http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30) for _ in range(concurrency)]
    for conn in conns:
        conn.connect()
    latencies: list[float] = []
    acks: list[float] = []  # until the HTTP response, for replies that come later: Slack's 3-second limit
    in_ack = [0]
    errors = [0]
    lock = threading.Lock()
    start_gate = threading.Barrier(concurrency + 1)

    def worker(conn: http.client.HTTPConnection, batch: list[Request]) -> None:
        mine, acked, failed, ack_times = [], 0, 0, []
        start_gate.wait()
        for req in batch:
            if failed >= 3 and not mine:  # nothing gets through: report it rather than wait 30 s a request
                failed += 1
                continue
            if req.home:
                with receiver.lock:
                    receiver.publishes.append(req.key)
            start = time.perf_counter()
            try:
                conn.request("POST", "/slack/events", body=req.body, headers=req.headers)
                response = conn.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                continue
            if response.status != 200:
                failed += 1
                continue
            acked_at = time.perf_counter()
            if answer and not req.home and not load.write:
                end = acked_at  # the reply is in the ack
                acked += 1
            elif req.event.wait(30):
                ack_times.append(acked_at - start)
                end = receiver.arrived[req.key]
            else:
                failed += 1
                continue
            mine.append(end - start)
        with lock:
            latencies.extend(mine)
            acks.extend(ack_times)
            in_ack[0] += acked
            errors[0] += failed

    threads = [threading.Thread(target=worker, args=(conn, batch)) for conn, batch in zip(conns, batches)]
    for t in threads:
        t.start()
    server_cpu, own_cpu = cpu_seconds(pid), time.process_time()
    db_before = {p: cpu_seconds(p) for p in db_pids()} if db_pids else {}
    started = time.perf_counter()
    start_gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    server_cpu, own_cpu = cpu_seconds(pid) - server_cpu, time.process_time() - own_cpu
    db_cpu = sum(cpu_seconds(p) - db_before.get(p, 0.0) for p in db_pids()) if db_pids else float("nan")
    for conn in conns:
        conn.close()
    with receiver.lock:
        receiver.publishes.clear()
        for batch in batches:
            for req in batch:
                receiver.events.pop(req.key, None)
                receiver.arrived.pop(req.key, None)
    latencies.sort()
    acks.sort()
    n = len(latencies)
    pct = lambda q, xs=latencies: xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")  # noqa: E731
    return {"name": load.name, "c": concurrency, "n": n, "errors": errors[0], "p50": pct(0.50), "p99": pct(0.99),
            "rps": n / elapsed if elapsed else 0.0, "server_ms": server_cpu * 1000 / max(n, 1),
            "bench_ms": own_cpu * 1000 / max(n, 1), "db_ms": db_cpu * 1000 / max(n, 1), "in_ack": in_ack[0], "ack_p99": pct(0.99, acks)}
