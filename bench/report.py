"""The tables and the goal lines of issue #14, as Markdown."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone

BARE = "bare Bolt app (acks ok)"
REPORT = "report (all; type:channel; owner:@…)"


def _by(loads: list[dict], name: str, c: int) -> dict | None:
    return next((r for r in loads if r["name"] == name and r["c"] == c), None)


def load_table(size: dict) -> list[str]:
    loads = size["loads"]
    lines = ["| load | c | requests | p50 ms | p99 ms | req/s | × bare | server CPU ms/req | DB server CPU ms/req | bench CPU ms/req | replied in ack | ack p99 ms (later replies) | errors |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in loads:
        bare = _by(loads, BARE, r["c"])
        ratio = f"{r['rps'] / bare['rps']:.2f}" if bare and bare["rps"] else "–"
        lines.append(f"| {r['name']} | {r['c']} | {r['n']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['rps']:.1f} | {ratio} | "
                     f"{r['server_ms']:.2f} | {_ms(r.get('db_ms'), 2)} | {r['bench_ms']:.2f} | {r['in_ack']} | {_ms(r.get('ack_p99'))} | {r['errors']} |")
    return lines


def _ms(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or value != value else f"{value:.{digits}f}"  # NaN: every reply was in the ack


def job_table(sizes: list[dict]) -> list[str]:
    head = "| job (dry run) | " + " | ".join(f"{s['partners']:,}: s | SELECTs" for s in sizes) + " |"
    lines = [head, "|---|" + "---|---|" * len(sizes)]
    names = list(dict.fromkeys(j["job"] for s in sizes for j in s["jobs"]))
    for name in names:
        cells = []
        for s in sizes:
            j = next((j for j in s["jobs"] if j["job"] == name), None)
            cells.append("– | –" if not j else f"error: {j['error']} | –" if "error" in j else f"{j['seconds']:.2f} | {j['selects']}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def report_table(sizes: list[dict]) -> list[str]:
    """`/partner report`'s figures built directly (storage/report.py), and the CSV from the command line."""
    head = "| /partner report (figures only) | " + " | ".join(f"{s['partners']:,}: s | SELECTs" for s in sizes) + " |"
    lines = [head, "|---|" + "---|---|" * len(sizes)]
    for name in dict.fromkeys(r["case"] for s in sizes for r in s.get("report", [])):
        cells = []
        for s in sizes:
            r = next((r for r in s.get("report", []) if r["case"] == name), None)
            cells.append("– | –" if not r else f"error: {r['error']} | –" if "error" in r
                         else f"{r['seconds']:.2f} | {r.get('selects', str(r.get('rows', '–')) + ' rows')}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def goals(sizes: list[dict]) -> list[tuple[str, bool | None, str]]:
    """(goal, met, evidence) per size where it applies; met None when not measured."""
    out: list[tuple[str, bool | None, str]] = []

    def ratio_goal(label: str, name: str, factor: float) -> None:
        for s in sizes:
            ours, bare = _by(s["loads"], name, 16), _by(s["loads"], BARE, 16)
            if ours and bare and bare["rps"]:
                r = ours["rps"] / bare["rps"]
                out.append((f"{label} at {s['partners']:,}: throughput ≥ {factor}× bare", r >= factor,
                            f"{ours['rps']:.0f} vs {bare['rps']:.0f} req/s = {r:.2f}×"))

    ratio_goal("status <partner> c=16", "status <partner>", 0.8)
    for s in sizes:
        ours, bare = _by(s["loads"], "status <partner>", 16), _by(s["loads"], BARE, 16)
        if ours and bare:
            out.append((f"status <partner> c=16 at {s['partners']:,}: p99 ≤ 2× bare p99", ours["p99"] <= 2 * bare["p99"],
                        f"{ours['p99']:.0f} vs {bare['p99']:.0f} ms = {ours['p99'] / bare['p99']:.1f}×"))
    for s in sizes:
        for name in (s["portfolio"], "list page:N"):
            ours, bare = _by(s["loads"], name, 16), _by(s["loads"], BARE, 16)
            if ours and bare and bare["rps"]:
                r = ours["rps"] / bare["rps"]
                out.append((f"{name} c=16 at {s['partners']:,}: throughput ≥ 0.5× bare", r >= 0.5,
                            f"{ours['rps']:.0f} vs {bare['rps']:.0f} req/s = {r:.2f}×"))
    for s in sizes:
        card = _by(s["loads"], "status <partner>", 1)
        for name, label in (("list page:N", "a list page"), (s["home"], "App Home")):
            other = _by(s["loads"], name, 1)
            if card and other:
                out.append((f"{label} at {s['partners']:,}: c=1 p50 within 3× a card", other["p50"] <= 3 * card["p50"],
                            f"{other['p50']:.1f} vs {card['p50']:.1f} ms = {other['p50'] / card['p50']:.1f}×"))
    for s in sizes:
        ours = _by(s["loads"], REPORT, 1)
        if ours:
            out.append((f"/partner report c=1 at {s['partners']:,}: p99 under Slack's 3 s", ours["p99"] < 3000,
                        f"p50 {ours['p50']:.0f} ms, p99 {ours['p99']:.0f} ms"))
    big = [s for s in sizes if s["partners"] >= 50_000]
    digest = next((j for s in big for j in s["jobs"] if j["job"] == "kpi-digest" and "error" not in j), None)
    out.append(("kpi-digest at 50,000 partners ≤ 3 s", digest["seconds"] <= 3 if digest else None,
                f"{digest['seconds']:.2f} s" if digest else "50k not measured"))
    if len(sizes) > 1:
        counts = {}
        for s in sizes:
            for j in s["jobs"]:
                if "error" not in j:
                    counts.setdefault(j["job"], []).append(j["selects"])
        grew = [f"{k} {'→'.join(map(str, v))}" for k, v in counts.items() if len(set(v)) > 1]
        out.append(("SELECT statements per job flat across sizes", not grew, "; ".join(grew) or "same at every size"))
    for s in sizes:
        out.append((f"serving RSS ≤ 150 MB after the load at {s['partners']:,}", s["rss"] <= 150,
                    f"{s['rss']:.0f} MB (peak {s['peak']:.0f} MB)"))
    return out


def markdown(runs: dict[str, list[dict]], *, workers: int, threads: str) -> str:
    cores = os.cpu_count()
    lines = [f"# partnerbot benchmark — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "",
             f"{cores} cores ({platform.processor() or platform.machine()}, Python {platform.python_version()}), "
             f"`serve --workers {workers}`, server threads {threads}. The machine is shared with other work: figures are noisy; "
             "compare ratios within one run (ours and the bare Bolt app run side by side, one after the other).", "",
             "Latency: from sending the signed request until the reply reaches Slack (the HTTP response when the reply is "
             "in the ack, else the response_url post; for App Home the views.publish call, matched to requests in arrival "
             "order). Server CPU: user+system time of the serving process(es) from /proc over the window, per request. "
             "DB server CPU: PostgreSQL's backends serving the bench database (SQLite runs inside the server). "
             "Bench CPU: the load generator and the Slack stand-in together, per request.", ""]
    for backend, sizes in runs.items():
        for s in sizes:
            lines += [f"## {backend}, {s['partners']:,} partners", ""] + load_table(s) + [""]
        lines += [f"## {backend}: jobs", ""] + job_table(sizes) + [""]
        lines += [f"## {backend}: /partner report", ""] + report_table(sizes) + [""]
        lines += [f"## {backend}: seeding and memory", "", "| partners | seeding s | how | RSS after load MB | peak MB |",
                  "|---|---|---|---|---|"]
        lines += [f"| {s['partners']:,} | {s['seed_s']:.1f} | {s['seed_how']} | {s['rss']:.0f} | {s['peak']:.0f} |" for s in sizes] + [""]
        lines += [f"## {backend}: goals of issue #14", ""]
        lines += [f"- {'met' if met else 'NOT MET' if met is False else 'not measured'}: {goal} — {evidence}"
                  for goal, met, evidence in goals(sizes)] + [""]
    return "\n".join(lines)
