"""A terminal progress bar for long bulk operations (rich's; only drawn on a TTY)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def progress_bar(label: str) -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    # Redrawn on each call, no refresh thread: an import that fails half-way leaves nothing running.
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(file=sys.stderr), auto_refresh=False)
    task = bar.add_task(label)

    def draw(done: int, total: int) -> None:
        if bar.finished:  # drawn complete once already (a seed reports its end twice)
            return
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)
        bar.refresh()
        if done >= total:
            bar.stop()

    return draw
