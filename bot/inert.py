"""Text from other people (Spotify display names) made inert inside a message Encore writes,
for the services that compose DMs and cannot import discord.py (`bot.ui.names` does the same
for what bot.ui renders).

Markdown characters are escaped with a backslash and mentions are broken with a zero-width
space, so `**@everyone** [free](https://x)` shows as typed. Allowed mentions are off on
every message anyway; this keeps the formatting ours too.
"""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()<:-])")
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9]{17,20})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def inert(text: str, limit: int = 80) -> str:
    """`text` on one line, at most `limit` characters, with no markdown and no mention."""
    text = _CONTROL.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return _MENTION.sub("@\u200b\\1", _MARKDOWN.sub(r"\\\1", text))
