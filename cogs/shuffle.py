"""/shuffle start, next, peek, play, status, save and stop: smart shuffle queues over a user's
playlists and liked songs (the queue lives in `bot.shuffle`)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import metrics
from bot.client import EncoreBot
from bot.ui import fit
from bot.ui.installs import personal
from bot.ui.listening import save_progress, saved_message
from bot.ui.messages import edit, reply
from bot.ui.shuffle import (
    next_embed,
    peek_embed,
    played_embed,
    played_text,
    source_choice,
    started_message,
    status_embed,
    stopped_message,
    track_view,
)

log = logging.getLogger(__name__)


@personal
class Shuffle(
    commands.GroupCog,
    group_name="shuffle",
    group_description="Smart shuffle queues over your playlists and liked songs",
):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.shuffle = bot.services.shuffle

    @app_commands.command(
        name="start", description="Shuffle a playlist or your liked songs (resumes a queue)"
    )
    @app_commands.describe(source="One of your playlists, or Liked songs")
    async def start(self, interaction: discord.Interaction[EncoreBot], source: str) -> None:
        started = await self.shuffle.start(interaction.user.id, source)
        await reply(interaction, started_message(started))

    @start.autocomplete("source")
    async def source_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        choices = await self.shuffle.source_choices(interaction.user.id, current)
        return fit.choices([source_choice(choice) for choice in choices])

    @app_commands.command(name="next", description="The next tracks of your shuffle queue")
    @app_commands.describe(count="How many tracks (1-10, default 1)")
    async def next(
        self,
        interaction: discord.Interaction[EncoreBot],
        count: app_commands.Range[int, 1, 10] = 1,
    ) -> None:
        dealt = await self.shuffle.next(interaction.user.id, count)
        await reply(interaction, embed=next_embed(dealt), view=track_view(dealt.tracks))

    @app_commands.command(name="peek", description="See what comes next without moving on")
    @app_commands.describe(count="How many tracks (1-20, default 5)")
    async def peek(
        self,
        interaction: discord.Interaction[EncoreBot],
        count: app_commands.Range[int, 1, 20] = 5,
    ) -> None:
        upcoming = await self.shuffle.peek(interaction.user.id, count)
        await reply(interaction, embed=peek_embed(upcoming))

    @app_commands.command(
        name="play", description="Add the next tracks to your Spotify queue (needs Premium)"
    )
    @app_commands.describe(count="How many tracks (1-10, default 1)")
    async def play(
        self,
        interaction: discord.Interaction[EncoreBot],
        count: app_commands.Range[int, 1, 10] = 1,
    ) -> None:
        dealt = await self.shuffle.play(interaction.user.id, count)
        # The tracks are on the Spotify queue now: whatever happens, the member is told.
        try:
            await reply(interaction, embed=played_embed(dealt), view=track_view(dealt.tracks))
        except discord.HTTPException as error:
            if error.status != 400:
                raise
            log.error("Discord refused a /shuffle play answer: %s", error.text)
            metrics.MESSAGES_REFUSED.labels("shuffle play").inc()
            await reply(interaction, played_text(dealt))

    @app_commands.command(name="status", description="Where your shuffle queue stands")
    async def status(self, interaction: discord.Interaction[EncoreBot]) -> None:
        current, others = await self.shuffle.status(interaction.user.id)
        await reply(interaction, embed=status_embed(current, others))

    @app_commands.command(
        name="save", description="Save your shuffle order, from the next track, as a playlist"
    )
    async def save(self, interaction: discord.Interaction[EncoreBot]) -> None:
        saves = self.bot.services.saves
        saved = await saves.save_shuffle(interaction.user.id, save_progress(interaction))
        await edit(interaction, content=saved_message(saved))

    @app_commands.command(name="stop", description="Delete your current shuffle queue")
    async def stop(self, interaction: discord.Interaction[EncoreBot]) -> None:
        stopped, current = await self.shuffle.stop(interaction.user.id)
        await reply(interaction, stopped_message(stopped, current))


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Shuffle(bot))
