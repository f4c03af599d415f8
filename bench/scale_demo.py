"""`make scale-demo`: PostgreSQL, two web replicas and two schedulers on loopback.

Drives commands at both replicas, fires the same job on two schedulers at the
same moment, kills a third one mid-run with SIGKILL, lets `retry` finish its
work, then checks: no lost writes and every notification exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import SECRET, TOKEN, free_port, signed, wait_ready  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402

PARTNERS = 120
PARTNERBOT = [sys.executable, "-m", "bot"]


def postgres_url() -> str:
    url = os.environ.get("PARTNERBOT_SCALE_POSTGRES_URL")
    if url:
        return url
    done = subprocess.run([str(ROOT / ".ci" / "postgres.sh"), "partnerbot_scale"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"scale-demo needs PostgreSQL: {done.stderr.strip()} (or set PARTNERBOT_SCALE_POSTGRES_URL)")
    return done.stdout.strip()


def main() -> int:
    url = postgres_url()
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    fake = FakeSlack(token=TOKEN).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERBOT_", "DATABASE_URL"))}
    env.update(DATABASE_URL=url, SLACK_API_URL=fake.api_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
               PARTNERBOT_DIGEST_CHANNEL="C0DIGEST")
    subprocess.run(PARTNERBOT + ["db", "upgrade"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    ports = [free_port(), free_port()]
    replicas = [subprocess.Popen(PARTNERBOT + ["serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(p)], env=env, cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in ports]
    try:
        for p in ports:
            wait_ready(f"http://127.0.0.1:{p}/healthz")
        print(f"2 replicas on ports {ports}; driving {PARTNERS * 2} commands at both …")

        def drive(worker: int) -> None:
            with httpx.Client(timeout=30) as http:
                for i in range(worker, PARTNERS, 8):
                    # Like a person: the next command after the reply to the last one; each at the other replica.
                    for n, line in enumerate((f"add Scale{i:03d} type:channel", f"qbr Scale{i:03d} tomorrow")):
                        response_url = fake.new_response_url()
                        form = {"command": "/partner", "text": line, "user_id": f"U{i:04d}OWN", "team_id": "T0TEAM",
                                "channel_id": "C1", "response_url": response_url, "trigger_id": "t"}
                        body = urllib.parse.urlencode(form).encode()
                        response = http.post(f"http://127.0.0.1:{ports[(i + n) % 2]}/slack/events", content=body, headers=signed(body))
                        assert response.status_code == 200, response.text
                        path = urllib.parse.urlparse(response_url).path
                        deadline = time.time() + 30
                        while not any(c.path == path for c in fake.responses()) and time.time() < deadline:
                            time.sleep(0.01)

        threads = [threading.Thread(target=drive, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        fake.wait_for("response_url", PARTNERS * 2, timeout=120)
    finally:
        for proc in replicas:
            proc.terminate()
            proc.wait(timeout=10)

    with engine.connect() as c:
        partners = c.execute(text("SELECT count(*) FROM partners")).scalar()
        qbrs = c.execute(text("SELECT count(*) FROM qbrs")).scalar()
    at = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if at.hour < 8:
        at = at.replace(hour=9)
    fake.reset()
    print(f"firing qbr-reminders on two schedulers at once (as of {at.isoformat()}), and SIGKILL on a third …")
    job = PARTNERBOT + ["jobs", "run", "qbr-reminders", "--at", at.isoformat()]
    victim = subprocess.Popen(job, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    both = [subprocess.Popen(job, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    time.sleep(1.5)
    victim.send_signal(signal.SIGKILL)
    for proc in both:
        proc.wait(timeout=300)
    victim.wait()
    later = (at + timedelta(minutes=15)).isoformat()
    subprocess.run(PARTNERBOT + ["jobs", "run", "retry", "--at", later], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    dms = Counter(c.args["channel"] for c in fake.calls_to("chat.postMessage") if c.args["channel"].startswith("U"))
    with engine.connect() as c:
        statuses = dict(c.execute(text("SELECT status, count(*) FROM notification_ledger GROUP BY status")).all())
    engine.dispose()
    fake.stop()
    print(f"partners written: {partners}/{PARTNERS}, QBRs: {qbrs}/{PARTNERS}")
    print(f"QBR reminder DMs: {sum(dms.values())} to {len(dms)} owners; most to one owner: {max(dms.values(), default=0)}")
    print(f"ledger: {statuses}")
    # The documented window: the killed process may have had one message accepted by
    # Slack but not yet recorded as sent; `retry` sends that one again.
    duplicates = sum(n - 1 for n in dms.values())
    ok = partners == PARTNERS and qbrs == PARTNERS and len(dms) == PARTNERS and duplicates <= 1
    print(f"duplicates: {duplicates} (at most 1 allowed: the SIGKILLed process's in-flight message, docs/operations.md 'Exactly once')")
    print("OK: no lost writes, every notification sent, none twice outside the documented window" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
