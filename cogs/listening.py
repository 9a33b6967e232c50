"""/np, /recent, /top, the "Queue again" button, and the message commands "Like on
Spotify", "Add to my queue" and "Save to a playlist" over the Spotify links of a message."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.listening import PERIODS
from bot.playlist_saves import NothingToSave
from bot.spotify import SpotifyRef, spotify_refs_in
from bot.ui.errors import report_error
from bot.ui.installs import ANYWHERE as EVERYWHERE
from bot.ui.installs import BOTH_INSTALLS, personal
from bot.ui.listening import (
    RECENT_PER_PAGE,
    TOP_PER_PAGE,
    QueueButton,
    SavePicker,
    liked_links_message,
    linked_tracks_notes,
    no_links_message,
    no_recent_message,
    no_top_message,
    now_playing_embed,
    now_playing_message,
    now_playing_view,
    page_count,
    queued_message,
    recent_embed,
    save_picker_message,
    save_progress,
    saved_message,
    saving_message,
    top_embed,
)
from bot.ui.messages import edit, reply
from bot.ui.paginator import Paginator

PeriodName = Literal["4 weeks", "6 months", "all time"]


@personal
class Top(commands.GroupCog, group_name="top", group_description="Your top artists and tracks"):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.listening = bot.services.listening

    @app_commands.command(name="artists", description="Your most listened artists, ranked")
    @app_commands.describe(period="Over which time (default: 6 months)")
    async def artists(
        self, interaction: discord.Interaction[EncoreBot], period: PeriodName = "6 months"
    ) -> None:
        await self._show(interaction, "artists", period)

    @app_commands.command(name="tracks", description="Your most listened tracks, ranked")
    @app_commands.describe(period="Over which time (default: 6 months)")
    async def tracks(
        self, interaction: discord.Interaction[EncoreBot], period: PeriodName = "6 months"
    ) -> None:
        await self._show(interaction, "tracks", period)

    async def _show(
        self,
        interaction: discord.Interaction[EncoreBot],
        kind: Literal["artists", "tracks"],
        period: PeriodName,
    ) -> None:
        top = await self.listening.top(interaction.user.id, kind, PERIODS[period])
        if top.total == 0:
            await reply(interaction, no_top_message(top))
            return

        async def render(number: int) -> discord.Embed:
            return top_embed(number, top)

        pages = page_count(top.total, TOP_PER_PAGE)
        await Paginator(interaction.user.id, pages, render).start(interaction)


class Listening(commands.Cog):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.listening = bot.services.listening
        self.likes = bot.services.likes
        self.saves = bot.services.saves
        self.menus = [
            app_commands.ContextMenu(
                name=name,
                callback=callback,
                allowed_contexts=EVERYWHERE,
                allowed_installs=BOTH_INSTALLS,
            )
            for name, callback in (
                ("Like on Spotify", self.like_links),
                ("Add to my queue", self.queue_links),
                ("Save to a playlist", self.save_links),
            )
        ]

    async def cog_load(self) -> None:
        for menu in self.menus:
            self.bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)

    @app_commands.command(name="np", description="What you are playing on Spotify now")
    @personal
    async def now_playing(self, interaction: discord.Interaction[EncoreBot]) -> None:
        now = await self.listening.now_playing(interaction.user.id)
        message = now_playing_message(now)
        if message is not None or now.track is None:
            await reply(interaction, message)
            return
        await reply(interaction, embed=now_playing_embed(now), view=now_playing_view(now.track))

    @app_commands.command(name="recent", description="The last 50 tracks you played on Spotify")
    @personal
    async def recent(self, interaction: discord.Interaction[EncoreBot]) -> None:
        plays = await self.listening.recent(interaction.user.id)
        if not plays:
            await reply(interaction, no_recent_message())
            return

        async def render(number: int) -> discord.Embed:
            return recent_embed(number, plays)

        pages = page_count(len(plays), RECENT_PER_PAGE)
        await Paginator(interaction.user.id, pages, render).start(interaction)

    @commands.Cog.listener()
    async def on_queue_pressed(self, interaction: discord.Interaction[Any], track_id: str) -> None:
        """ "Queue again" (`bot.ui.listening.QueueButton`), pressed by anyone."""
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            track = await self.listening.track(track_id)
            result = await self.listening.queue(interaction.user.id, [track])
            await reply(interaction, queued_message(result))
        except Exception as error:  # not a command: report it here, once
            await report_error(interaction, error)

    # -- message commands ------------------------------------------------------------------

    async def like_links(
        self, interaction: discord.Interaction[EncoreBot], message: discord.Message
    ) -> None:
        refs = await _links_in(interaction, message)
        if not refs:
            return
        done = await self.listening.like_links(interaction.user.id, refs)
        await reply(interaction, liked_links_message(done))

    async def queue_links(
        self, interaction: discord.Interaction[EncoreBot], message: discord.Message
    ) -> None:
        refs = await _links_in(interaction, message)
        if not refs:
            return
        found = await self.listening.linked_tracks(interaction.user.id, refs)
        notes = linked_tracks_notes(found)
        if not found.tracks:
            await reply(interaction, notes or no_links_message())
            return
        result = await self.listening.queue(interaction.user.id, found.tracks)
        await reply(interaction, " ".join(filter(None, [queued_message(result), notes])))

    async def save_links(
        self, interaction: discord.Interaction[EncoreBot], message: discord.Message
    ) -> None:
        refs = await _links_in(interaction, message)
        if not refs:
            return
        found = await self.listening.linked_tracks(interaction.user.id, refs)
        notes = linked_tracks_notes(found)
        if not found.tracks:
            raise NothingToSave("saved")
        targets = await self.saves.targets(interaction.user.id)
        tracks = found.tracks
        if not targets.own:  # nothing to choose from: Encore's playlist it is
            saved = await self.saves.save_tracks(
                interaction.user.id, tracks, save_progress(interaction)
            )
            await edit(interaction, content=" ".join(filter(None, [saved_message(saved), notes])))
            return

        async def save_to(picked: discord.Interaction[Any], playlist_id: str | None) -> None:
            try:
                await picked.response.edit_message(content=saving_message(len(tracks)), view=None)
                saved = await self.saves.save_tracks(
                    picked.user.id, tracks, save_progress(picked), playlist_id=playlist_id
                )
                await edit(picked, content=" ".join(filter(None, [saved_message(saved), notes])))
            except Exception as error:  # a view's callback: report it here, once
                await report_error(picked, error)

        picker = SavePicker(interaction.user.id, targets, save_to)
        await edit(interaction, content=save_picker_message(len(tracks), notes), view=picker)


async def _links_in(
    interaction: discord.Interaction[EncoreBot], message: discord.Message
) -> list[SpotifyRef]:
    """The message's Spotify links; none: says so and answers."""
    refs = spotify_refs_in(_text_of(message))
    if not refs:
        await reply(interaction, no_links_message())
    return refs


def _text_of(message: discord.Message) -> str:
    """The message's text and its embeds' links, where Spotify links are found."""
    parts = [message.content]
    for embed in message.embeds:
        parts.extend(filter(None, [embed.url, embed.title, embed.description]))
    return "\n".join(parts)


async def setup(bot: EncoreBot) -> None:
    bot.add_dynamic_items(QueueButton)  # pressed on messages sent before a restart, too
    await bot.add_cog(Listening(bot))
    await bot.add_cog(Top(bot))
