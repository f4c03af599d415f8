"""Which partner a CRM deal belongs to: a pinned CRM id first, else the name's match key,
and a name that fits several partners counts for none."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from storage.names import match_key

AMBIGUOUS: Literal["ambiguous"] = "ambiguous"


class Matcher:
    def __init__(self, partners: list[tuple[int, str, str | None]]):
        """`partners`: (id, name, crm_id) of every partner."""
        self.by_key: dict[str, list[int]] = defaultdict(list)
        for pid, name, _ in partners:
            self.by_key[match_key(name)].append(pid)
        self.pinned = {crm_id: pid for pid, _, crm_id in partners if crm_id}
        self.names = {pid: name for pid, name, _ in partners}

    def match(self, crm_partner: str) -> int | Literal["ambiguous"] | None:
        """The partner's id, AMBIGUOUS, or None when no partner has that name."""
        pid = self.pinned.get(crm_partner)
        if pid is not None:
            return pid
        candidates = self.by_key.get(match_key(crm_partner), [])
        if len(candidates) > 1:
            return AMBIGUOUS
        return candidates[0] if candidates else None
