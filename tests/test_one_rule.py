"""Rules kept once: what two surfaces show comes from one place, so they agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests import cli
from tests.conftest import make_settings, serve, texts

ROOT = Path(__file__).resolve().parent.parent


def test_partner_jobs_lists_the_jobs_the_cli_lists_in_its_order(fake_slack, database_url, tmp_path):
    """`/partner jobs` and `partnerbot jobs list` name the same jobs in the same order,
    the optional ones (CRM sync, webhooks) included when configured."""
    hooks = json.dumps([{"url": "https://hooks.example.com/x", "events": ["*"], "secret": "s" * 32}])
    crm = {"PARTNERBOT_CRM": "json", "PARTNERBOT_CRM_URL": "https://crm.example.com/deals", "PARTNERBOT_CRM_TOKEN": "tok"}
    settings = make_settings(DATABASE_URL=database_url, PARTNERBOT_WEBHOOKS=hooks, **crm)
    with serve(settings, fake_slack) as app:
        shown = re.findall(r"`([a-z-]+)` · never run", texts(app.command("jobs", user="UADMIN1")["blocks"]))

    env = cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/j.db", PARTNERBOT_WEBHOOKS=hooks, **crm)
    listed = cli.run("jobs", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    cli_names = [line.split()[0] for line in listed.stdout.splitlines()[1:] if line.strip()]
    assert "crm-sync" in cli_names and "webhook-delivery" in cli_names
    assert shown == cli_names


def test_read_only_subcommands_answer_while_a_writer_holds_the_lock(fake_slack, sqlite_template, tmp_path):
    """The subcommands marked READ_ONLY run in a read-only unit of work: on SQLite
    they answer while another process holds the write lock (nothing typed is help)."""
    import shutil
    import sqlite3

    from commands import SUBCOMMANDS
    from storage import db

    path = tmp_path / "busy.db"
    shutil.copy(sqlite_template, path)
    db.configure(f"sqlite:///{path}")
    readers = [word for word, module in SUBCOMMANDS.items() if getattr(module, "READ_ONLY", False)]
    assert set(readers) == {"help", "status", "list", "requests", "jobs", "history", "report"}
    with serve(make_settings(DATABASE_URL=f"sqlite:///{path}"), fake_slack) as app:
        app.command("add Acme type:channel", user="UADMIN1")
        writer = sqlite3.connect(path, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            for line in ["", *readers, "status acme", "history acme"]:
                reply = app.command(line, user="UADMIN1")
                assert "went wrong" not in reply["text"] and "locked" not in reply["text"], line
        finally:
            writer.execute("ROLLBACK")
            writer.close()


def test_typed_text_and_terminal_text_unescape_alike():
    """What the parser reads and what the console shows come from one unescaper:
    a user group, a link and entities read the same in both."""
    from commands.parser import slack_to_text
    from views.terminal import render

    raw = "ask <!subteam^S1|@legal> about R&amp;D &lt;terms&gt; <https://x.example/doc|the doc> <@U1|bob> <!here>"
    shown = render([{"type": "section", "text": {"type": "mrkdwn", "text": raw}}])
    assert shown == slack_to_text(raw) == "ask @legal about R&D <terms> the doc @bob @here"


def test_add_and_import_refuse_a_long_tier_alike(slack_app, tmp_path):
    """One tier rule: a 41-character tier is refused, with the same message, by
    `/partner add` (it used to be cut to 40) and by `partnerbot import partners`."""
    from tests.test_transfer import base_env, cli, write_partners

    tier = "Platinum-" + "x" * 32
    reply = slack_app.command(f"add Acme type:channel tier:{tier}", user="UOWNER1")
    message = "A tier can be at most 40 characters (this one has 41)."
    assert message in reply["text"]
    assert "Acme" not in texts(slack_app.command("list", user="UOWNER1")["blocks"])  # nothing saved
    assert "Added" in slack_app.command(f"add Acme type:channel tier:{tier[:40]}", user="UOWNER1")["text"]

    env = base_env(DATABASE_URL=f"sqlite:///{tmp_path}/import.db")
    assert cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    rows = [["Globex", "channel", tier, "U0AAA", ""]]
    result = cli("import", "partners", str(write_partners(tmp_path / "p.csv", rows)), env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert f"line 2: {message}" in result.stderr


def test_commands_build_no_block_kit_inline():
    """Block Kit is built in views/ (pure builders); a subcommand passes data to one.
    Fails on a `{"type": "section" | "actions" | …}` literal in commands/."""
    import ast

    kinds = {"section", "actions", "context", "header", "divider", "input", "button", "mrkdwn", "plain_text", "home", "modal"}
    found = []
    for path in sorted((ROOT / "commands").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if (isinstance(key, ast.Constant) and key.value == "type" and isinstance(value, ast.Constant)
                            and value.value in kinds):
                        found.append(f"{path.name}:{node.lineno}")
    assert found == []
