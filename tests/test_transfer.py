"""Data in and out through the real `partnerbot` command line: CSV import and
export (formula-safe, --update, deals and requests), closed pipes, bad paths,
an unreachable database, `manifest --http`, and a demo workspace whose digest
agrees with itself."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.cli import base_env
from tests.cli import run as cli

CLI = [sys.executable, "-m", "bot"]  # for what needs a real process: signals, closed pipes, /dev/full


@pytest.fixture
def workspace(tmp_path):
    """A migrated SQLite file (through `partnerbot db upgrade`) and the env that names it."""
    db = tmp_path / "cli.db"
    env = base_env(DATABASE_URL=f"sqlite:///{db}")
    result = cli("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path, env, db


def query(db: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def write_partners(path: Path, rows: list[list[str]], header: str = "name,type,tier,owner,stage") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header.split(","))
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- item 17: an unreachable database, bad export paths -----------------------------------

SLACK = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_APP_TOKEN": "xapp-test-token",
         "SLACK_SIGNING_SECRET": "test-signing-secret-0123456789", "SLACK_API_URL": "http://127.0.0.1:9/api/"}
COMMANDS = [["run"], ["serve", "--port", "0"], ["scheduler"], ["console"], ["db", "upgrade"], ["import", "partners", "p.csv"],
            ["export", "partners"], ["demo"], ["jobs", "run", "kpi-digest", "--dry-run"]]


@pytest.mark.parametrize("url, named, commands", [
    ("postgresql+psycopg://scott:tiger-secret@127.0.0.1:1/nope", "postgresql+psycopg://scott:***@127.0.0.1:1/nope", COMMANDS),
    ("sqlite:///{tmp}/missing/dir/partnerbot.db", "missing/dir does not exist", [["serve"], ["db", "upgrade"], ["export", "kpis"]]),
])
def test_unreachable_database_is_one_line_and_exit_2(tmp_path, url, named, commands):
    write_partners(tmp_path / "p.csv", [["Acme", "channel", "", "U0AAA", ""]])
    env = base_env(DATABASE_URL=url.format(tmp=tmp_path), **SLACK)
    # Each stops at the database check, before any signal handler or server; `serve` runs
    # as a real process too, to see the installed entry point refuse the same way.
    serving = {"serve"}
    running = [(command, subprocess.Popen([*CLI, *command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path))
               for command in commands if command[0] in serving]
    results = [(command, cli(*command, env=env, cwd=tmp_path)) for command in commands if command[0] not in serving]
    for command, process in running:
        stdout, stderr = process.communicate(timeout=120)
        results.append((command, subprocess.CompletedProcess(command, process.returncode, stdout, stderr)))
    assert len(results) == len(commands)
    for command, result in results:
        line = one_line(result.stderr)
        assert result.returncode == 2, (command, result.stderr)
        assert named in line and "DATABASE_URL" in line, (command, line)
        assert "tiger-secret" not in result.stderr + result.stdout
        assert result.stdout == ""


def test_export_to_a_bad_path_is_one_line_exit_2_and_writes_nothing(workspace):
    folder, env, _ = workspace
    (folder / "adir").mkdir()
    before = sorted(p.name for p in folder.iterdir())
    for target, says in [(folder / "missing" / "p.csv", "does not exist"), (folder / "adir", "is a directory")]:
        result = cli("export", "partners", str(target), env=env, cwd=folder)
        assert result.returncode == 2, result.stderr
        assert says in one_line(result.stderr)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert list((folder / "adir").iterdir()) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_export_to_a_full_disk_is_one_line_exit_2(workspace):
    folder, env, _ = workspace
    with open("/dev/full", "w") as full:
        result = subprocess.run([*CLI, "export", "partners"], stdout=full, stderr=subprocess.PIPE, text=True, env=env,
                                cwd=folder, timeout=120)
    assert result.returncode == 2
    assert "No space left on device" in one_line(result.stderr)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere; permissions cannot be tested as root")
def test_export_without_permission_is_one_line_exit_2(workspace):
    folder, env, _ = workspace
    locked = folder / "locked"
    locked.mkdir(mode=0o500)
    result = cli("export", "partners", str(locked / "p.csv"), env=env, cwd=folder)
    assert result.returncode == 2
    assert "no permission" in one_line(result.stderr)
    assert list(locked.iterdir()) == []


# --- a reader that leaves early (`| head`) ------------------------------------------------

def close_after_one_line(args: list[str], env, cwd, stdin: str | None = None) -> tuple[str, str, int]:
    process = subprocess.Popen([*CLI, *args], stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True)
    if stdin:
        process.stdin.write(stdin)
        process.stdin.close()
    first = process.stdout.readline()
    process.stdout.close()  # like `head -1`: the reader is gone
    stderr = process.stderr.read()
    process.stderr.close()
    return first, stderr, process.wait(timeout=120)


def test_export_and_console_into_a_closed_pipe_exit_quietly(workspace):
    folder, env, _ = workspace
    # Enough rows to overflow a pipe's 64 KiB buffer, so the reader leaves mid-write.
    assert cli("demo", "--partners", "120", env=env, cwd=folder).returncode == 0
    first, stderr, code = close_after_one_line(["export", "interactions"], env, folder)
    assert first.startswith("partner,kind,summary")
    assert stderr == "" and code in (0, 141)
    first, stderr, code = close_after_one_line(["console", "--user", "U0DEMO1"], env, folder, stdin="status\n" * 60)
    assert first.startswith("/partner status")
    assert stderr == "" and code in (0, 141)


# --- manifest --http ------------------------------------------------------------------------

@pytest.mark.parametrize("given", ["https://partners.example.com", "https://partners.example.com/",
                                   "https://partners.example.com/slack/events", "https://partners.example.com/slack/events/"])
def test_manifest_takes_a_base_or_the_full_events_url(tmp_path, given):
    import yaml

    result = cli("manifest", "--http", given, env=base_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    assert manifest["settings"]["event_subscriptions"]["request_url"] == "https://partners.example.com/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {"https://partners.example.com/slack/events"}


@pytest.mark.parametrize("given", ["", "  ", "http://partners.example.com", "partners.example.com", "https://",
                                   "https://partners.example.com/hooks", "https://partners.example.com/slack/events/slack/events",
                                   "https://partners.example.com/?x=1", "https://user:pw@partners.example.com",
                                   # issue 12 item 16: the wording says public, so private and loopback hosts are refused
                                   "https://10.0.0.1", "https://127.0.0.1:8443", "https://localhost", "https://[::1]",
                                   "https://192.168.1.5/slack/events", "https://169.254.169.254"])
def test_manifest_refuses_anything_else_in_one_line(tmp_path, given):
    result = cli("manifest", "--http", given, env=base_env(), cwd=tmp_path)
    assert result.returncode == 2
    assert "--http" in one_line(result.stderr)
    assert result.stdout == ""


# --- import ---------------------------------------------------------------------------------

def test_import_says_how_many_rows_are_bad_in_all(workspace):
    folder, env, db = workspace
    rows = [["Good Partner", "channel", "", "U0AAA", ""]] + [[f"Bad {i}", "reseller", "", "U0AAA", ""] for i in range(30)]
    result = cli("import", "partners", str(write_partners(folder / "p.csv", rows)), env=env, cwd=folder)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "line 3: type must be channel, alliance or technology" in result.stderr
    assert "line 12:" in result.stderr and "line 13:" not in result.stderr
    assert "… and 20 more bad rows (30 in all); nothing was imported" in result.stderr
    assert query(db, "select count(*) from partners") == [(0,)]


def test_import_one_partner_is_singular(workspace):
    folder, env, _ = workspace
    result = cli("import", "partners", str(write_partners(folder / "p.csv", [["Acme", "channel", "", "U0AAA", ""]])), env=env, cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported 1 partner"


def test_export_edit_and_import_update_round_trip(workspace):
    folder, env, db = workspace
    path = write_partners(folder / "p.csv", [["Acme Corp", "channel", "Gold", "U0AAA", "active"],
                                             ["Hooli", "technology", "", "U0BBB", "onboarding"]])
    assert cli("import", "partners", str(path), env=env, cwd=folder).returncode == 0
    exported = folder / "partners.csv"
    assert cli("export", "partners", str(exported), env=env, cwd=folder).returncode == 0
    rows = read_csv(exported.read_text(encoding="utf-8"))
    header = list(rows[0])
    assert {"created_at", "archived"} <= set(header)  # extra columns the import must accept
    rows[0].update(tier="Platinum", stage="at-risk", owner="U0CCC")
    with exported.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)

    refused = cli("import", "partners", str(exported), env=env, cwd=folder)
    assert refused.returncode == 1
    assert "line 2: Acme Corp already exists; use --update" in refused.stderr

    updated = cli("import", "partners", str(exported), "--update", env=env, cwd=folder)
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.strip() == "imported 0 partners, updated 1"

    after = read_csv(cli("export", "partners", env=env, cwd=folder).stdout)
    assert [(r["name"], r["tier"], r["stage"], r["owner"]) for r in after] == [
        ("Acme Corp", "Platinum", "at-risk", "U0CCC"), ("Hooli", "", "onboarding", "U0BBB")]


FORMULAS = ["=1+2 Partners", "@SUM(1)", "+Plus Partners", "-Minus Partners", "'=Quoted Partners", "Plain Partners"]


def test_formula_cells_are_text_in_exports_and_import_back_unchanged(workspace, tmp_path_factory):
    folder, env, db = workspace
    # Written raw (no leading quotes), as a person would type them in a spreadsheet of names.
    path = write_partners(folder / "raw.csv", [[name.replace("'", "''", 1) if name.startswith("'") else name,
                                                "channel", "=cmd|' /C calc'!A0", "U0AAA", ""] for name in FORMULAS])
    assert cli("import", "partners", str(path), env=env, cwd=folder).returncode == 0
    assert sorted(n for (n,) in query(db, "select name from partners")) == sorted(FORMULAS)
    cli("console", "--user", "U0AAA", env=env, cwd=folder, input="log plain call =2+3 and -5 more\n")

    exported = folder / "partners.csv"
    assert cli("export", "partners", str(exported), env=env, cwd=folder).returncode == 0
    cells = [line.split(",")[0] for line in exported.read_text(encoding="utf-8").splitlines()[1:]]
    for cell in cells:  # no cell starts a formula in Excel, Numbers or Sheets
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "'=1+2 Partners" in cells and "'@SUM(1)" in cells and "''=Quoted Partners" in cells and "Plain Partners" in cells
    assert all(r["tier"] == "'=cmd|' /C calc'!A0" for r in read_csv(exported.read_text(encoding="utf-8")))
    summaries = [r["summary"] for r in read_csv(cli("export", "interactions", env=env, cwd=folder).stdout)]
    assert summaries == ["'=2+3 and -5 more"]

    # Into a fresh database: the same names, not the quoted ones.
    other = tmp_path_factory.mktemp("other")
    other_env = base_env(DATABASE_URL=f"sqlite:///{other}/other.db")
    result = cli("import", "partners", str(exported), env=other_env, cwd=other)
    assert result.returncode == 0, result.stderr
    assert sorted(n for (n,) in query(other / "other.db", "select name from partners")) == sorted(FORMULAS)
    assert {t for (t,) in query(other / "other.db", "select tier from partners")} == {"=cmd|' /C calc'!A0"}


# --- export deals and requests -------------------------------------------------------------

def test_export_deals_and_requests_with_archived_partners_marked(workspace):
    folder, env, db = workspace
    assert cli("demo", "--partners", "12", env=env, cwd=folder).returncode == 0
    deal_partner = query(db, "select p.id, p.name from partners p join deal_registrations d on d.partner_id = p.id limit 1")[0]
    request_partner = query(db, "select p.id, p.name from partners p join help_requests r on r.partner_id = p.id limit 1")[0]
    with sqlite3.connect(db) as connection:
        connection.execute("update partners set archived_at = '2026-01-01 00:00:00.000000' where id in (?, ?)",
                           (deal_partner[0], request_partner[0]))

    deals = cli("export", "deals", env=env, cwd=folder)
    assert deals.returncode == 0, deals.stderr
    rows = read_csv(deals.stdout)
    assert list(rows[0]) == ["id", "partner", "customer", "amount", "attribution", "status", "conflict_with", "registered_by",
                             "registered_at", "decided_by", "decided_at", "partner_archived"]
    assert len(rows) == query(db, "select count(*) from deal_registrations")[0][0]
    assert {r["partner_archived"] for r in rows if r["partner"] == deal_partner[1]} == {"yes"}
    assert {r["partner_archived"] for r in rows if r["partner"] != deal_partner[1]} == {""}

    requests = cli("export", "requests", env=env, cwd=folder)
    assert requests.returncode == 0, requests.stderr
    rows = read_csv(requests.stdout)
    assert list(rows[0])[:6] == ["id", "partner", "team", "request", "status", "requester"]
    assert len(rows) == query(db, "select count(*) from help_requests")[0][0]
    assert {r["partner_archived"] for r in rows if r["partner"] == request_partner[1]} == {"yes"}


# --- the demo workspace agrees with itself -------------------------------------------------

def digest_figures(output: str) -> dict[str, str]:
    figures = {}
    for line in output.splitlines():
        line = line.strip()
        for metric in ("revenue", "leads", "deals", "adoption (avg)"):
            if line.startswith(f"• *{metric}* "):
                figures[metric] = line.removeprefix(f"• *{metric}* ").split(" ")[0]
    return figures


def test_demo_digest_counts_registered_deals_and_has_kpi_history(workspace):
    from storage.periods import month_of, quarter_months, quarter_of

    folder, env, db = workspace
    assert cli("demo", "--partners", "30", env=env, cwd=folder).returncode == 0
    today = datetime.now(timezone.utc).date()
    # At the start of a month the digest reports the previous month: history must be there.
    for day in (today.replace(day=1), today):
        result = cli("jobs", "run", "kpi-digest", "--dry-run", "--at", f"{day.isoformat()}T09:00",
                     env={**env, "PARTNERBOT_DIGEST_CHANNEL": "C0DIGEST"}, cwd=folder)
        assert result.returncode == 0, result.stderr
        figures = digest_figures(result.stdout)
        week_start = day - timedelta(days=day.weekday() + 7)
        last_day = week_start + timedelta(days=6)
        months = [m for m in quarter_months(quarter_of(month_of(last_day))) if m <= month_of(last_day)]
        registered = query(db, f"select count(*) from deal_registrations where status in ('registered', 'approved') "
                               f"and substr(registered_at, 1, 7) in ({','.join('?' * len(months))})", *months)[0][0]
        assert registered > 0
        assert figures["deals"] == str(registered), result.stdout
        assert figures["adoption (avg)"] != "0%", result.stdout

    # Every metric has values for this quarter and the two before; targets too.
    recent, first = [], today.replace(day=1)
    for _ in range(7):
        recent.append(month_of(first))
        first = (first - timedelta(days=1)).replace(day=1)
    for metric in ("revenue", "leads", "adoption", "deals"):
        months = {m for (m,) in query(db, "select distinct month from kpi_values where metric = ?", metric)}
        # Deals are registered from the 2nd of a month on: none yet on the 1st.
        expected = set(recent[1:] if metric == "deals" and today.day < 3 else recent)
        assert expected <= months, (metric, sorted(months))
    quarters = {quarter_of(m) for m in recent}
    assert quarters <= {p for (p,) in query(db, "select distinct period from kpi_targets where metric = 'revenue'")}


# --- issue 12 item 1: the near-duplicate rule of `add` holds for import ---------------------

def test_import_refuses_a_partner_that_exists_under_the_match_key(workspace):
    folder, env, db = workspace
    assert cli("import", "partners", str(write_partners(folder / "a.csv", [["Acme Corp", "channel", "", "U0DEMO1", ""]])),
               env=env, cwd=folder).returncode == 0
    for rows in ([["acme", "channel", "", "U0DEMO1", ""]], [["ACME CORP.", "channel", "", "U0DEMO1", ""]]):
        result = cli("import", "partners", str(write_partners(folder / "p.csv", rows)), env=env, cwd=folder)
        assert result.returncode == 1, result.stdout
        assert f"line 2: {rows[0][0]} would be the same partner as Acme Corp (which exists)" in result.stderr
    assert query(db, "select name from partners") == [("Acme Corp",)]


def test_import_refuses_two_rows_that_are_one_partner_and_prefix_names_unless_allowed(workspace):
    folder, env, db = workspace
    rows = [["Globex", "channel", "", "U0DEMO1", ""], ["GLOBEX Inc.", "channel", "", "U0DEMO1", ""]]
    result = cli("import", "partners", str(write_partners(folder / "p.csv", rows)), env=env, cwd=folder)
    assert result.returncode == 1
    assert "line 3: GLOBEX Inc. would be the same partner as Globex on line 2" in result.stderr
    rows = [["Initech", "channel", "", "U0DEMO1", ""], ["Initech Labs", "alliance", "", "U0DEMO1", ""]]
    result = cli("import", "partners", str(write_partners(folder / "p.csv", rows)), env=env, cwd=folder)
    assert result.returncode == 1
    assert "line 3: Initech Labs starts the same as Initech on line 2" in result.stderr and "--allow-similar" in result.stderr
    assert query(db, "select count(*) from partners") == [(0,)]
    result = cli("import", "partners", "--allow-similar", str(folder / "p.csv"), env=env, cwd=folder)
    assert result.returncode == 0, result.stderr
    assert sorted(query(db, "select name from partners")) == [("Initech",), ("Initech Labs",)]
