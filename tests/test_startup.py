"""Starting partnerbot: the line that matters comes first, every settings problem
is named at once with what to do, and the demo's jobs can be seen offline."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests import cli
from tests.conftest import BOT_TOKEN, SIGNING_SECRET


def test_serve_start_up_shows_only_partnerbot_lines(fake_slack, tmp_path):
    """A fresh database and the scheduler: no Alembic, APScheduler or Bolt chatter
    around "serving on" (the scheduler's catch-up of missed runs may log first)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.db", SLACK_API_URL=fake_slack.api_url,
                       SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    lines = stderr.strip().splitlines()
    assert any(line.endswith(f"INFO partnerbot: partnerbot serving on http://127.0.0.1:{port}/slack/events") for line in lines), stderr
    noisy = [line for line in lines if " partnerbot" not in (line.split(":", 3)[-2] if line.count(":") >= 3 else line)]
    assert noisy == [], stderr
    assert "alembic" not in stderr.lower() and "apscheduler" not in stderr and "`token` will be unused" not in stderr


def test_migrations_log_nothing_at_info(tmp_path, caplog):
    from storage import db

    caplog.set_level(logging.INFO)
    try:
        db.upgrade(f"sqlite:///{tmp_path}/m.db")
    finally:
        db.configure("sqlite://")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []


def test_serve_without_secrets_names_every_missing_one_with_where_to_get_it(tmp_path):
    result = cli.run("serve", env=cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/x.db"), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "partnerbot: 2 problems with the settings (environment or .env):"
    assert lines[1].strip().startswith("setting SLACK_BOT_TOKEN: required for this command")
    assert "OAuth & Permissions" in lines[1]
    assert lines[2].strip().startswith("setting SLACK_SIGNING_SECRET: required for this command")
    assert "Basic Information" in lines[2]
    assert len(lines) == 3 and "Traceback" not in result.stderr


def test_every_malformed_setting_is_named_at_once(tmp_path):
    env = cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/x.db", PARTNERBOT_STALL_DAYS="soon",
                       PARTNERBOT_TIMEZONE="Mars/Olympus", PARTNERBOT_DIGEST_CHANNEL="#partners")
    result = cli.run("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "partnerbot: 3 problems with the settings (environment or .env):"
    assert sorted(line.strip() for line in lines[1:]) == [
        "setting PARTNERBOT_DIGEST_CHANNEL: must be a channel ID like C0123ABCD (not a #name)",
        "setting PARTNERBOT_STALL_DAYS: must be a whole number from 1 to 365",
        "setting PARTNERBOT_TIMEZONE: unknown time zone 'Mars/Olympus' (use an IANA name like Europe/Berlin)",
    ]
    assert not (tmp_path / "x.db").exists()


def test_one_malformed_setting_stays_one_line_saying_what_it_must_be(tmp_path):
    env = cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/x.db", PARTNERBOT_FISCAL_YEAR_START="13")
    result = cli.run("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "partnerbot: setting PARTNERBOT_FISCAL_YEAR_START: must be a whole number from 1 to 12\n"


def test_unreachable_slack_is_one_line(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    env = cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/x.db", SLACK_API_URL=f"http://127.0.0.1:{closed}/api/",
                       SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    result = cli.run("serve", "--port", "0", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"partnerbot: cannot reach Slack at http://127.0.0.1:{closed}/api/ ([Errno 111] Connection refused); "
        "check the network or SLACK_API_URL"]


def test_demo_digest_and_jobs_are_visible_offline(tmp_path):
    """`jobs run NAME --demo`: the demo workspace (never DATABASE_URL), its digest
    channel, the digest with its chart's description; other jobs run the same way."""
    env = cli.base_env()
    digest = cli.run("jobs", "run", "kpi-digest", "--demo", env=env, cwd=tmp_path)
    assert digest.returncode == 0, digest.stderr
    assert "2 messages (dry run: nothing sent or recorded)" in digest.stdout
    assert "→ #C0PARTNERS [digest ·" in digest.stdout
    assert "Quarter to date" in digest.stdout and "Top partners by revenue" in digest.stdout
    assert "• @alex · " in digest.stdout and "@U0DEMO1" not in digest.stdout  # the demo's people by name, as in the console
    assert "→ #C0PARTNERS (in thread) [chart ·" in digest.stdout
    assert ": Quarter-to-date attainment" in digest.stdout
    assert "not set" not in digest.stdout
    assert (tmp_path / "partnerbot-demo.db").exists() and not (tmp_path / "partnerbot.db").exists()

    escalations = cli.run("jobs", "run", "request-escalations", "--demo", env=env, cwd=tmp_path)
    assert escalations.returncode == 0, escalations.stderr
    assert "(dry run: nothing sent or recorded)" in escalations.stdout
    assert "[Claim]" in escalations.stdout
    assert not (tmp_path / "partnerbot.db").exists()


def _partnerbot_run(fake_slack, tmp_path, app_token: str) -> subprocess.Popen:
    env = cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.db", SLACK_API_URL=fake_slack.api_url,
                       SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=app_token)
    return subprocess.Popen([sys.executable, "-m", "bot", "run", "--no-scheduler"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_run_says_connected_first_and_only_once_connected(fake_slack, tmp_path):
    from tests.fake_socket_mode import FakeSocketMode

    with FakeSocketMode() as server:
        fake_slack.socket_mode_url = server.url
        proc = _partnerbot_run(fake_slack, tmp_path, fake_slack.app_token)
        try:
            server.wait_connected(timeout=60)
            deadline = time.time() + 10  # the log line follows the connection
            while time.time() < deadline and os.path.getsize(tmp_path / "fresh.db") == 0:
                time.sleep(0.1)
            time.sleep(0.5)
        finally:
            proc.send_signal(signal.SIGTERM)
            server.hang_up()
            stdout, stderr = proc.communicate(timeout=30)
            fake_slack.socket_mode_url = None
    lines = stderr.strip().splitlines()
    assert "partnerbot connected in Socket Mode; Ctrl-C stops it" in lines[0], stderr
    assert stdout == ""  # no "Bolt app is running!" banner
    assert all(" partnerbot" in line.split(":", 3)[-2] for line in lines), stderr


def test_run_with_a_refused_app_token_is_one_line_and_never_says_connected(fake_slack, tmp_path):
    proc = _partnerbot_run(fake_slack, tmp_path, "xapp-refused-000")
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert stderr.strip().splitlines() == [
        "partnerbot: Slack refused SLACK_APP_TOKEN (invalid_auth); create an app-level token with the "
        "connections:write scope (Basic Information → App-Level Tokens) and make sure Socket Mode is on"]
    assert stdout == ""


def test_missing_secrets_and_malformed_settings_are_named_together(tmp_path):
    env = cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/x.db", SLACK_BOT_TOKEN=BOT_TOKEN, PARTNERBOT_TIMEZONE="CET+1")
    result = cli.run("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = [line.strip() for line in result.stderr.strip().splitlines()]
    assert lines[0] == "partnerbot: 2 problems with the settings (environment or .env):"
    assert lines[1].startswith("setting PARTNERBOT_TIMEZONE: unknown time zone")
    assert lines[2].startswith("setting SLACK_SIGNING_SECRET: required for this command; put the Signing Secret")
    assert BOT_TOKEN not in result.stderr + result.stdout
