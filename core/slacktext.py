"""Slack's escaped text as a person reads it: the one unescaper, for the parser
(what was typed) and the terminal views (what the console and dry runs show)."""

from __future__ import annotations

import re

# Mentions (`<@U1|name>`, `<#C1|name>`, `<!here>`) and links of any scheme: Slack turns
# what the user typed (`Partner.io`, `a@b.com`) into `<http://Partner.io|Partner.io>`,
# `<mailto:a@b.com|a@b.com>`.
_SLACK_REF = re.compile(r"<([@#!])([^>|]*)(?:\|([^>]*))?>|<([a-zA-Z][a-zA-Z0-9+.-]*:[^>|]+)(?:\|([^>]*))?>")


def slack_to_text(raw: str) -> str:
    """Mentions become @names and #channels, links their label (what the person
    typed) or, without one, their URL, and the three entities Slack escapes
    (`&amp;`, `&lt;`, `&gt;`) the characters again."""

    def readable(match: re.Match[str]) -> str:
        sigil, ident, label, url, url_label = match.groups()
        if url:
            return url_label or url
        if sigil == "!":
            # <!here>, <!channel>, <!subteam^S123|@team>, <!date^…|fallback>
            if label:
                return label
            return "@" + ident.split("^", 1)[0]
        if label:
            return ("@" if sigil == "@" else "#") + label.lstrip("@#")
        return sigil + ident

    text = _SLACK_REF.sub(readable, raw)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
