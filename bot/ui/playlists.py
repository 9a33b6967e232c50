"""How /playlists and /playlist look: the list of playlists, a playlist's tracks, and the
autocomplete choices."""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands

from bot.music import PlaylistSummary, Track
from bot.playlists import PlaylistTracks
from bot.ui.messages import ACCENT
from bot.ui.names import linked, shown

PLAYLISTS_PER_PAGE = 10
TRACKS_PER_PAGE = 12


def _count(total: int) -> str:
    return f"{total} track" if total == 1 else f"{total:,} tracks"


def playlists_embed(page: Sequence[PlaylistSummary], total: int) -> discord.Embed:
    lines = []
    for playlist in page:
        details = [f"by {shown(playlist.owner_name, 40)}", _count(playlist.total)]
        if playlist.collaborative:
            details.append("collaborative")
        lines.append(f"**{linked(playlist.name, playlist.url)}**\n" + " · ".join(details))
    title = "Your playlist" if total == 1 else f"Your {total} playlists"
    return discord.Embed(title=title, description="\n".join(lines), colour=ACCENT)


def _track_line(position: int, track: Track | None, width: int) -> str:
    number = f"`{position:>{width}}`"
    if track is None:
        return f"{number} *no longer available*"
    return f"{number} {linked(track.name, track.url)} · {shown(track.artist_names, 60)}"


async def tracks_embed(tracks: PlaylistTracks, page: int) -> discord.Embed:
    playlist = tracks.playlist
    entries = await tracks.page(page)
    details = [f"by {shown(playlist.owner_name, 40)}", _count(tracks.total)]
    if playlist.collaborative:
        details.append("collaborative")
    lines = [" · ".join(details), ""]
    width = len(str(tracks.total))  # numbers aligned in a monospace column
    lines += [_track_line(position, track, width) for position, track in entries]
    if not entries:
        lines.append("This playlist is empty.")
    # Titles do not render links or mentions; the url makes the title itself the link.
    return discord.Embed(
        title=shown(playlist.name, 200),
        url=playlist.url,
        description="\n".join(lines),
        colour=ACCENT,
    )


def playlist_choice(playlist: PlaylistSummary) -> app_commands.Choice[str]:
    # Choices are plain text (no markdown, no pings) of at most 100 characters.
    label = f"{playlist.name} · {_count(playlist.total)}"
    if len(label) > 100:
        label = playlist.name[:80].rstrip() + "… · " + _count(playlist.total)
    return app_commands.Choice(name=label[:100], value=playlist.id)


NO_PLAYLISTS = (
    "You have no playlists on Spotify yet: the ones you create or follow will show up here."
)
