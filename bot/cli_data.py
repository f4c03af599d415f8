"""`partnerbot db`, `console`, `demo`, `import`, `export`, `report` and `manifest`: the
database and the files around it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.settings import Settings
from bot.cli_common import CommandError, prepare

DEMO_DATABASE = "sqlite:///partnerbot-demo.db"


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    prepare(settings)
    print("database is up to date")
    return 0


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import console

    prepare(settings)
    return console(settings, user_id=args.user)


def demo_console(settings: Settings) -> int:
    """The offline console on a seeded demo database (`run` without Slack tokens)."""
    from bot.console import DEMO_USER, Directory, console
    from storage import demo
    from storage.db import unit_of_work

    prepare(settings, DEMO_DATABASE)
    with unit_of_work() as session:
        if demo.is_empty(session=session):
            demo.seed(session=session, partners=12, seed=1)
    # In the demo you (@alex) are the admin who decides deal conflicts, and the three
    # default teams have channels; the demo's people and channels are typed by name.
    demo_settings = settings.model_copy(
        update={"admins": [demo.DEMO_ADMIN], "routes": settings.routes or dict(demo.DEMO_ROUTES)}
    )
    directory = Directory(people=dict(demo.DEMO_PEOPLE), channels=dict(demo.DEMO_CHANNELS),
                          connect=set(demo.DEMO_CONNECT.values()))
    return console(demo_settings, user_id=DEMO_USER, directory=directory)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from bot.progress import progress_bar
    from views.text import plural
    from storage import demo
    from storage.db import unit_of_work

    if args.partners < 1:
        raise CommandError("--partners must be at least 1")
    prepare(settings)
    started = time.perf_counter()
    with unit_of_work() as session:
        if not demo.is_empty(session=session):
            raise CommandError("the database already has partners; `partnerbot demo` only seeds an empty one")
        counts = demo.seed(session=session, partners=args.partners, seed=args.seed, on_progress=progress_bar("seeding"))
    print(
        f"seeded {plural(counts['partners'], 'partner')}, {plural(counts['interactions'], 'interaction')} and "
        f"{plural(counts['deals'], 'registered deal')} in {time.perf_counter() - started:.1f} s"
    )
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.transfer import ImportError_, import_partners
    from views.text import plural

    prepare(settings)
    try:
        created, updated = import_partners(Path(args.file), update_existing=args.update, allow_similar=args.allow_similar)
    except ImportError_ as error:
        raise CommandError(str(error)) from None
    print(f"imported {plural(created, 'partner')}" + (f", updated {updated:,}" if args.update else ""))
    return 0


def _writable(path: Path) -> None:
    """Refuse a path export cannot write, before the export starts."""
    if path.is_dir():
        raise CommandError(f"cannot export to {path}: it is a directory; name a file", code=2)
    folder = path.resolve().parent
    if not folder.is_dir():
        raise CommandError(f"cannot export to {path}: the directory {folder} does not exist", code=2)
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CommandError(f"cannot export to {path}: no permission to write there", code=2)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    import tempfile

    from bot.transfer import export
    from views.text import plural

    if args.file is not None:
        _writable(Path(args.file))
    prepare(settings)
    if args.file is None:
        try:
            export(args.what, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as error:  # a full disk behind a redirect, and the like
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit-time flush would fail again
            raise CommandError(f"cannot write the export to standard output: {error.strerror or error}", code=2) from None
        return 0
    path = Path(args.file)
    # Written beside the target and renamed when complete: a failed export
    # leaves no partial file (and never half-overwrites an older export).
    try:
        handle = tempfile.NamedTemporaryFile("w", newline="", encoding="utf-8", dir=path.resolve().parent,
                                             prefix=f".{path.name}.", suffix=".part", delete=False)
    except OSError as error:
        raise CommandError(f"cannot export to {path}: {error.strerror}", code=2) from None
    try:
        with handle:
            count = export(args.what, handle)
        os.chmod(handle.name, 0o644 & ~_umask())
        os.replace(handle.name, path)
    except BaseException as error:
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, BrokenPipeError):
            raise CommandError(f"cannot export to {path}: {error.strerror or error}", code=2) from None
        raise
    print(f"exported {plural(count, args.what.removesuffix('s'))} to {path}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """The `/partner report` figures (storage/report.py, the same as in Slack) as one CSV on stdout."""
    import csv
    from datetime import datetime, timezone

    from bot.transfer import cell
    from commands.dates import period
    from commands.errors import UserError
    from core.settings import SLACK_USER_ID
    from storage import report
    from storage.db import unit_of_work
    from storage.periods import local_today, month_of, quarter_of

    now = datetime.now(timezone.utc)
    fiscal_start, zone = settings.fiscal_year_start, settings.zone
    current = quarter_of(month_of(local_today(now, zone)), fiscal_start=fiscal_start)
    quarter = current
    if args.quarter:
        try:
            quarter = period(args.quarter)
        except UserError:
            quarter = ""
        if "Q" not in quarter:
            raise CommandError(f"{args.quarter!r} is not a quarter: give one like {current}", code=2)
    if args.owner and not SLACK_USER_ID.match(args.owner):
        raise CommandError(f"--owner takes a Slack user ID like U0123ABCD, not {args.owner!r}", code=2)
    _, start, _ = report.quarter_span(quarter, fiscal_start=fiscal_start, zone=zone)
    if start > now:
        raise CommandError(f"{quarter} has not started yet; this quarter is {current}", code=2)
    prepare(settings)
    filters = report.Filters(owner_id=args.owner, type=args.type, tier=args.tier.strip() if args.tier else None)
    with unit_of_work(read_only=True) as session:
        found = report.build(session, quarter=quarter, now=now, settings=settings, filters=filters)
    writer = csv.writer(sys.stdout)
    writer.writerow(report.HEADER)
    writer.writerows([cell(value) for value in row] for row in report.flat(found))
    return 0


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def cmd_manifest(args: argparse.Namespace, settings: Settings | None) -> int:
    from bot.manifest import dump_manifest, http_manifest, load_manifest

    try:
        manifest = http_manifest(args.http) if args.http is not None else load_manifest()
    except ValueError as error:
        raise CommandError(str(error), code=2) from None
    print(dump_manifest(manifest), end="")
    return 0
