"""A terminal progress bar for long bulk operations (only drawn on a TTY)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def progress_bar(label: str, *, width: int = 40) -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def draw(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        print(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}", end=end, file=sys.stderr, flush=True)

    return draw
