"""/like, /unlike, /likes, /likes-privacy, /likes-import and /likes-export: a user's liked tracks in Encore,
and the like button on every track and release Encore shows."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.likes import ImportProgress
from bot.ui import fit
from bot.ui.errors import report_error
from bot.ui.installs import personal
from bot.ui.likes import (
    LIKES_PER_PAGE,
    LikeButton,
    import_message,
    import_progress_message,
    like_message,
    likes_embed,
    no_likes_message,
    privacy_message,
    track_choice,
    unlike_message,
    whose_likes,
)
from bot.ui.listening import save_progress, saved_message
from bot.ui.messages import edit, reply
from bot.ui.paginator import Paginator


class Likes(commands.Cog):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.likes = bot.services.likes

    @app_commands.command(name="like", description="Like a track and save it to your Spotify")
    @personal
    @app_commands.describe(track="A track name, link or ID; leave it out to like what you play now")
    async def like(
        self, interaction: discord.Interaction[EncoreBot], track: str | None = None
    ) -> None:
        result = await self.likes.like(interaction.user.id, track)
        await reply(interaction, like_message(result))

    @like.autocomplete("track")
    async def like_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        found = await self.likes.suggest(interaction.user.id, current)
        return fit.choices([track_choice(t) for t in found])

    @commands.Cog.listener()
    async def on_like_pressed(
        self, interaction: discord.Interaction[Any], kind: str, item_id: str
    ) -> None:
        """A like button (`bot.ui.likes.LikeButton`), on any message, pressed by anyone."""
        # Not a command: errors would only be logged, so they are reported here as one's.
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            if kind == "album":
                result = await self.likes.like_album(interaction.user.id, item_id)
            else:
                result = await self.likes.like_track(interaction.user.id, item_id)
            await reply(interaction, like_message(result))
        except Exception as error:  # every failure gets one friendly answer
            await report_error(interaction, error)

    @app_commands.command(name="unlike", description="Remove a track from your likes")
    @personal
    @app_commands.describe(track="One of your likes")
    async def unlike(self, interaction: discord.Interaction[EncoreBot], track: str) -> None:
        result = await self.likes.unlike(interaction.user.id, track)
        await reply(interaction, unlike_message(result))

    @unlike.autocomplete("track")
    async def unlike_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        own = await self.likes.recent(interaction.user.id, text=current, limit=25)
        return fit.choices([track_choice(t) for t in own])

    @app_commands.command(name="likes", description="Your likes, or a member's if they share them")
    @personal
    @app_commands.describe(member="Whose likes to show (they must have made them public)")
    async def show(
        self, interaction: discord.Interaction[EncoreBot], member: discord.User | None = None
    ) -> None:
        viewer = interaction.user
        owner = member or viewer
        first = await self.likes.page(owner.id, viewer.id, 0, size=LIKES_PER_PAGE)
        if first.total == 0:
            await reply(interaction, no_likes_message(owner, viewer))
            return
        whose = whose_likes(owner, viewer)

        async def render(number: int) -> discord.Embed:
            page = first if number == 0 else await self.likes.page(owner.id, viewer.id, number)
            return likes_embed(whose, number, page.total, page.tracks)

        pages = -(-first.total // LIKES_PER_PAGE)
        await Paginator(viewer.id, pages, render).start(interaction)

    @app_commands.command(
        name="likes-privacy", description="Let other members see your likes, or not"
    )
    @personal
    @app_commands.describe(visibility="public: anyone can see them with /likes; private: only you")
    async def privacy(
        self,
        interaction: discord.Interaction[EncoreBot],
        visibility: Literal["public", "private"],
    ) -> None:
        public = visibility == "public"
        await self.likes.set_public(interaction.user.id, public)
        await reply(interaction, privacy_message(public=public))

    @app_commands.command(
        name="likes-import", description="Bring your Spotify liked songs into your Encore likes"
    )
    @personal
    async def import_likes(self, interaction: discord.Interaction[EncoreBot]) -> None:

        async def show_progress(progress: ImportProgress) -> None:
            message = import_progress_message(progress)
            if message is not None:
                await edit(interaction, content=message)

        result = await self.likes.import_from_spotify(interaction.user.id, show_progress)
        await edit(interaction, content=import_message(result))

    @app_commands.command(
        name="likes-export",
        description="Save your Encore likes as a private Spotify playlist (replaces last time's)",
    )
    @personal
    async def export_likes(self, interaction: discord.Interaction[EncoreBot]) -> None:
        saves = self.bot.services.saves
        saved = await saves.export_likes(interaction.user.id, save_progress(interaction))
        await edit(interaction, content=saved_message(saved))


async def setup(bot: EncoreBot) -> None:
    bot.add_dynamic_items(LikeButton)  # pressed on messages sent before a restart, too
    await bot.add_cog(Likes(bot))
