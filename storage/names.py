"""Name normalization shared by storage (unique keys) and the parser."""

from __future__ import annotations

import re
import unicodedata

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """NFKC, zero-width characters removed, whitespace collapsed and stripped."""
    text = unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH)
    return _SPACES.sub(" ", text).strip()


def name_key(name: str) -> str:
    """The unique key of a partner name: NFKC, casefold, collapsed spaces."""
    return clean(name).casefold()


LEGAL_SUFFIXES = frozenset(
    "inc incorporated ltd limited llc plc gmbh ag sa bv corp corporation co company".split()
)
_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)


def match_key(name: str) -> str:
    """Key for matching names across systems (SPEC §10): NFKC, casefold, punctuation
    removed, whitespace collapsed, one trailing legal suffix dropped."""
    words = _PUNCTUATION.sub(" ", clean(name).casefold()).replace("_", " ").split()
    if len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words = words[:-1]
    return " ".join(words)
