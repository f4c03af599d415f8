"""Every job's `jobs run NAME --dry-run`, timed, with its SELECT statements counted.

Run as its own process (`python bench/job_times.py DATABASE_URL`) so each size
starts cold and the bench process stays small; prints JSON lines."""

from __future__ import annotations

import io
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(url: str) -> None:
    from bench.selects import SelectCount
    from core.settings import load_settings
    from jobs.runner import dry_run, specs
    from storage import db

    settings = load_settings(_env_file=None, DATABASE_URL=url, PARTNERBOT_DIGEST_CHANNEL="C0DIGEST", SLACK_BOT_TOKEN="xoxb-bench-token")
    engine = db.configure(url)
    selects = SelectCount(engine)
    now = datetime.now(timezone.utc).replace(hour=9, minute=5)
    for job in specs(settings):
        selects.reset()
        started = time.perf_counter()
        try:
            dry_run(job.name, settings=settings, now=now, out=io.StringIO())
        except Exception as exc:  # one broken job is a figure, not the end of the bench
            print(json.dumps({"job": job.name, "error": f"{type(exc).__name__}: {exc}"[:200]}), flush=True)
            continue
        print(json.dumps({"job": job.name, "seconds": time.perf_counter() - started, "selects": selects.count}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
