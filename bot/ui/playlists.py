"""How /playlists and /playlist look: the list of playlists, a playlist's tracks, and the
autocomplete choices."""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands

from bot.music import PlaylistSummary, Track
from bot.playlists import PlaylistTracks
from bot.ui import fit
from bot.ui.messages import ACCENT
from bot.ui.names import linked, shown

PLAYLISTS_PER_PAGE = 10
TRACKS_PER_PAGE = 12


def _count(total: int) -> str:
    return f"{total} track" if total == 1 else f"{total:,} tracks"


def playlists_embed(page: Sequence[PlaylistSummary], total: int) -> discord.Embed:
    def render(size: int) -> str:
        lines = []
        for playlist in page:
            details = [f"by {shown(playlist.owner_name, min(size, 40))}", _count(playlist.total)]
            if playlist.collaborative:
                details.append("collaborative")
            lines.append(f"**{linked(playlist.name, playlist.url, size)}**\n" + " · ".join(details))
        return "\n".join(lines)

    title = "Your playlist" if total == 1 else f"Your {total:,} playlists"
    return discord.Embed(
        title=title, description=fit.shrink(render, fit.DESCRIPTION), colour=ACCENT
    )


def _track_line(position: int, track: Track | None, width: int, size: int = 80) -> str:
    number = f"`{position:>{width}}`"
    if track is None:
        return f"{number} *no longer available*"
    artists = shown(track.artist_names, min(size, 60))
    return f"{number} {linked(track.name, track.url, size)} · {artists}"


async def tracks_embed(tracks: PlaylistTracks, page: int) -> discord.Embed:
    playlist = tracks.playlist
    entries = await tracks.page(page)
    details = [f"by {shown(playlist.owner_name, 40)}", _count(tracks.total)]
    if playlist.collaborative:
        details.append("collaborative")
    head = " · ".join(details) + "\n\n"
    width = len(str(tracks.total))  # numbers aligned in a monospace column

    def render(size: int) -> str:
        lines = [_track_line(position, track, width, size) for position, track in entries]
        return "\n".join(lines) or "This playlist is empty."

    # Titles do not render links or mentions; the url makes the title itself the link.
    return discord.Embed(
        title=shown(playlist.name, 200),
        url=playlist.url,
        description=head + fit.shrink(render, fit.DESCRIPTION - len(head)),
        colour=ACCENT,
    )


def playlist_choice(playlist: PlaylistSummary) -> app_commands.Choice[str]:
    # Choices are plain text (no markdown, no pings) of at most 100 characters: the name
    # gives way to the count.
    tail = f" · {_count(playlist.total)}"
    name = fit.plain(playlist.name, fit.CHOICE_NAME - len(tail)) or "…"
    return app_commands.Choice(name=name + tail, value=playlist.id)


NO_PLAYLISTS = (
    "You have no playlists on Spotify yet: the ones you create or follow will show up here."
)
