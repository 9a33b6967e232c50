"""/playlists and /playlist: the user's Spotify playlists, and the tracks of one of them."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.ui import fit
from bot.ui.installs import personal
from bot.ui.messages import reply
from bot.ui.paginator import Paginator, chunk
from bot.ui.playlists import (
    NO_PLAYLISTS,
    PLAYLISTS_PER_PAGE,
    TRACKS_PER_PAGE,
    playlist_choice,
    playlists_embed,
    tracks_embed,
)

BUTTONS_TIMEOUT = 300.0  # seconds of inactivity before the page buttons stop
# Commands after which the cached list may belong to an account that is no longer linked.
UNLINKING_COMMANDS = frozenset({"unlink", "forget-me"})


class Playlists(commands.Cog):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.playlists = bot.services.playlists

    @app_commands.command(name="playlists", description="List your Spotify playlists")
    @personal
    async def list_playlists(self, interaction: discord.Interaction[EncoreBot]) -> None:
        playlists = await self.playlists.playlists(interaction.user.id)
        if not playlists:
            await reply(interaction, NO_PLAYLISTS)
            return
        pages = chunk(playlists, PLAYLISTS_PER_PAGE)

        async def render(page: int) -> discord.Embed:
            return playlists_embed(pages[page], len(playlists))

        paginator = Paginator(interaction.user.id, len(pages), render, timeout=BUTTONS_TIMEOUT)
        await paginator.start(interaction)

    @app_commands.command(name="playlist", description="Show the tracks of one of your playlists")
    @personal
    @app_commands.describe(name="One of your playlists, or a Spotify playlist link")
    async def show_playlist(
        self, interaction: discord.Interaction[EncoreBot], name: app_commands.Range[str, 1, 200]
    ) -> None:
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
        return fit.choices([playlist_choice(playlist) for playlist in found])

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
