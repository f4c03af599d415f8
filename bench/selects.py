"""SELECT statements counted on an engine (WITH … SELECT included): what the job and
report benchmarks print beside their times."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


class SelectCount:
    def __init__(self, engine: Engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self.count += 1

    def reset(self) -> None:
        self.count = 0
