"""/search: tracks, albums or artists on Spotify, 10 a page, each with a link to open it."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.search import MAX_QUERY_LENGTH, SearchPage, SearchService
from bot.ui.installs import personal
from bot.ui.messages import reply
from bot.ui.paginator import Paginator
from bot.ui.search import no_results_message, page_buttons, results_embed

BUTTONS_TIMEOUT = 300.0  # seconds of inactivity before the page buttons stop


class SearchResults:
    """The pages one /search has shown; a page seen once is not asked of Spotify again."""

    def __init__(self, search: SearchService, first: SearchPage) -> None:
        self._search = search
        self._pages = {0: first}

    async def render(self, number: int) -> discord.Embed:
        if number not in self._pages:
            first = self._pages[0]
            self._pages[number] = await self._search.search(first.query, first.kind, number)
        return results_embed(self._pages[number])

    def buttons(self, number: int) -> list[discord.ui.Item[Any]]:
        return page_buttons(self._pages[number])


class Search(commands.Cog):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.search_service = bot.services.search

    @app_commands.command(name="search", description="Search Spotify for tracks, albums or artists")
    @personal
    @app_commands.describe(query="What to look for", kind="Tracks (the default), albums or artists")
    @app_commands.rename(kind="type")
    async def search(
        self,
        interaction: discord.Interaction[EncoreBot],
        query: app_commands.Range[str, 1, MAX_QUERY_LENGTH],
        kind: Literal["track", "album", "artist"] = "track",
    ) -> None:
        # Results are not personal, but ephemeral all the same: the buttons page for the
        # person who searched only, and a channel is not the place to browse 100 pages.
        first = await self.search_service.search(query, kind)
        if not first.results:
            await reply(interaction, no_results_message(query, kind))
            return
        results = SearchResults(self.search_service, first)
        paginator = Paginator(
            interaction.user.id,
            first.page_count,
            results.render,
            extra_rows=results.buttons,
            timeout=BUTTONS_TIMEOUT,
        )
        await paginator.start(interaction)


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Search(bot))
