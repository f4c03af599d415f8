"""`make bench`: measure partnerbot on a large workspace and print one table.

Latency runs from sending the signed request until the reply reaches Slack
(here: our response_url receiver), so acking early does not make a slow
command look fast. The bare Bolt app acks "ok" in the HTTP response itself.
Figures are printed and written to bench/results.md; nothing here is a test.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
PARTNERBOT = [sys.executable, "-m", "bot"]


class Receiver:
    """A minimal Slack stand-in: auth.test, users.info, and response_url posts with arrival times."""

    def __init__(self):
        self.arrived: dict[str, float] = {}
        self.events: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path.startswith("/response/"):
                    key = self.path.rsplit("/", 1)[-1]
                    with receiver.lock:
                        receiver.arrived[key] = time.perf_counter()
                        event = receiver.events.get(key)
                    if event:
                        event.set()
                    body = b"ok"
                elif self.path.endswith("auth.test"):
                    body = json.dumps({"ok": True, "user_id": "U0BOT", "team_id": "T0", "bot_id": "B0"}).encode()
                elif self.path.endswith("users.info"):
                    body = json.dumps({"ok": True, "user": {"id": "U", "tz": "UTC", "is_restricted": False}}).encode()
                else:
                    body = json.dumps({"ok": True, "ts": "1.0", "channel": "C1"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def expect(self) -> tuple[str, threading.Event]:
        key = os.urandom(8).hex()
        event = threading.Event()
        with self.lock:
            self.events[key] = event
        return key, event


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


@contextmanager
def process(args: list[str], env: dict[str, str]):
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def load(base: str, receiver: Receiver, texts: list[str], *, user: str, concurrency: int, total: int, reply_in_ack: bool) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_worker = total // concurrency

    def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        with httpx.Client(timeout=30) as http:
            for _ in range(per_worker):
                key, event = receiver.expect()
                form = {"command": "/partner", "text": rng.choice(texts), "user_id": user, "team_id": "T0", "channel_id": "C1",
                        "response_url": f"{receiver.url}response/{key}", "trigger_id": "t", "api_app_id": "A0"}
                body = urllib.parse.urlencode(form).encode()
                start = time.perf_counter()
                response = http.post(base + "/slack/events", content=body, headers=signed(body))
                if response.status_code != 200:
                    errors += 1
                    continue
                if reply_in_ack:
                    end = time.perf_counter()
                else:
                    if not event.wait(30):
                        errors += 1
                        continue
                    end = receiver.arrived[key]
                with lock:
                    latencies.append(end - start)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
    return {"n": len(latencies), "errors": errors, "p50": p(0.50), "p99": p(0.99), "rps": len(latencies) / elapsed}


def rss_mb(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def job_figures(db_url: str) -> list[tuple[str, float, int]]:
    from sqlalchemy import event

    from core.settings import load_settings
    from jobs.runner import dry_run, specs
    from storage import db

    settings = load_settings(_env_file=None, DATABASE_URL=db_url, PARTNERBOT_DIGEST_CHANNEL="C0DIGEST", SLACK_BOT_TOKEN=TOKEN)
    engine = db.configure(db_url)
    counter = {"n": 0}

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    now = datetime.now(timezone.utc).replace(hour=9, minute=5)
    out = []
    for job in specs(settings):
        counter["n"] = 0
        started = time.perf_counter()
        dry_run(job.name, settings=settings, now=now, out=io.StringIO())
        out.append((job.name, time.perf_counter() - started, counter["n"]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=320)
    parser.add_argument("--workers", type=int, default=1, help="partnerbot serve --workers")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="partnerbot-bench-"))
    db_url = f"sqlite:///{work}/bench.db"
    rows: list[tuple[str, str]] = []
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERBOT_", "DATABASE_URL"))}

    print(f"seeding {args.partners:,} partners into {work} …", flush=True)
    started = time.perf_counter()
    subprocess.run(PARTNERBOT + ["demo", "--partners", str(args.partners)], env={**base_env, "DATABASE_URL": db_url}, cwd=ROOT, check=True)
    rows.append(("`partnerbot demo --partners %d`" % args.partners, f"{time.perf_counter() - started:.1f} s"))

    csv_path = work / "partners.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "type", "tier", "owner", "stage"])
        for i in range(args.partners):
            writer.writerow([f"Imported Partner {i:05d}", ("channel", "alliance", "technology")[i % 3], "Gold", f"U0IMP{i % 20:02d}", "active"])
    started = time.perf_counter()
    subprocess.run(PARTNERBOT + ["import", "partners", str(csv_path)], env={**base_env, "DATABASE_URL": f"sqlite:///{work}/import.db"},
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    rows.append((f"CSV import of {args.partners:,} partners", f"{time.perf_counter() - started:.1f} s"))

    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as c:
        names = [r[0] for r in c.execute(text("SELECT name FROM partners WHERE owner_id = 'U0DEMO1' ORDER BY id LIMIT 200"))]
        owned = c.execute(text("SELECT count(*) FROM partners WHERE owner_id = 'U0DEMO1'")).scalar()
    engine.dispose()
    status_texts = [f'status "{n}"' for n in names]

    receiver = Receiver()
    env = {**base_env, "DATABASE_URL": db_url, "SLACK_API_URL": receiver.url + "api/", "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_SIGNING_SECRET": SECRET}
    results: dict[str, dict] = {}
    port = free_port()
    with process(PARTNERBOT + ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler", "--workers", str(args.workers)], env) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/healthz")
        load(base, receiver, status_texts, user="U0DEMO1", concurrency=4, total=40, reply_in_ack=False)  # warm-up
        for c in (1, 16):
            results[f"status <partner> c={c}"] = load(base, receiver, status_texts, user="U0DEMO1", concurrency=c,
                                                      total=args.requests if c > 1 else args.requests // 4, reply_in_ack=False)
        for c in (1, 16):
            results[f"status (portfolio of {owned}) c={c}"] = load(base, receiver, ["status"], user="U0DEMO1", concurrency=c,
                                                                  total=max(c * 4, 32), reply_in_ack=False)
        rss, peak = rss_mb(proc.pid)

    port = free_port()
    bare = [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(port)]
    with process(bare, env):
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/healthz")
        load(base, receiver, status_texts, user="U0DEMO1", concurrency=4, total=40, reply_in_ack=True)
        for c in (1, 16):
            results[f"bare Bolt app c={c}"] = load(base, receiver, status_texts, user="U0DEMO1", concurrency=c,
                                                   total=args.requests if c > 1 else args.requests // 4, reply_in_ack=True)

    jobs = job_figures(db_url)
    cores = os.cpu_count()
    ratio = results["status <partner> c=16"]["rps"] / results["bare Bolt app c=16"]["rps"]

    lines = [f"# partnerbot benchmark ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {cores} cores, SQLite, {args.partners:,} partners, serve --workers {args.workers})", "",
             "| load | requests | p50 ms | p99 ms | req/s | errors |", "|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['n']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['rps']:.1f} | {r['errors']} |")
    lines += ["", f"**Throughput ratio ours / bare Bolt at c=16: {ratio:.2f}**", "",
              "| job (dry run) | seconds | SELECT statements |", "|---|---|---|"]
    lines += [f"| {name} | {seconds:.2f} | {n} |" for name, seconds, n in jobs]
    lines += ["", "| other | figure |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    lines += [f"| serving process RSS after load | {rss:.0f} MB (peak {peak:.0f} MB) |"]
    table = "\n".join(lines) + "\n"
    print("\n" + table)
    (ROOT / "bench" / "results.md").write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
