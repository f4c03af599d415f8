"""`make bench`: measure partnerbot against a bare Bolt app on the same server.

For each size (`--partners 1000,10000,50000`) the bench seeds a workspace,
starts `partnerbot serve` and drives signed requests at it from outside —
status, the portfolio of an owner of 500, list pages, App Home, `/partner report`, a
write — then the bare Bolt app that only acks, then times every job's dry run and the
report's figures (report_times.py). `--postgres URL` runs the same against PostgreSQL (the database's public schema is emptied
first). Prints the tables and the goal lines of issue #14, and writes
bench/results.md. Nothing here is a test.

Modules: load.py (generator, Slack stand-in, /proc CPU), seed.py, job_times.py,
report_times.py, report.py (the Markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load, report, seed  # noqa: E402
from bench.load import SECRET, TOKEN, Load, Receiver, free_port, signed, wait_ready  # noqa: E402,F401  (scale_demo imports these)

PARTNERBOT = [sys.executable, "-m", "bot"]


@contextmanager
def process(args: list[str], env: dict[str, str]):
    # stderr to a file, not a pipe nobody reads: a chatty server would block on a full pipe.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    try:
        yield proc
    except BaseException:
        log.seek(0)
        print(log.read().decode(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def backends(url: str):
    """PostgreSQL's processes serving this database, other than the bench's own (same host: /proc is readable)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)

    def pids() -> list[int]:
        with engine.connect() as c:
            return list(c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND pid <> pg_backend_pid()")).scalars())

    return pids


def measure(ws: seed.Workspace, receiver: Receiver, env: dict[str, str], *, requests: int, workers: int, rng: random.Random) -> dict:
    """One size: our loads, then the bare app's, then the jobs."""
    names = ws.names
    portfolio = f"status (portfolio of {ws.owned})"
    home = f"App Home (owner of {ws.owned})"
    loads = [
        (Load("status <partner>", [f'status "{n}"' for n in names]), ((1, requests // 4), (16, requests))),
        (Load(portfolio, ["status"]), ((1, 24), (16, 64))),
        (Load("list page:N", [f"list page:{rng.randint(1, ws.pages)}" for _ in range(400)]), ((1, requests // 8), (16, requests // 2))),
        (Load(home, home=True), ((1, 24), (16, 64))),
        (Load(report.REPORT, ["report", "report type:channel", f"report owner:<@{seed.OWNER}>"]), ((1, 12), (4, 16))),
        (Load("log <partner> call … (write)", [f'log "{n}" call bench call {i}' for i, n in enumerate(names * 5)], write=True),
         ((16, requests // 2),)),
    ]
    out: list[dict] = []
    db_pids = backends(ws.url) if ws.url.startswith("postgresql") else None
    app_env = {**env, "DATABASE_URL": ws.url}
    port = free_port()
    serve = PARTNERBOT + ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler", "--workers", str(workers)]
    with process(serve, app_env) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/healthz")
        for spec, _ in loads[:4]:  # warm-up: imports, pools, caches
            load.run(base, receiver, spec, pid=proc.pid, concurrency=4, total=16, rng=rng)
        for spec, plan in loads:
            for c, total in plan:
                out.append(result := load.run(base, receiver, spec, pid=proc.pid, concurrency=c, total=total, rng=rng,
                                              db_pids=db_pids))
                print(f"  {spec.name} c={c}: p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, {result['rps']:.0f} req/s, "
                      f"server {result['server_ms']:.2f} ms CPU/req, errors {result['errors']}", flush=True)
        rss, peak = load.rss_mb(proc.pid)
    port = free_port()
    bare = Load(report.BARE, [f'status "{n}"' for n in names])
    with process([sys.executable, str(ROOT / "bench" / "bare_app.py"), str(port)], app_env) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/healthz")
        load.run(base, receiver, bare, pid=proc.pid, concurrency=4, total=40, rng=rng)
        for c, total in ((1, requests // 4), (16, requests)):
            out.append(result := load.run(base, receiver, bare, pid=proc.pid, concurrency=c, total=total, rng=rng))
            print(f"  bare c={c}: p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, {result['rps']:.0f} req/s, "
                  f"server {result['server_ms']:.2f} ms CPU/req", flush=True)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "job_times.py"), ws.url], env=app_env, cwd=ROOT,
                          capture_output=True, text=True)
    jobs = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode:
        jobs.append({"job": "(job_times.py)", "error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]})
    for j in jobs:
        print(f"  job {j['job']}: " + (f"{j['seconds']:.2f} s, {j['selects']} SELECTs" if "error" not in j else j["error"]), flush=True)
    figures = report_times(ws.url, app_env)
    return {"partners": ws.partners, "owned": ws.owned, "portfolio": portfolio, "home": home, "loads": out, "jobs": jobs,
            "report": figures,
            "rss": rss, "peak": peak, "seed_s": ws.seconds, "seed_how": ws.how}


def report_times(url: str, env: dict[str, str]) -> list[dict]:
    """`/partner report`'s figures built in a process of their own (report_times.py)."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "report_times.py"), url], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    found = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode:
        found.append({"case": "(report_times.py)", "error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]})
    for r in found:
        print(f"  {r['case']}: " + (r["error"] if "error" in r else f"{r['seconds']:.2f} s"
                                    + (f", {r['selects']} SELECTs" if "selects" in r else f", {r['rows']} CSV rows")), flush=True)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", default="1000,10000,50000", help="comma-separated workspace sizes")
    parser.add_argument("--requests", type=int, default=320, help="requests of `status` at c=16 (other loads scale from it)")
    parser.add_argument("--workers", type=int, default=1, help="partnerbot serve --workers")
    parser.add_argument("--postgres", metavar="URL", help="also run against this PostgreSQL database (its public schema is emptied)")
    parser.add_argument("--no-sqlite", action="store_true", help="with --postgres: PostgreSQL only")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.partners.split(",") if s.strip()]
    work = Path(tempfile.mkdtemp(prefix="partnerbot-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERBOT_", "DATABASE_URL"))}
    receiver = Receiver()
    env.update(SLACK_API_URL=receiver.url + "api/", SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET)
    threads = os.environ.get("PARTNERBOT_SERVER_THREADS", "default")
    if threads != "default":
        env["PARTNERBOT_SERVER_THREADS"] = threads
    backends = ([] if args.no_sqlite else [("SQLite", None)]) + ([("PostgreSQL", args.postgres)] if args.postgres else [])
    rng = random.Random(14)
    runs: dict[str, list[dict]] = {}
    for backend, url in backends:
        for partners in sizes:
            print(f"{backend}: seeding {partners:,} partners …", flush=True)
            previous = runs[backend][-1]["partners"] if runs.get(backend) else 0
            ws = seed.seed(partners=partners, work=work, env=env, postgres=url, previous=previous)
            print(f"  seeded in {ws.seconds:.1f} s; {ws.owned} partners owned by {seed.OWNER}", flush=True)
            runs.setdefault(backend, []).append(measure(ws, receiver, env, requests=args.requests, workers=args.workers, rng=rng))
            if url is None:
                for f in work.glob(f"bench-{partners}.db*"):
                    f.unlink()
    shutil.rmtree(work, ignore_errors=True)
    text = report.markdown(runs, workers=args.workers, threads=threads)
    print("\n" + text)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
