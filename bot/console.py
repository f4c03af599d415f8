"""The offline console: `/partner …` lines in, replies rendered as terminal text.

Same handlers as Slack: a typed line goes to `bot.dispatch.run_command`, and a
button clicked by its number (`click 2`) to the commands/ function the Bolt
listener in bot/listeners/ calls for it. Only the rendering differs; a form a
button opens is asked field by field.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from bot.dispatch import run, run_command
from commands import Caller, Context, Reply, SUBCOMMANDS
from commands import deal, desk, request_actions, scorecard
from commands import log as log_command
from commands.parser import typed_text
from core.messenger import SHARED, Posted
from core.settings import HELP_CATEGORIES, Settings
from views.ids import Action
from views.partner_facing import DealForm, HelpForm
from views.terminal import Button, lines, render, styled

DEMO_USER = "U0DEMO1"
DEMO_PARTNER_ORG = "T0DEMOPARTNER"  # the organisation the console's partner-desk clicks come from
PROMPT = "/partner "
_BANNER = """\
partnerbot console — type what you would after /partner (try: help, status, list, home).
You are {user}. Buttons show a number: `click 2` clicks one. Ctrl-D or `exit` quits.
"""
CONSOLE_HELP = """\
In this console:
  click N [text]   click button N in what was shown last (`N` alone works too); a form
                   asks for each field on its own line, or takes its one field from
                   the rest of the line (`click 3 signed and sent`)
  as @someone      act as someone else (a colleague who claims, an admin who approves)
  home             your App Home (partners with Open buttons, Log an interaction)
  exit             quit (Ctrl-D too)"""


@dataclass
class Directory:
    """The people and channels the console knows by name (the demo's): typed as
    `@dana` and `#legal`, shown by name instead of their Slack IDs."""

    people: dict[str, str] = field(default_factory=dict)  # name → user ID
    channels: dict[str, str] = field(default_factory=dict)  # name → channel ID
    connect: set[str] = field(default_factory=set)  # channel IDs shared with another organisation

    def names(self) -> dict[str, str]:
        return {v: k for k, v in {**self.people, **self.channels}.items()}

    def who(self, user_id: str) -> str:
        return f"@{self.names().get(user_id, user_id)}"


class ConsoleMessenger:
    """Slack as the console sees it: what the bot would post is printed, its buttons numbered."""

    def __init__(self, screen: Screen):
        self.screen = screen
        self.count = 0

    def _where(self, channel: str) -> str:
        name = self.screen.directory.names().get(channel, channel)
        return f"DM to @{name}" if channel.startswith(("U", "W")) else f"#{name}"

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], *, thread_ts: str | None = None,
             partner_safe: bool = False) -> Posted:
        self.count += 1
        self.screen.show(blocks, text, title=f"posted to {self._where(channel)}" + (" (in thread)" if thread_ts else ""),
                         channel=channel)
        return Posted(True, channel=channel, ts=f"{self.count}.000000")

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]], *, partner_safe: bool = False) -> Posted:
        self.screen.show(blocks, text, title=f"updated the message in {self._where(channel)}")
        return Posted(True, channel=channel, ts=ts)

    def permalink(self, channel: str, ts: str) -> str | None:
        return None

    def ensure_member(self, channel: str) -> str | None:
        return None

    def partner_channel_problem(self, channel: str) -> str | None:
        return None  # the demo's Slack Connect channel reaches one partner

    def pin(self, channel: str, ts: str) -> bool:
        self.screen.show([], "", title=f"pinned it in {self._where(channel)}")
        return True

    def shared_problem(self, channel: str) -> str | None:
        # The demo's one Slack Connect channel is shared with a partner's organisation.
        return SHARED if channel in self.screen.directory.connect else None


class Screen:
    """What the user sees: messages with numbered buttons. Each line typed starts a
    new numbering when it shows any button; until then the last ones stay clickable."""

    def __init__(self, out: TextIO, directory: Directory):
        self.out = out
        self.directory = directory
        self.buttons: list[Button] = []
        self._fresh: list[Button] | None = None
        self._rich = None
        if out.isatty():
            from rich.console import Console

            self._rich = Console(file=out, highlight=False)

    def turn(self) -> None:
        self._fresh = []

    def show(self, blocks: list[dict[str, Any]], text: str = "", *, title: str | None = None, channel: str | None = None) -> None:
        if self._fresh is None:
            self._fresh = []
        shown = len(self._fresh)
        rendered = lines(blocks, text, buttons=self._fresh, names=self.directory.names())
        self._fresh[shown:] = [replace(b, channel=channel) for b in self._fresh[shown:]]
        if self._fresh:
            self.buttons = self._fresh
        indent = "    " if title else ""
        if title:
            self.say(f"  → {title}:")
        if self._rich is not None:
            self._rich.print(styled(rendered, indent))
        else:
            body = "\n".join(line for _, line in rendered)
            print(indent + body.replace("\n", "\n" + indent), file=self.out, flush=True)

    def reply(self, reply: Reply | None) -> None:
        if reply is not None and (reply.blocks or reply.text):
            self.show(reply.blocks, reply.text)
        print(file=self.out, flush=True)

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)


@dataclass(frozen=True)
class Form:
    """A form a button opens: its fields (the last one may take the rest of a line) and
    what submitting it runs, given the button's value and the answers."""

    fields: list[str]
    submit: Callable[[Context, str, list[str]], Reply | None]


def _log_form(ctx: Context, value: str, answers: list[str]) -> Reply | None:
    from commands.refs import resolve
    from views.log_form import LogForm, LogSource

    partner_name, kind, summary, day = answers
    partner = resolve(partner_name, session=ctx.session, usage="the partner's name")
    form = LogForm(str(partner.id), kind.strip().casefold(), summary, day.strip() or None, LogSource())
    return log_command.from_form(ctx, form, dedupe_key=f"console:{uuid.uuid4()}")


def _desk_deal(ctx: Context, partner_id: int, answers: list[str]) -> Reply | None:
    customer, amount, close, notes = answers
    return desk.register_deal(ctx, partner_id, DealForm(customer, amount, close.strip() or None, notes))


def _desk_help(ctx: Context, partner_id: int, answers: list[str]) -> Reply | None:
    category, text = answers
    return desk.ask_help(ctx, partner_id, HelpForm(category.strip().casefold(), text), view_id=f"console:{uuid.uuid4()}")


# The partner desk's buttons: the partner is the one linked to the channel the desk was posted in.
DESK_FORMS: dict[str, Form] = {
    Action.DESK_DEAL: Form(["customer", "amount", "expected close date YYYY-MM-DD", "notes (optional)"], _desk_deal),
    Action.DESK_HELP: Form([f"about ({', '.join(HELP_CATEGORIES)})", "what you need"], _desk_help),
}

FORMS: dict[str, Form] = {  # the forms bot/listeners opens, with the function its submission runs
    Action.REQUEST_RESOLVE: Form(["resolution note (optional)"], lambda ctx, value, a: request_actions.resolve(
        ctx, request_actions.request_id(value), typed_text(a[0]) or None)),
    Action.REQUEST_NOTE: Form(["note"], lambda ctx, value, a: request_actions.add_note(
        ctx, request_actions.request_id(value), typed_text(a[0]))),
    Action.HOME_LOG: Form(["partner", "kind (call, meeting, email, note, training, demo)", "what happened",
                           "date YYYY-MM-DD (empty: today)"], _log_form),
    Action.DEAL_REJECT_REASON: Form(["reason (the partner sees it; optional)"], lambda ctx, value, a: deal.decide(
        ctx, int(value) if value.isdigit() else 0, approve=False, reason=typed_text(a[0]) or None)),
}
CLICKS: dict[str, Callable[[Context, str], Reply | None]] = {  # the buttons that act at once
    Action.REQUEST_CLAIM: lambda ctx, value: request_actions.claim(ctx, request_actions.request_id(value)),
    Action.REQUEST_REPOST: lambda ctx, value: request_actions.repost(ctx, request_actions.request_id(value)),
    Action.DEAL_APPROVE: lambda ctx, value: deal.decide(ctx, int(value) if value.isdigit() else 0, approve=True),
    Action.DEAL_REJECT: lambda ctx, value: deal.decide(ctx, int(value) if value.isdigit() else 0, approve=False),
}


class ConsoleSession:
    def __init__(self, settings: Settings, user_id: str, stdin: TextIO, stdout: TextIO, directory: Directory):
        self.settings = settings
        self.caller = Caller(user_id=user_id, channel_id="C0CONSOLE")
        self.stdin = stdin
        self.directory = directory
        self.screen = Screen(stdout, directory)
        self.slack = ConsoleMessenger(self.screen)
        self.interactive = stdin.isatty()
        self._prompt: Any = None
        if self.interactive:
            self._prompt = _prompt_session(directory)

    def ask(self, prompt: str) -> str | None:
        """One line from the user; None at the end of input."""
        if self._prompt is not None:
            try:
                return self._prompt.prompt(prompt)
            except EOFError:
                return None
            except KeyboardInterrupt:
                return ""
        line = self.stdin.readline()
        if not line:
            return None
        line = line.rstrip("\n")
        # Piped: the transcript shows what was typed, after the prompt (never "/partner /partner …").
        self.screen.say(f"{prompt}{line.strip().removeprefix('/partner').strip()}")
        return line

    def loop(self) -> int:
        if self.interactive:
            self.screen.say(_BANNER.format(user=self.directory.who(self.caller.user_id)))
        while True:
            line = self.ask(PROMPT)
            if line is None:
                if self.interactive:
                    self.screen.say("")
                return 0
            line = line.strip()
            if line.startswith("/partner"):
                line = line.removeprefix("/partner").strip()
            if line in ("exit", "quit"):
                return 0
            self.screen.turn()
            self.one(line)

    def one(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        word = word.casefold()
        if word == "click" or word.isdigit():
            number, _, rest = (rest if word == "click" else line).strip().partition(" ")
            return self.click(number, rest.strip())
        if word == "as":
            return self.become(rest.strip())
        if word == "home":
            return self.home()
        reply = run_command(escape_like_slack(line, self.directory), caller=self.caller, settings=self.settings,
                            slack=self.slack)
        self.screen.reply(reply)
        if word in ("", "help") and not rest.strip():
            self.screen.say(CONSOLE_HELP)
            self.screen.say(self.who_is_who() + "\n")

    def who_is_who(self) -> str:
        def tags(uid: str) -> str:
            said = [t for t, yes in (("you", uid == self.caller.user_id), ("admin", self.settings.is_admin(uid))) if yes]
            return f" ({', '.join(said)})" if said else ""

        people = ", ".join(f"@{name}{tags(uid)}" for name, uid in self.directory.people.items())
        channels = ", ".join(f"#{name}" + (" (Slack Connect: try `/partner channel <partner> #" + name + "`)"
                                           if cid in self.directory.connect else "")
                              for name, cid in self.directory.channels.items())
        out = []
        if people:
            out.append(f"People: {people}.")
        if channels:
            out.append(f"Channels: {channels}.")
        return "\n".join(out) or "Type people and channels as their Slack IDs: @U123, #C123."

    def become(self, who: str) -> None:
        if not who:
            self.screen.say(f"You are {self.directory.who(self.caller.user_id)}. {self.who_is_who()}\n")
            return
        name = who.removeprefix("@")
        user_id = self.directory.people.get(name.casefold()) or (name if re.fullmatch(r"[UW][A-Z0-9]{2,}", name) else None)
        if user_id is None:
            self.screen.say(f"Nobody called {who} here. {self.who_is_who()}\n")
            return
        self.caller = Caller(user_id=user_id, channel_id=self.caller.channel_id)
        admin = " (an admin)" if self.settings.is_admin(user_id) else ""
        self.screen.say(f"You are now {self.directory.who(user_id)}{admin}.\n")

    def home(self) -> None:
        from datetime import datetime, timezone

        from commands import home as home_page
        from storage.db import unit_of_work

        with unit_of_work(read_only=True) as session:
            view = home_page.page(session, user_id=self.caller.user_id, now=datetime.now(timezone.utc),
                                  settings=self.settings)
        self.screen.reply(Reply(text="", blocks=view["blocks"]))

    def click(self, number: str, rest: str) -> None:
        buttons = self.screen.buttons
        if not number.isdigit() or not 1 <= int(number) <= len(buttons):
            shown = f"1 to {len(buttons)}" if buttons else "none are shown yet"
            self.screen.say(f"There is no button {number or '?'} to click ({shown}).\n")
            return
        button = buttons[int(number) - 1]
        action, value = button.action_id, button.value
        if action in CLICKS:
            work = CLICKS[action]
            return self.screen.reply(self.run(lambda ctx: work(ctx, value)))
        if action in FORMS:
            form = FORMS[action]
            answers = self.fill(button.label, form.fields, rest)
            if answers is not None:
                self.screen.reply(self.run(lambda ctx: form.submit(ctx, value, answers)))
            return
        if action in DESK_FORMS or action == Action.DESK_SCORECARD:
            return self.desk(button)
        if action == Action.PAGE:  # its value is the /partner line of the next page
            return self.screen.reply(run_command(value, caller=self.caller, settings=self.settings, slack=self.slack))
        if action == Action.SHARE:
            return self.share(value)
        if action == Action.HOME_OPEN_PARTNER:
            return self.open_partner(value)
        self.screen.say(f"The {button.label} button does nothing in the console.\n")

    def run(self, work: Callable[[Context], Reply | None], *, caller: Caller | None = None) -> Reply | None:
        return run(work, caller=caller or self.caller, settings=self.settings, slack=self.slack)

    def desk(self, button: Button) -> None:
        """A partner desk's button, as someone in that partner's channel clicks it (the
        console is offline and trusts you: in Slack, bot/access.py decides who may)."""
        from storage import partners
        from storage.db import unit_of_work

        with unit_of_work(read_only=True) as session:
            partner = partners.linked_to(session=session, channel_id=button.channel) if button.channel else None
            partner_id = partner.id if partner is not None else None
        if partner_id is None:
            return self.screen.reply(Reply(text=desk.CLOSED, error=True))
        caller = Caller(self.caller.user_id, button.channel, partner_org=DEMO_PARTNER_ORG)
        if button.action_id == Action.DESK_SCORECARD:
            return self.screen.reply(self.run(lambda ctx: scorecard.show(ctx, partner_id), caller=caller))
        form = DESK_FORMS[button.action_id]
        answers = self.fill(button.label, form.fields, "")
        if answers is not None:
            self.screen.reply(self.run(lambda ctx: form.submit(ctx, partner_id, answers), caller=caller))

    def fill(self, title: str, fields: list[str], rest: str) -> list[str] | None:
        """The form's answers: a one-field form takes the rest of the click's line; else
        each field is asked on its own line. None when input ends first."""
        if rest and len(fields) == 1:
            return [rest]
        self.screen.say(f"{title}: fill in the form (an empty line leaves an optional field empty).")
        answers = []
        for name in fields:
            answer = self.ask(f"  {name}: ")
            if answer is None:
                return None
            answers.append(answer)
        return answers

    def share(self, value: str) -> None:
        """The Share button (bot/listeners/command.py): the reply again, posted for the channel without its buttons."""
        reply = run_command(value, caller=self.caller, settings=self.settings, slack=self.slack)
        if reply.error:
            return self.screen.reply(reply)
        shown = [b for b in reply.blocks if b.get("type") != "actions"]
        self.screen.show(shown, reply.text, title="shared in the channel")
        self.screen.reply(None)

    def open_partner(self, value: str) -> None:
        """The Open button on App Home: the partner's card, as the modal shows it."""
        from bot.listeners.home import card
        from storage.db import unit_of_work

        with unit_of_work(read_only=True) as session:
            view = card(session, int(value) if value.isdigit() else 0, self.settings)
        self.screen.reply(Reply(text="", blocks=view["blocks"]))


_LAST_WORD = re.compile(r"([@#][\w-]*|[\w-]+)$")


def _prompt_session(directory: Directory) -> Any:
    """prompt_toolkit on a terminal: history (↑), and Tab completes commands, @people and
    #channels (also after `owner:`)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion

    words = sorted(SUBCOMMANDS) + ["click", "as", "home", "exit"]
    words += [f"@{name}" for name in directory.people] + [f"#{name}" for name in directory.channels]

    class Words(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Any:
            typed = _LAST_WORD.search(document.text_before_cursor)
            if typed is None:
                return
            for word in words:
                if word.startswith(typed[1].casefold()) and word != typed[1]:
                    yield Completion(word, start_position=-len(typed[1]))

    return PromptSession(completer=Words(), complete_while_typing=False)


def console(settings: Settings, *, user_id: str, stdin: TextIO | None = None, stdout: TextIO | None = None,
            directory: Directory | None = None) -> int:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    return ConsoleSession(settings, user_id, stdin, stdout, directory or Directory()).loop()


_TYPED_USER = re.compile(r"(?<![\w<])@([UW][A-Z0-9]{2,})\b")
_TYPED_CHANNEL = re.compile(r"(?<![\w<])#([CG][A-Z0-9]{2,})\b")
_TYPED_NAME = re.compile(r"(?<![\w<&])([@#])([a-z][\w-]*)", re.IGNORECASE)  # Slack names may hold hyphens


def escape_like_slack(text: str, directory: Directory | None = None) -> str:
    """Typed text as Slack would send it: &, <, > escaped; `@U123` and `#C123` — and the
    directory's `@dana` and `#legal` — become the mentions Slack's autocomplete would have inserted."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if directory is not None:

        def mention(match: re.Match[str]) -> str:
            sigil, name = match[1], match[2].casefold()
            known = (directory.people if sigil == "@" else directory.channels).get(name)
            if known is None:
                return match[0]
            return f"<@{known}>" if sigil == "@" else f"<#{known}|>"

        text = _TYPED_NAME.sub(mention, text)
    text = _TYPED_USER.sub(r"<@\1>", text)
    return _TYPED_CHANNEL.sub(r"<#\1|>", text)
