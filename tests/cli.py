"""The `partnerbot` command line run in this process: the same `bot.cli.main`
the console script calls, with the environment, working directory and stdin a
test gives and stdout/stderr captured, in a few milliseconds instead of a fresh
interpreter's second. Tests that need a real process (signals, closed pipes,
file descriptors, an installed copy) start one themselves."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from core import redact
from core.settings import get_settings
from storage import db as storage_db

MAIN = Path(__file__).resolve().parent.parent


def base_env(**extra: str) -> dict[str, str]:
    """Nothing from the developer's environment or .env: only what the test sets."""
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(MAIN), **extra}


def run(*args: str, env: Mapping[str, str], cwd: Path, input: str | None = None) -> subprocess.CompletedProcess:
    """`partnerbot ARGS` as a user would type it in `cwd` with exactly `env`; returns its exit code and output."""
    from bot.cli import main

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    root = logging.getLogger()
    saved_logging = list(root.handlers), root.level, logging.getLogRecordFactory(), redact._redactor, redact._installed
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(input or ""), out, err
    get_settings.cache_clear()
    try:
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's usage errors and --help
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        get_settings.cache_clear()
        root.handlers[:], level, factory, redact._redactor, redact._installed = saved_logging
        root.setLevel(level)
        logging.setLogRecordFactory(factory)
        storage_db.configure("sqlite://")  # let go of the command's database file
    return subprocess.CompletedProcess(["partnerbot", *args], code, out.getvalue(), err.getvalue())
