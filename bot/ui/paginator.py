"""Paginated embeds with first/previous/next/last buttons that only their owner can press."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.discord_setup import NO_MENTIONS
from bot.ui import fit
from bot.ui.errors import report_error
from bot.ui.messages import reply

PageRenderer = Callable[[int], Awaitable[discord.Embed]]


class Paginator(discord.ui.View):
    """Pages rendered on demand; the buttons stop after `timeout` and the message says so."""

    def __init__(
        self,
        owner_id: int,
        page_count: int,
        render: PageRenderer,
        *,
        timeout: float = 180.0,
        extra_rows: Callable[[int], Sequence[discord.ui.Item[Any]]] | None = None,
    ) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.page_count = max(1, page_count)
        self.page = 0
        self._render = render
        self._extra_rows = extra_rows
        self._interaction: discord.Interaction[Any] | None = None
        self._embed: discord.Embed | None = None

    async def start(self, interaction: discord.Interaction[Any], *, ephemeral: bool = True) -> None:
        self._interaction = interaction
        embed = await self._page_embed()
        self._sync_buttons()
        fit.view(self)
        if self.page_count == 1 and not self._extra_rows:
            await reply(interaction, embed=embed, ephemeral=ephemeral)
            self.stop()
            return
        await reply(interaction, embed=embed, view=self, ephemeral=ephemeral)

    async def _page_embed(self) -> discord.Embed:
        embed = await self._render(self.page)
        embed.set_footer(text=f"Page {self.page + 1} of {self.page_count}")
        self._embed = fit.embed(embed)
        return embed

    async def _turn_to(self, page: int) -> discord.Embed:
        """Render `page` first, so a failure (Spotify busy...) leaves the current page shown."""
        previous = self.page
        self.page = page
        try:
            return await self._page_embed()
        except BaseException:
            self.page = previous
            raise

    def _sync_buttons(self) -> None:
        self.first.disabled = self.previous.disabled = self.page == 0
        self.next.disabled = self.last.disabled = self.page >= self.page_count - 1
        self.counter.label = f"{self.page + 1} / {self.page_count}"
        for item in list(self.children):
            if (item.row or 0) >= 1:
                self.remove_item(item)
        if self._extra_rows:
            # Rows 1-4 belong to the page; an item without a row goes in row 1.
            extra = list(self._extra_rows(self.page))
            for item in extra:
                if not item.row:
                    item.row = 1
            fit.add(self, extra)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "These buttons belong to the person who ran the command. Run it yourself to browse.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return False
        return True

    async def _go(self, interaction: discord.Interaction[Any], page: int) -> None:
        await interaction.response.defer()  # rendering may read the database or Spotify
        embed = await self._turn_to(min(max(page, 0), self.page_count - 1))
        self._sync_buttons()
        await interaction.edit_original_response(embed=embed, view=fit.view(self))

    @discord.ui.button(label="«", style=discord.ButtonStyle.secondary, row=0)
    async def first(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        await self._go(interaction, 0)

    @discord.ui.button(label="‹", style=discord.ButtonStyle.secondary, row=0)
    async def previous(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        await self._go(interaction, self.page - 1)

    @discord.ui.button(label="1 / 1", style=discord.ButtonStyle.secondary, disabled=True, row=0)
    async def counter(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.defer()

    @discord.ui.button(label="›", style=discord.ButtonStyle.secondary, row=0)
    async def next(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        await self._go(interaction, self.page + 1)

    @discord.ui.button(label="»", style=discord.ButtonStyle.secondary, row=0)
    async def last(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        await self._go(interaction, self.page_count - 1)

    async def on_timeout(self) -> None:
        if self._interaction is None or self._embed is None:
            return
        self._embed.set_footer(
            text=f"Page {self.page + 1} of {self.page_count} · buttons expired, run the command again"
        )
        fit.embed(self._embed)
        # Link buttons need no bot behind them and dynamic items (like buttons) are routed
        # by their custom id: they stay. Only the page buttons go.
        lasting = [
            item
            for item in self.children
            if isinstance(item, discord.ui.DynamicItem)
            or (isinstance(item, discord.ui.Button) and item.url)
        ]
        remaining: discord.ui.View | None = None
        if lasting:
            remaining = discord.ui.View(timeout=None)
            for item in lasting:
                remaining.add_item(item)
        try:
            await self._interaction.edit_original_response(
                embed=self._embed, view=fit.view(remaining)
            )
        except discord.HTTPException:
            pass  # the message is gone or the token expired: nothing to tidy

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report_error(interaction, error)


def chunk(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]
