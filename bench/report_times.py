"""`/partner report`'s figures at this size: `storage.report.build` timed for the
workspace and with each filter (SELECT statements counted: they stay flat whatever
the number of partners), then `partnerbot report --csv` as a user runs it.

Run as its own process (`python bench/report_times.py DATABASE_URL`), like
job_times.py; prints JSON lines."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 3  # each case is built this many times; the median is reported


def main(url: str) -> None:
    from bench.selects import SelectCount
    from core.settings import load_settings
    from storage import db, report
    from storage.periods import month_of, quarter_of

    settings = load_settings(_env_file=None, DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-bench-token")
    engine = db.configure(url)
    selects = SelectCount(engine)
    now = datetime.now(timezone.utc)
    quarter = quarter_of(month_of(now.date()))
    with db.unit_of_work(read_only=True) as session:
        owner = session.execute(db_owner()).scalar()
    cases = [("report (whole workspace)", report.Filters()), ("report owner:@… (one owner)", report.Filters(owner_id=owner)),
             ("report type:channel", report.Filters(type="channel"))]
    for name, filters in cases:
        times = []
        for _ in range(RUNS):
            selects.reset()
            started = time.perf_counter()
            with db.unit_of_work(read_only=True) as session:
                report.build(session, quarter=quarter, now=now, settings=settings, filters=filters)
            times.append(time.perf_counter() - started)
        print(json.dumps({"case": name, "seconds": sorted(times)[RUNS // 2], "selects": selects.count}), flush=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot", "report", "--csv"], cwd=ROOT, capture_output=True, text=True)
    row = {"case": "partnerbot report --csv (a fresh process)", "seconds": time.perf_counter() - started,
           "rows": max(len(done.stdout.splitlines()) - 1, 0)}
    if done.returncode:
        row["error"] = (done.stderr.strip().splitlines() or ["failed"])[-1][:200]
    print(json.dumps(row), flush=True)


def db_owner():
    """The owner with the most partners (the demo's ~500)."""
    from sqlalchemy import func, select

    from storage.models import Partner

    return select(Partner.owner_id).group_by(Partner.owner_id).order_by(func.count().desc(), Partner.owner_id).limit(1)


if __name__ == "__main__":
    main(sys.argv[1])
