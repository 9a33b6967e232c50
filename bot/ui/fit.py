"""Every message Encore sends, fitted to Discord's limits, in one place.

Discord refuses a whole message (`400 50035`) for one part over its limit: a field name of
257 characters, a sixth action row, two buttons with the same `custom_id`. Builders in
`bot.ui` compose with the helpers here (names escaped, then cut at a word; lines kept whole
while they fit; names shrunk until a block fits its budget), and every send passes through
`message` (or `embed`, `view`, `choices`), the last word on each limit:

- content 2,000; embeds 10; title 256, description 4,096, 25 fields, field name 256 and
  value 1,024, footer 2,048, author 256, all of a message's embeds together 6,000;
- 5 action rows of 5 buttons, label 80, `custom_id` 1-100 and unique in the message (the same
  one twice is one button);
- autocomplete: 25 choices, name 1-100, value at most 100;
- selects: 25 options, label 1-100, value 1-100 and unique, description 100, placeholder 150.

The limits are Discord's documented ones; the Discord emulator (`sandbox/discord/rules/`)
refuses the same, and `tests/test_fit_properties.py` holds every builder to them with its
checkers.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.utils import escape_markdown, escape_mentions

log = logging.getLogger(__name__)

CONTENT = 2000
EMBEDS = 10
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000
ROWS = 5
ROW_WIDTH = 5
LABEL = 80
CUSTOM_ID = 100
CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
SELECT_OPTIONS = 25
OPTION_LABEL = 100
OPTION_VALUE = 100
OPTION_DESCRIPTION = 100
PLACEHOLDER = 150

ELLIPSIS = "…"
EMPTY = "\u200b"  # a field needs a name and a value: this shows as nothing
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# escape_markdown leaves these alone: `[text](url)` would be a masked link, `<url>` or
# `<@id>`-like text would be Discord syntax.
_BRACKET = re.compile(r"(?<!\\)([\[\]<])")
# Characters that join or modify the one before them: a cut never ends on one.
_JOINERS = "\u200d\ufe0e\ufe0f"

T = TypeVar("T", str, int, float)


# -- text ----------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """Newlines and control characters from someone else's text become spaces."""
    return _CONTROL.sub(" ", text).strip()


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: cut at a word boundary, with an ellipsis.

    A word longer than half the room is cut inside (a 200-character name without spaces);
    the cut never leaves an escaping backslash or a joiner (an emoji sequence) hanging.
    """
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    room = limit - len(ELLIPSIS)
    head = text[:room]
    space = max(head.rfind(" "), head.rfind("\n"))
    if space >= room // 2 and not text[room].isspace():
        head = head[:space]
    head = head.rstrip()
    while head and (head[-1] in _JOINERS or unicodedata.category(head[-1]) in ("Mn", "Me", "Cf")):
        head = head[:-1]
    backslashes = len(head) - len(head.rstrip("\\"))
    if backslashes % 2:
        head = head[:-1]
    return head + ELLIPSIS


def escaped(text: str) -> str:
    """Someone else's text made inert inside markdown: no mention, no formatting, no link."""
    return _BRACKET.sub(r"\\\1", escape_markdown(escape_mentions(one_line(text))))


def name(text: str, limit: int = 80) -> str:
    """A name from Spotify or Discord inside our markdown: escaped, *then* cut to `limit`
    (cutting first and escaping after can double the length)."""
    return cut(escaped(text), limit)


def link(text: str, url: str | None, limit: int = 80) -> str:
    """`text` as a markdown link to `url` (a plain shown name when there is none); the link
    text is at most `limit` characters."""
    if not url:
        return name(text, limit)
    return f"[{cut(escaped(text), limit)}]({url})"


def plain(text: str, limit: int) -> str:
    """Text where Discord renders no markdown (labels, footers, choices): one line, cut."""
    return cut(one_line(text), limit)


