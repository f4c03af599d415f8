"""The offline console: `/partner …` lines in, replies rendered as terminal text.

Same handlers as Slack (`bot.dispatch.run_command`); only the rendering differs.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

from bot.dispatch import run_command
from bot.settings import Settings
from commands import Caller
from commands.context import Posted

DEMO_USER = "U0DEMO1"
PROMPT = "/partner "
_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")
_BANNER = """\
partnerbot console — type what you would after /partner (try: help, status, list).
You are {user}. Ctrl-D or `exit` quits.
"""


def plain(mrkdwn: str) -> str:
    """mrkdwn as a terminal shows it: mentions readable, entities unescaped."""

    def mention(match: re.Match[str]) -> str:
        sigil, ident, label = match.groups()
        if sigil == "!":
            return "@" + (label or ident)
        return sigil + (label or ident)

    text = _MENTION.sub(mention, mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(blocks: list[dict[str, Any]], fallback: str = "") -> str:
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            out += [title, "=" * min(len(title), 60)]
        elif kind == "section":
            if "text" in block:
                out.append(plain(block["text"]["text"]))
            for field in block.get("fields", []):
                label, _, value = plain(field["text"]).partition("\n")
                out.append(f"{label.strip('*')}: {value}")
        elif kind == "context":
            out.append("  " + " ".join(plain(e.get("text", "")) for e in block["elements"]))
        elif kind == "divider":
            out.append("-" * 40)
        elif kind == "actions":
            out.append("  " + "  ".join(f"[{e['text']['text']}]" for e in block["elements"] if "text" in e))
    return "\n".join(out) if out else plain(fallback)


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


def console(settings: Settings, *, user_id: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
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
