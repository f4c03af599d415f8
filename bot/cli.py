"""`partnerbot` command line (SPEC §4): the argument parser and `main`. The
subcommands live in bot/cli_serve.py (run, serve, scheduler), bot/cli_jobs.py
(jobs, sync) and bot/cli_data.py (db, console, demo, import, export, report, manifest);
bot/cli_common.py has what they share."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from core.redact import setup_logging
from core.settings import SettingsError, get_settings
from bot.cli_common import CommandError, database_problem, settings_for
from bot.cli_data import cmd_console, cmd_db, cmd_demo, cmd_export, cmd_import, cmd_manifest, cmd_report
from bot.cli_jobs import cmd_jobs_list, cmd_jobs_run, cmd_sync
from bot.cli_serve import cmd_run, cmd_scheduler, cmd_serve

Subparsers = argparse._SubParsersAction  # what add_subparsers returns


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="partnerbot", description="Slack chat-ops bot for partnership teams.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_processes, _add_jobs, _add_sync, _add_database, _add_transfer, _add_manifest):
        add(sub)
    return p


def _add_processes(sub: Subparsers) -> None:
    run = sub.add_parser("run", help="Socket Mode bot + scheduler (offline console on demo data without tokens)")
    run.add_argument("--no-scheduler", action="store_true", help="do not run scheduled jobs in this process")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="HTTP mode: POST /slack/events, GET /healthz")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run scheduled jobs in this process")
    serve.add_argument("--workers", type=int, default=1, help="web worker processes (default 1; the scheduler still runs once)")
    serve.set_defaults(func=cmd_serve, requires=("slack_bot_token", "slack_signing_secret"))

    sub.add_parser("scheduler", help="the scheduled jobs alone (for split web/jobs deployments)").set_defaults(
        func=cmd_scheduler, requires=("slack_bot_token",))


def _add_jobs(sub: Subparsers) -> None:
    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    jobs_sub.add_parser("list", help="jobs, schedules, next run times").set_defaults(func=cmd_jobs_list)
    jobs_run = jobs_sub.add_parser("run", help="run one job once now (or as of --at)")
    jobs_run.add_argument("name")
    jobs_run.add_argument("--at", help="evaluate as of this ISO-8601 time (team time zone if none given)")
    jobs_run.add_argument("--dry-run", action="store_true", help="print the messages instead of posting (no ledger)")
    jobs_run.add_argument("--demo", action="store_true",
                          help="on the offline demo workspace (partnerbot-demo.db, as `make run` without tokens); implies --dry-run")
    jobs_run.set_defaults(func=cmd_jobs_run)


def _add_sync(sub: Subparsers) -> None:
    sync = sub.add_parser("sync", help="pull KPI actuals from the configured CRM")
    sync_sub = sync.add_subparsers(dest="sync_what", required=True, metavar="WHAT")
    sync_crm = sync_sub.add_parser("crm", help="closed-won deals → revenue and deals KPIs")
    sync_crm.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    sync_crm.add_argument("--overwrite", action="store_true", help="also delete manual values of the synced months")
    sync_crm.add_argument("--since", help="sync from this date (default: the previous fiscal quarter)")
    sync_crm.set_defaults(func=cmd_sync)


def _add_database(sub: Subparsers) -> None:
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db)

    console = sub.add_parser("console", help="offline REPL: type /partner lines")
    console.add_argument("--user", default="U0CONSOLE", help="Slack user ID to act as (default U0CONSOLE)")
    console.set_defaults(func=cmd_console)

    demo = sub.add_parser("demo", help="seed a demo workspace into DATABASE_URL")
    demo.add_argument("--partners", type=int, default=12)
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=cmd_demo)


def _add_transfer(sub: Subparsers) -> None:
    imp = sub.add_parser("import", help="bulk import from CSV")
    imp_sub = imp.add_subparsers(dest="what", required=True, metavar="WHAT")
    imp_partners = imp_sub.add_parser("partners", help="CSV header: name,type,tier,owner,stage")
    imp_partners.add_argument("file")
    imp_partners.add_argument("--update", action="store_true",
                              help="update partners whose name exists (type, tier, owner, stage) instead of refusing them")
    imp_partners.add_argument("--allow-similar", action="store_true",
                              help="import names that start the same as another partner's (like Acme and Acme Labs)")
    imp_partners.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="bulk export to CSV (text that looks like a formula is prefixed with ')")
    exp.add_argument("what", choices=["partners", "interactions", "kpis", "deals", "requests"])
    exp.add_argument("file", nargs="?", help="default: standard output")
    exp.set_defaults(func=cmd_export)

    rep = sub.add_parser("report", help="the /partner report's figures as CSV (section,quarter,group,key,metric,measure,value)")
    rep.add_argument("quarter", nargs="?", help="a fiscal quarter like 2026-Q3 (default: this one)")
    rep.add_argument("--owner", metavar="USER_ID", help="only this owner's partners (a Slack user ID like U0123ABCD)")
    rep.add_argument("--type", choices=["channel", "alliance", "technology"], help="only partners of this type")
    rep.add_argument("--tier", help="only partners of this tier (any case)")
    rep.add_argument("--csv", action="store_true", required=True, help="print CSV on standard output (the only format)")
    rep.set_defaults(func=cmd_report)


def _add_manifest(sub: Subparsers) -> None:
    manifest = sub.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--http", metavar="URL",
                          help="public https base URL (or the full …/slack/events URL): print the HTTP-mode manifest")
    manifest.set_defaults(func=cmd_manifest, needs_settings=False)


def main(argv: Sequence[str] | None = None) -> int:
    from sqlalchemy.exc import OperationalError

    args = parser().parse_args(argv)
    try:
        settings = settings_for(args) if getattr(args, "needs_settings", True) else None
        if settings is not None:
            setup_logging(settings, logging.WARNING)  # every command; long-running ones raise the level
        code = args.func(args, settings)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except SettingsError as error:
        print(f"partnerbot: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"partnerbot: {error}", file=sys.stderr)
        return error.code
    except OperationalError as error:  # the database went away after start-up
        print(f"partnerbot: {database_problem(_database_url(), error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `partnerbot export … | head`: the reader left. Python's documented
        # recipe: point stdout at devnull so the exit-time flush stays quiet, and
        # exit as a process killed by SIGPIPE would (128 + 13).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _database_url() -> str:
    try:
        return get_settings().database_url
    except SettingsError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
