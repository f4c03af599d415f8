"""The offline console: `/partner …` lines in, replies rendered as terminal text.

Same handlers as Slack (`bot.dispatch.run_command`); only the rendering differs.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

from bot.dispatch import run_command
from views.terminal import plain, render
from core.settings import Settings
from commands import Caller
from core.messenger import Posted

DEMO_USER = "U0DEMO1"
PROMPT = "/partner "
_BANNER = """\
partnerbot console — type what you would after /partner (try: help, status, list).
You are {user}. Ctrl-D or `exit` quits.
"""




class ConsoleMessenger:
    """Slack as the console sees it: what the bot would post is printed."""

    def __init__(self, out: TextIO):
        self.out = out
        self.count = 0

    def _show(self, where: str, blocks: list[dict[str, Any]], text: str) -> None:
        body = render(blocks, text).replace("\n", "\n    ")
        print(f"  → {where}:\n    {body}", file=self.out)

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], *, thread_ts: str | None = None) -> Posted:
        self.count += 1
        target = f"DM to @{channel}" if channel.startswith(("U", "W")) else f"#{channel}"
        self._show(f"posted to {target}" + (" (in thread)" if thread_ts else ""), blocks, text)
        return Posted(True, channel=channel, ts=f"{self.count}.000000")

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Posted:
        self._show(f"updated the message in #{channel}", blocks, text)
        return Posted(True, channel=channel, ts=ts)

    def permalink(self, channel: str, ts: str) -> str | None:
        return None

    def ensure_member(self, channel: str) -> str | None:
        return None

    def shared_problem(self, channel: str) -> str | None:
        return None  # the demo workspace has no Slack Connect channels


def console(settings: Settings, *, user_id: str, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    interactive = stdin.isatty()
    if interactive:
        print(_BANNER.format(user=user_id), file=stdout)
    caller = Caller(user_id=user_id, channel_id="C0CONSOLE")
    slack = ConsoleMessenger(stdout)
    while True:
        if interactive:
            try:
                line = input(PROMPT)
            except EOFError:
                print(file=stdout)
                return 0
        else:
            line = stdin.readline()
            if not line:
                return 0
        line = line.strip()
        if line.startswith("/partner"):
            line = line.removeprefix("/partner").strip()
        if line in ("exit", "quit"):
            return 0
        if not interactive:
            print(f"{PROMPT}{line}", file=stdout)
        reply = run_command(escape_like_slack(line), caller=caller, settings=settings, slack=slack)
        print(render(reply.blocks, reply.text) + "\n", file=stdout, flush=True)


_TYPED_USER = re.compile(r"(?<![\w<])@([UW][A-Z0-9]{2,})\b")
_TYPED_CHANNEL = re.compile(r"(?<![\w<])#([CG][A-Z0-9]{2,})\b")


def escape_like_slack(text: str) -> str:
    """Typed text as Slack would send it: &, <, > escaped; `@U123` and `#C123`
    become the mentions Slack's autocomplete would have inserted."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _TYPED_USER.sub(r"<@\1>", text)
    return _TYPED_CHANNEL.sub(r"<#\1|>", text)
