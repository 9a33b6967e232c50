"""/like, /unlike, /likes, /likes-privacy and /likes-import: a user's liked tracks in Encore."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import escape_markdown

from bot.client import EncoreBot
from bot.likes import ImportProgress, ImportResult, LikedTrack
from bot.music import Track
from bot.spotify import PAGE_SIZE as SPOTIFY_PAGE_SIZE
from bot.ui.like_button import like_message, unlike_message
from bot.ui.messages import ACCENT, reply
from bot.ui.paginator import Paginator

PAGE_SIZE = 10
PROGRESS_EVERY = 2  # Spotify pages between progress edits: often enough, within rate limits


def _choice(track: Track | LikedTrack) -> app_commands.Choice[str]:
    label = f"{track.name} — {track.artist_names}"
    if len(label) > 100:
        label = label[:99] + "…"
    return app_commands.Choice(name=label, value=track.id)


def _line(position: int, track: LikedTrack) -> str:
    name = escape_markdown(track.name)
    title = f"[{name}]({track.url})" if track.url else name
    when = discord.utils.format_dt(track.liked_at, "d")
    return f"`{position:>3}.` **{title}** · {escape_markdown(track.artist_names)} · {when}"


def _import_message(result: ImportResult) -> str:
    if result.complete:
        if result.total == 0:
            return "Your Spotify library has no liked songs to import."
        return (
            f"Imported {result.read:,} liked songs from Spotify: {result.added:,} new in your "
            f"Encore likes, {result.read - result.added:,} were already there."
        )
    assert result.interrupted_by is not None
    return (
        f"The import stopped after {result.read:,} of {result.total:,} songs "
        f"({result.added:,} new): {result.interrupted_by.user_message} Everything read so far "
        "is kept; run `/likes-import` again later to bring in the rest."
    )


class Likes(commands.Cog):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.likes = bot.services.likes

    @app_commands.command(name="like", description="Like a track and save it to your Spotify")
    @app_commands.describe(track="A track name, link or ID; leave it out to like what you play now")
    async def like(
        self, interaction: discord.Interaction[EncoreBot], track: str | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.likes.like(interaction.user.id, track)
        await reply(interaction, like_message(result))

    @like.autocomplete("track")
    async def like_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return [_choice(t) for t in await self.likes.suggest(interaction.user.id, current)]

    @app_commands.command(name="unlike", description="Remove a track from your likes")
    @app_commands.describe(track="One of your likes")
    async def unlike(self, interaction: discord.Interaction[EncoreBot], track: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.likes.unlike(interaction.user.id, track)
        await reply(interaction, unlike_message(result))

    @unlike.autocomplete("track")
    async def unlike_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        own = await self.likes.recent(interaction.user.id, text=current, limit=25)
        return [_choice(t) for t in own]

    @app_commands.command(name="likes", description="Your likes, or a member's if they share them")
    @app_commands.describe(member="Whose likes to show (they must have made them public)")
    async def show(
        self, interaction: discord.Interaction[EncoreBot], member: discord.User | None = None
    ) -> None:
        viewer = interaction.user
        owner = member or viewer
        first = await self.likes.page(owner.id, viewer.id, 0, size=PAGE_SIZE)
        whose = "Your" if owner.id == viewer.id else f"{escape_markdown(owner.display_name)}'s"
        if first.total == 0:
            empty = (
                "You have no likes yet. Like a track with `/like`, or bring in your Spotify "
                "liked songs with `/likes-import`."
                if owner.id == viewer.id
                else f"{escape_markdown(owner.display_name)} has no likes yet."
            )
            await reply(interaction, empty)
            return

        async def render(number: int) -> discord.Embed:
            page = first if number == 0 else await self.likes.page(owner.id, viewer.id, number)
            lines = [
                _line(number * PAGE_SIZE + i + 1, track) for i, track in enumerate(page.tracks)
            ]
            return discord.Embed(
                title=f"{whose} likes ({page.total:,})",
                description="\n".join(lines) or "Nothing on this page any more.",
                colour=ACCENT,
            )

        pages = -(-first.total // PAGE_SIZE)
        await Paginator(viewer.id, pages, render).start(interaction)

    @app_commands.command(
        name="likes-privacy", description="Let other members see your likes, or not"
    )
    @app_commands.describe(visibility="public: anyone can see them with /likes; private: only you")
    async def privacy(
        self,
        interaction: discord.Interaction[EncoreBot],
        visibility: Literal["public", "private"],
    ) -> None:
        await self.likes.set_public(interaction.user.id, visibility == "public")
        if visibility == "public":
            text = (
                "Your likes are public now: other members can see them by choosing you in "
                "`/likes member:`."
            )
        else:
            text = "Your likes are private now: only you can see them."
        await reply(interaction, text)

    @app_commands.command(
        name="likes-import", description="Bring your Spotify liked songs into your Encore likes"
    )
    async def import_likes(self, interaction: discord.Interaction[EncoreBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)

        async def show_progress(progress: ImportProgress) -> None:
            pages_read = -(-progress.imported // SPOTIFY_PAGE_SIZE)
            if progress.imported < progress.total and pages_read % PROGRESS_EVERY == 0:
                await interaction.edit_original_response(
                    content=f"Imported {progress.imported:,} of {progress.total:,}…"
                )

        result = await self.likes.import_from_spotify(interaction.user.id, show_progress)
        await interaction.edit_original_response(content=_import_message(result))


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Likes(bot))
