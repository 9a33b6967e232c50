"""A message as a person sees it in Discord's client: markdown rendered away, names instead of
ids.

`seen(message, names)` is what the transcript of `make demo` prints and what tests search
with `Reply.seen`: masked links show their text, escapes and formatting marks are gone,
`<@id>` is `@bob`, `<#id>` is `#new-releases`, `<t:...>` is a date, `-# ` subtext is small
print, and buttons keep their emoji and their rows. Embed titles, footers, labels and choices
are plain text in Discord (no markdown): shown as sent.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable
from typing import Any

Names = Callable[[str, int], str | None]  # ("user" | "channel" | "role", id) -> name

_PUNCTUATION = set(string.punctuation)
_MENTION = re.compile(r"<(@!?|@&|#)(\d{15,21})>")
_TIMESTAMP = re.compile(r"<t:(-?\d{1,13})(?::([tTdDfFR]))?>")
_AUTOLINK = re.compile(r"<(https?://[^\s>]+)>")
_MARKS = ("**", "__", "~~", "||")


def _no_names(kind: str, snowflake: int) -> str | None:
    return None


def timestamp(seconds: int, style: str | None, now: dt.datetime | None = None) -> str:
    """`<t:seconds:style>` as Discord's client shows it (in UTC)."""
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    style = style or "f"
    if style == "R":
        delta = moment - (now or dt.datetime.now(dt.UTC))
        ahead, total = delta.total_seconds() >= 0, abs(delta.total_seconds())
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
            if total >= size or unit == "second":
                count = int(total // size)
                words = f"{count} {unit}{'s' if count != 1 else ''}"
                return f"in {words}" if ahead else f"{words} ago"
    formats = {
        "t": "%H:%M",
        "T": "%H:%M:%S",
        "d": "%d/%m/%Y",
        "D": "%-d %B %Y",
        "f": "%-d %B %Y %H:%M",
        "F": "%A, %-d %B %Y %H:%M",
    }
    return moment.strftime(formats[style])


def _closing(text: str, start: int, close: str) -> int:
    """Index of the unescaped `close` from `start`, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == close:
            return i
        i += 1
    return -1


def inline(text: str, names: Names = _no_names) -> str:
    """One block of message markdown as its reader sees it."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in _PUNCTUATION:
            out.append(text[i + 1])
            i += 2
            continue
        if c == "`":
            end = text.find("`", i + 1)
            if end > i:
                out.append(text[i + 1 : end])
                i = end + 1
                continue
        if c == "[":
            end = _closing(text, i + 1, "]")
            if end > 0 and text.startswith("(", end + 1):
                close = text.find(")", end + 2)
                if close > 0:
                    out.append(inline(text[i + 1 : end], names))
                    i = close + 1
                    continue
        if c == "<":
            mention = _MENTION.match(text, i)
            if mention:
                kind = {"#": "channel", "@&": "role"}.get(mention[1], "user")
                shown = names(kind, int(mention[2])) or mention[2]
                out.append(("#" if kind == "channel" else "@") + shown)
                i = mention.end()
                continue
            stamp = _TIMESTAMP.match(text, i)
            if stamp:
                out.append(timestamp(int(stamp[1]), stamp[2]))
                i = stamp.end()
                continue
            link = _AUTOLINK.match(text, i)
            if link:
                out.append(link[1])
                i = link.end()
                continue
        mark = next((m for m in _MARKS if text.startswith(m, i)), None)
        if mark is not None:
            i += 2
            continue
        if c in "*_" and _emphasis(text, i):
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out).replace("\u200b", "")


def _emphasis(text: str, i: int) -> bool:
    """A lone `*` or `_` that opens or closes emphasis (not one inside a word like a_b)."""
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if text[i] == "_":
        return not (before.isalnum() and after.isalnum())
    return not (before.isspace() and after.isspace())


def block(text: str, names: Names = _no_names) -> str:
    lines = []
    for line in text.split("\n"):
        if line.startswith("-# "):
            line = line[3:]
        lines.append(inline(line, names))
    return "\n".join(lines)


def seen(message: dict[str, Any], names: Names = _no_names) -> str:
    """A whole message (content, embeds, button rows) as its reader sees it."""
    lines: list[str] = []
    if message.get("content"):
        lines.append(block(str(message["content"]), names))
    for embed in message.get("embeds") or []:
        if (embed.get("author") or {}).get("name"):
            lines.append(str(embed["author"]["name"]))
        if embed.get("title"):
            lines.append(f"## {inline(str(embed['title']), names)}")
        if embed.get("description"):
            lines.append(block(str(embed["description"]), names))
        for embed_field in embed.get("fields") or []:
            name = inline(str(embed_field.get("name") or ""), names)
            lines.append(f"{name}: {block(str(embed_field.get('value') or ''), names)}")
        if (embed.get("footer") or {}).get("text"):
            lines.append(f"({embed['footer']['text']})")
    for row in message.get("components") or []:
        shown = []
        for component in row.get("components", []):
            emoji = (component.get("emoji") or {}).get("name") or ""
            label = component.get("label") or component.get("placeholder") or ""
            text = " ".join(part for part in (emoji, label) if part) or "?"
            if component.get("url"):
                text += " ↗"
            if component.get("disabled"):
                text = f"({text})"
            shown.append(f"[{text}]")
        if shown:
            lines.append(" ".join(shown))
    return "\n".join(lines)


def shows(text: str, name: str) -> bool:
    """`text` (as seen) shows `name`: whole, or cut at a word with an ellipsis (Encore cuts
    long names to fit Discord's limits). Whitespace is compared as single spaces."""
    text = " ".join(text.split())
    name = " ".join(name.split())
    if name in text:
        return True
    return any(name[:end].rstrip() + "…" in text for end in range(len(name) - 1, 7, -1))
