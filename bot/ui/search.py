"""How /search looks: a page of ten results, each with Open and Like buttons."""

from __future__ import annotations

from typing import Any

import discord

from bot.music import Album, Track
from bot.search import PAGE_SIZE, SearchKind, SearchPage, SearchResult
from bot.ui.likes import like_button
from bot.ui.messages import ACCENT
from bot.ui.names import linked, shown

KIND_NAMES = {"track": "tracks", "album": "albums", "artist": "artists"}
BUTTONS_PER_ROW = 5


def result_buttons(number: int, result: SearchResult) -> list[discord.ui.Item[Any]]:
    """The buttons under one result, in order: open it in Spotify, like it."""
    buttons: list[discord.ui.Item[Any]] = []
    if result.url:
        buttons.append(discord.ui.Button(label=f"{number}. Open in Spotify", url=result.url))
    if isinstance(result, Track):
        buttons.append(like_button(result.id, label=f"{number}. Like"))
    elif isinstance(result, Album):  # a release: its first track is liked
        buttons.append(like_button(result.id, kind="album", label=f"{number}. Like"))
    return buttons


def page_buttons(page: SearchPage) -> list[discord.ui.Item[Any]]:
    """Every result's buttons, one kind per block of rows: all the "Open" first, and so on.

    With 10 results and two buttons each that fills rows 1-4; row 0 is the page buttons.
    """
    per_result = [
        result_buttons(page.first_position + index, result)
        for index, result in enumerate(page.results)
    ]
    rows_per_kind = -(-PAGE_SIZE // BUTTONS_PER_ROW)
    laid_out: list[discord.ui.Item[Any]] = []
    for kind in range(max((len(buttons) for buttons in per_result), default=0)):
        for index, buttons in enumerate(per_result):
            if kind < len(buttons):
                buttons[kind].row = 1 + kind * rows_per_kind + index // BUTTONS_PER_ROW
                laid_out.append(buttons[kind])
    return laid_out


def _result_line(number: int, result: SearchResult, width: int) -> str:
    title = f"`{number:>{width}}` **{linked(result.name, result.url)}**"
    if isinstance(result, Track):
        album = f" · *{shown(result.album, 60)}*" if result.album else ""
        return f"{title} · {shown(result.artist_names, 60)}{album}"
    if isinstance(result, Album):
        artists = ", ".join(artist.name for artist in result.artists) or "Unknown artist"
        year = result.release_date[:4]
        return f"{title} · {shown(artists, 60)} · {result.album_type} {year}".rstrip()
    return title


def results_embed(page: SearchPage) -> discord.Embed:
    kind = KIND_NAMES[page.kind]
    first, last = page.first_position, page.first_position + len(page.results) - 1
    summary = f"{kind.capitalize()} {first}–{last} of {page.total:,}"
    if page.page_count * PAGE_SIZE < page.total:
        summary += f" (Spotify shows the first {page.page_count * PAGE_SIZE:,})"
    lines = [summary, ""]
    width = len(str(last))  # numbers aligned in a monospace column
    lines += [
        _result_line(page.first_position + index, result, width)
        for index, result in enumerate(page.results)
    ]
    return discord.Embed(
        title=f"Search: {shown(page.query, 200)}", description="\n".join(lines), colour=ACCENT
    )


def no_results_message(query: str, kind: SearchKind) -> str:
    return f"Spotify has no {KIND_NAMES[kind]} matching “{shown(query, 200)}”."
