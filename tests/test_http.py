"""HTTP mode edges: signatures, replays, health, unknown paths."""

import time
import urllib.parse

import pytest
from sqlalchemy import func, select

from storage.db import unit_of_work
from storage.models import Partner
from tests.conftest import texts, sign


@pytest.fixture
def slack_app(slack_http):
    """These tests are about the HTTP door: the app behind real waitress."""
    return slack_http


def form(text):
    return urllib.parse.urlencode(
        {"command": "/partner", "text": text, "user_id": "UOWNER1", "team_id": "T0TEAM",
         "channel_id": "C1", "response_url": "http://127.0.0.1:9/none", "trigger_id": "t"}
    ).encode()


def partners():
    with unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(Partner))


def test_bad_signature_is_401_and_writes_nothing(slack_app):
    body = form("add Acme type:channel")
    headers = {**sign(body, secret="wrong-secret"), "Content-Type": "application/x-www-form-urlencoded"}
    response = slack_app.http.post(slack_app.url + "/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    assert partners() == 0


def test_stale_timestamp_is_401(slack_app):
    body = form("add Acme type:channel")
    headers = {**sign(body, timestamp=int(time.time()) - 301), "Content-Type": "application/x-www-form-urlencoded"}
    response = slack_app.http.post(slack_app.url + "/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    assert partners() == 0


def test_body_altered_after_signing_is_401(slack_app):
    headers = {**sign(form("help")), "Content-Type": "application/x-www-form-urlencoded"}
    response = slack_app.http.post(slack_app.url + "/slack/events", content=form("add Evil type:channel"), headers=headers)
    assert response.status_code == 401
    assert partners() == 0


def test_missing_signature_headers_is_401(slack_app):
    response = slack_app.http.post(
        slack_app.url + "/slack/events", content=form("add Acme type:channel"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401
    assert partners() == 0


def test_healthz_reports_database(slack_app):
    response = slack_app.http.get(slack_app.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": "ok"}


def test_unknown_path_is_404_and_get_events_is_405(slack_app):
    assert slack_app.http.get(slack_app.url + "/nope").status_code == 404
    assert slack_app.http.get(slack_app.url + "/slack/events").status_code == 405


def test_url_verification_challenge(slack_app):
    import json

    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode()
    response = slack_app.post(body, "application/json")
    assert response.status_code == 200
    assert "abc123" in response.text


def test_read_only_reply_rides_the_ack_and_a_write_answers_at_the_response_url(slack_app):
    slack_app.command("help")  # the first command learns who the caller is (users.info)
    response, url = slack_app.slash("help")
    assert response.status_code == 200 and response.json()["response_type"] == "ephemeral"
    assert "/partner status" in texts(response.json()["blocks"])
    assert not [c for c in slack_app.fake.responses() if c.path.endswith(url.rsplit("/", 1)[1])]
    response, url = slack_app.slash("add Acme type:channel")
    assert response.status_code == 200 and response.text == ""
    assert "Added" in slack_app.reply_to(url)["text"]


def test_serve_with_two_worker_processes(fake_slack, tmp_path):
    """`partnerbot serve --workers 2` answers signed commands from either worker."""
    import os
    import socket
    import subprocess
    import sys

    import httpx

    from tests.conftest import BOT_TOKEN, SIGNING_SECRET

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake_slack.reset()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERBOT_", "DATABASE_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/w.db", SLACK_API_URL=fake_slack.api_url, SLACK_BOT_TOKEN=BOT_TOKEN,
               SLACK_SIGNING_SECRET=SIGNING_SECRET)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--workers", "2", "--no-scheduler", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        urls = []
        for n in range(6):
            url = fake_slack.new_response_url()
            urls.append(url)
            body = urllib.parse.urlencode({"command": "/partner", "text": f"add W{n} type:channel", "user_id": "UOWNER1",
                                           "team_id": "T0TEAM", "channel_id": "C1", "response_url": url, "trigger_id": "t"}).encode()
            response = httpx.post(base + "/slack/events", content=body,
                                  headers={**sign(body), "Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
            assert response.status_code == 200
        replies = fake_slack.wait_for_responses(6, timeout=20)
        assert sorted(r.args["text"] for r in replies) == [f"Added W{n}." for n in range(6)]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_with_scheduler_stops_cleanly_on_sigterm(fake_slack, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    import httpx

    from tests.conftest import BOT_TOKEN, SIGNING_SECRET

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERBOT_", "DATABASE_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/s.db", SLACK_API_URL=fake_slack.api_url, SLACK_BOT_TOKEN=BOT_TOKEN,
               SLACK_SIGNING_SECRET=SIGNING_SECRET)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    time.sleep(1)  # the scheduler's start-up catch-up runs meanwhile
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr[-2000:]
    assert "scheduler started" in stderr and "shutting down" in stderr
    assert "Traceback" not in stderr
