"""Settings: one clear line per problem, exit 2, secrets never printed."""

import subprocess
import sys

import pytest

from core.settings import SettingsError
from tests.conftest import make_settings


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("PARTNERBOT_ROUTES", "{legal: C1}", "setting PARTNERBOT_ROUTES: must be JSON"),
        ("PARTNERBOT_ROUTES", '{"legal":"#legal"}', "channel ID"),
        ("PARTNERBOT_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("PARTNERBOT_STALL_DAYS", "soon", "setting PARTNERBOT_STALL_DAYS"),
        ("PARTNERBOT_DIGEST_SCHEDULE", "someday", "weekday and a time"),
        ("PARTNERBOT_ADMINS", "alice", "not a Slack user ID"),
        ("PARTNERBOT_FISCAL_YEAR_START", "13", "setting PARTNERBOT_FISCAL_YEAR_START"),
        ("PARTNERBOT_DIGEST_CHANNEL", "#partners", "channel ID"),
        ("DATABASE_URL", "not a url", "setting DATABASE_URL"),
    ],
)
def test_malformed_setting_names_the_variable(name, value, expected):
    with pytest.raises(SettingsError) as info:
        make_settings(**{name: value})
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_valid_settings_parse():
    s = make_settings(PARTNERBOT_ROUTES='{"legal":"C0LEGAL"}', PARTNERBOT_ADMINS="U1AAA, U2BBB",
                      PARTNERBOT_DIGEST_SCHEDULE="Monday 9:30")
    assert s.routes == {"legal": "C0LEGAL"}
    assert s.admins == ["U1AAA", "U2BBB"]
    assert s.digest_schedule == "mon 09:30"


def run_cli(*args, env, cwd=None):
    import os

    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERBOT_", "DATABASE_URL"))}
    full_env.update(env)
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=full_env, timeout=60, cwd=cwd)


def test_cli_reports_bad_setting_in_one_line_exit_2(tmp_path):
    from tests import cli

    result = cli.run("db", "upgrade", env=cli.base_env(PARTNERBOT_STALL_DAYS="-3", DATABASE_URL=f"sqlite:///{tmp_path}/x.db"),
                     cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("partnerbot: setting PARTNERBOT_STALL_DAYS")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_serve_without_signing_secret_exits_2_without_leaking_token(tmp_path):
    token = "xoxb-super-secret-token-value"
    result = run_cli("serve", env={"SLACK_BOT_TOKEN": token, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr
    assert token not in result.stderr + result.stdout


def test_serve_with_a_token_slack_refuses_says_so_in_one_line(tmp_path, fake_slack):
    result = run_cli("serve", "--port", "0", env={"SLACK_BOT_TOKEN": "xoxb-wrong-token-000", "SLACK_SIGNING_SECRET": "s3cret-value",
                                                  "SLACK_API_URL": fake_slack.api_url, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
                     cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "partnerbot: Slack refused SLACK_BOT_TOKEN (invalid_auth); copy the Bot User OAuth Token again")
    assert "Traceback" not in result.stderr and "xoxb-wrong-token-000" not in result.stderr + result.stdout
