"""/playlists and /playlist: the user's Spotify playlists, and the tracks of one of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.music import PlaylistSummary, Track
from bot.playlists import PlaylistTracks
from bot.ui.messages import ACCENT, reply
from bot.ui.names import linked, shown
from bot.ui.paginator import Paginator, chunk

PLAYLISTS_PER_PAGE = 10
TRACKS_PER_PAGE = 12
BUTTONS_TIMEOUT = 300.0  # seconds of inactivity before the page buttons stop
# Commands after which the cached list may belong to an account that is no longer linked.
UNLINKING_COMMANDS = frozenset({"unlink", "forget-me"})


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


def _choice(playlist: PlaylistSummary) -> app_commands.Choice[str]:
    # Choices are plain text (no markdown, no pings) of at most 100 characters.
    label = f"{playlist.name} · {_count(playlist.total)}"
    if len(label) > 100:
        label = playlist.name[:80].rstrip() + "… · " + _count(playlist.total)
    return app_commands.Choice(name=label[:100], value=playlist.id)


class Playlists(commands.Cog):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.playlists = bot.services.playlists

    @app_commands.command(name="playlists", description="List your Spotify playlists")
    async def list_playlists(self, interaction: discord.Interaction[EncoreBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        playlists = await self.playlists.playlists(interaction.user.id)
        if not playlists:
            await reply(
                interaction,
                "You have no playlists on Spotify yet: the ones you create or follow will "
                "show up here.",
            )
            return
        pages = chunk(playlists, PLAYLISTS_PER_PAGE)

        async def render(page: int) -> discord.Embed:
            return playlists_embed(pages[page], len(playlists))

        paginator = Paginator(interaction.user.id, len(pages), render, timeout=BUTTONS_TIMEOUT)
        await paginator.start(interaction)

    @app_commands.command(name="playlist", description="Show the tracks of one of your playlists")
    @app_commands.describe(name="One of your playlists, or a Spotify playlist link")
    async def show_playlist(
        self, interaction: discord.Interaction[EncoreBot], name: app_commands.Range[str, 1, 200]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        # `name` is a playlist id when picked from the suggestions; typed text otherwise.
        tracks = await self.playlists.open(interaction.user.id, name, per_page=TRACKS_PER_PAGE)

        async def render(page: int) -> discord.Embed:
            return await tracks_embed(tracks, page)

        paginator = Paginator(
            interaction.user.id, tracks.page_count, render, timeout=BUTTONS_TIMEOUT
        )
        await paginator.start(interaction)

    @show_playlist.autocomplete("name")
    async def playlist_names(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        found = await self.playlists.suggestions(interaction.user.id, current)
        return [_choice(playlist) for playlist in found]

    @commands.Cog.listener()
    async def on_app_command_completion(
        self,
        interaction: discord.Interaction[EncoreBot],
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        if command.qualified_name in UNLINKING_COMMANDS:
            self.playlists.forget(interaction.user.id)


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Playlists(bot))