def lines(
    items: Sequence[str],
    limit: int,
    *,
    more: Callable[[int], str] | None = None,
    sep: str = "\n",
) -> str:
    """As many whole items as fit in `limit` joined by `sep`, then `more(left out)` when
    some were left out."""
    kept: list[str] = []
    size = 0
    gap = len(sep)
    for index, line in enumerate(items):
        rest = len(items) - index - 1
        tail = len(more(rest)) + gap if more is not None and rest else 0
        if size + len(line) + tail > limit:
            if not kept:  # one item alone is too long: cut it rather than show nothing
                return cut(line, limit)
            if more is not None:
                note = more(len(items) - index)
                if size + len(note) <= limit:
                    kept.append(note)
                else:
                    kept[-1] = ELLIPSIS
            break
        kept.append(line)
        size += len(line) + gap
    return sep.join(kept)


def shrink(
    build: Callable[[int], str], limit: int, *, longest: int = 80, shortest: int = 12
) -> str:
    """`build(n)` renders a block with names of at most `n` characters: the longest names
    for which the block fits in `limit`. Markup (links, numbers) stays whole; only names get
    shorter. A block that does not fit even with the shortest names is cut by lines."""
    size = longest
    while True:
        text = build(size)
        if len(text) <= limit:
            return text
        if size <= shortest:
            return _cut_lines(text, limit)
        size = max(shortest, min(size - 1, size * limit // len(text)))


def _cut_lines(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return lines(text.split("\n"), limit, more=lambda _: ELLIPSIS)


# -- embeds --------------------------------------------------------------------------------


def _measured(text: str | None) -> int:
    """Discord counts embed text without leading and trailing whitespace."""
    return len(text.strip()) if text else 0


def embed_size(embed: discord.Embed) -> int:
    size = _measured(embed.title) + _measured(embed.description)
    size += sum(_measured(f.name) + _measured(f.value) for f in embed.fields)
    size += _measured(embed.footer.text) + _measured(embed.author.name)
    return size


def embed(embed: discord.Embed, *, budget: int = EMBED_TOTAL) -> discord.Embed:
    """Every part of `embed` within its limit and the whole within `budget` (6,000 for a
    message's only embed): the description gives way first, by whole lines, then the last
    fields. Builders budget their parts themselves; this is the net under them."""
    if embed.title and len(embed.title) > TITLE:
        embed.title = cut(embed.title, TITLE)
    if embed.description and len(embed.description) > DESCRIPTION:
        embed.description = _cut_lines(embed.description, DESCRIPTION)
    fields = embed.fields
    if len(fields) > FIELDS:
        for _ in range(len(fields) - FIELDS):
            embed.remove_field(FIELDS)
    # The size is counted on the way (what embed_size would count once the parts are cut):
    # discord.py makes new proxy objects on every read of `fields`, `footer` and `author`.
    size = _measured(embed.title) + _measured(embed.description)
    for index, field in enumerate(embed.fields):
        field_name = cut(field.name or "", FIELD_NAME) if _measured(field.name) else EMPTY
        value = _cut_lines(field.value or "", FIELD_VALUE) if _measured(field.value) else EMPTY
        if field_name != field.name or value != field.value:
            embed.set_field_at(index, name=field_name, value=value, inline=bool(field.inline))
        size += _measured(field_name) + _measured(value)
    footer = embed.footer
    if footer.text and len(footer.text) > FOOTER:
        embed.set_footer(text=cut(footer.text, FOOTER), icon_url=footer.icon_url)
        footer = embed.footer
    author = embed.author
    if author.name and len(author.name) > AUTHOR:
        embed.set_author(name=cut(author.name, AUTHOR), url=author.url, icon_url=author.icon_url)
        author = embed.author
    over = size + _measured(footer.text) + _measured(author.name) - budget
    if over > 0 and embed.description:
        keep = max(0, len(embed.description.strip()) - over)
        embed.description = _cut_lines(embed.description.strip(), keep) if keep > 1 else None
        over = embed_size(embed) - budget
    while over > 0 and embed.fields:
        last = embed.fields[-1]
        embed.remove_field(len(embed.fields) - 1)
        over -= _measured(last.name) + _measured(last.value)
    if over > 0 and embed.title:
        embed.title = cut(embed.title, max(1, len(embed.title) - over))
    return embed


def embeds(items: Sequence[discord.Embed]) -> list[discord.Embed]:
    """At most 10 embeds, together within 6,000 characters (later ones give way)."""
    kept = list(items[:EMBEDS])
    left = EMBED_TOTAL
    fitted: list[discord.Embed] = []
    for item in kept:
        if left <= 0:
            break
        fitted.append(embed(item, budget=left))
        left -= embed_size(fitted[-1])
    return fitted


# -- components ----------------------------------------------------------------------------


def _custom_id(item: discord.ui.Item[Any]) -> str | None:
    if isinstance(item, discord.ui.DynamicItem):
        return str(item.custom_id)
    value = getattr(item, "custom_id", None)
    if isinstance(item, discord.ui.Button) and item.url:
        return None
    return value if isinstance(value, str) else None


def view(view: discord.ui.View | None) -> discord.ui.View | None:
    """Labels within 80 characters, and `custom_id`s 1-100 characters and unique: the same
    id twice is one button (the first). discord.py itself refuses a sixth row or a full one
    when an item is added (`add`)."""
    if view is None:
        return None
    seen: set[str] = set()
    for item in list(view.children):
        button = item.item if isinstance(item, discord.ui.DynamicItem) else item
        if isinstance(button, discord.ui.Button) and button.label and len(button.label) > LABEL:
            button.label = plain(button.label, LABEL)
        if isinstance(item, discord.ui.Select):
            _fit_select(item)
        custom_id = _custom_id(item)
        if custom_id is None:
            continue
        if not 1 <= len(custom_id) <= CUSTOM_ID or custom_id in seen:
            log.warning("Dropped a button whose custom id is repeated or too long")
            view.remove_item(item)
            continue
        seen.add(custom_id)
    return view


def options(items: Sequence[discord.SelectOption]) -> list[discord.SelectOption]:
    """At most 25 select options: labels 1-100 and descriptions at most 100 characters of
    plain text (Discord renders no markdown there), values 1-100 and unique (a value
    repeated or too long cannot be offered: it is left out)."""
    fitted: list[discord.SelectOption] = []
    seen: set[str] = set()
    for option in items:
        if not 1 <= len(option.value) <= OPTION_VALUE or option.value in seen:
            continue
        seen.add(option.value)
        option.label = plain(option.label, OPTION_LABEL) or ELLIPSIS
        if option.description:
            option.description = plain(option.description, OPTION_DESCRIPTION) or None
        fitted.append(option)
        if len(fitted) == SELECT_OPTIONS:
            break
    return fitted


def _fit_select(select: discord.ui.Select[Any]) -> None:
    select.options = options(select.options)
    if select.placeholder and len(select.placeholder) > PLACEHOLDER:
        select.placeholder = plain(select.placeholder, PLACEHOLDER)


def add(view: discord.ui.View, items: Sequence[discord.ui.Item[Any]]) -> int:
    """Add `items` while they fit in 5 rows of 5 (rows as set on them); how many were added."""
    added = 0
    for item in items:
        if item.row is not None and item.row >= ROWS:
            break
        try:
            view.add_item(item)
        except ValueError:  # its row is full, or the view is
            break
        added += 1
    return added


def choices(items: Sequence[app_commands.Choice[T]]) -> list[app_commands.Choice[T]]:
    """At most 25 autocomplete choices, names 1-100 characters, string values at most 100
    (a longer value cannot be offered: it is left out)."""
    fitted: list[app_commands.Choice[T]] = []
    for choice in items:
        if isinstance(choice.value, str) and not 1 <= len(choice.value) <= CHOICE_VALUE:
            continue
        label = plain(choice.name, CHOICE_NAME) or ELLIPSIS
        fitted.append(app_commands.Choice(name=label, value=choice.value))
        if len(fitted) == CHOICES:
            break
    return fitted


# -- whole messages ------------------------------------------------------------------------


def content(text: str | None) -> str | None:
    return None if text is None else _cut_lines(text, CONTENT) if len(text) > CONTENT else text


def message(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a send or an edit (`content`, `embed`, `embeds`, `view`),
    each within Discord's limits. Changes and returns `kwargs`."""
    if isinstance(kwargs.get("content"), str):
        kwargs["content"] = content(kwargs["content"])
    if isinstance(kwargs.get("embed"), discord.Embed):
        kwargs["embed"] = embed(kwargs["embed"])
    if kwargs.get("embeds"):
        kwargs["embeds"] = embeds(kwargs["embeds"])
    if isinstance(kwargs.get("view"), discord.ui.View):
        kwargs["view"] = view(kwargs["view"])
    return kwargs
