"""The like button on every track or release Encore shows, and how a like is told to the user.

The button is a `DynamicItem`: its custom id carries what to like, so it works on any
message, after any restart, for whoever presses it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord.utils import escape_markdown

from bot.likes import LikeResult, UnlikeResult
from bot.music import Track
from bot.ui.errors import report_error
from bot.ui.messages import reply

if TYPE_CHECKING:
    from bot.client import EncoreBot

TEMPLATE = r"encore:like:(?P<kind>track|album):(?P<id>[A-Za-z0-9]{1,64})"


class LikeButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """❤ Like: likes the track (or a release's first track) for the person who pressed it."""

    def __init__(self, item_id: str, *, kind: str = "track", label: str = "Like") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                emoji="❤️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"encore:like:{kind}:{item_id}",
            )
        )
        self.kind = kind
        self.item_id = item_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> LikeButton:
        return cls(match["id"], kind=match["kind"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Not a view's button: a DynamicItem's errors would only be logged, so they are
        # reported here like any command's.
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            likes = cast("EncoreBot", interaction.client).services.likes
            if self.kind == "album":
                result = await likes.like_album(interaction.user.id, self.item_id)
            else:
                result = await likes.like_track(interaction.user.id, self.item_id)
            await reply(interaction, like_message(result))
        except Exception as error:  # every failure gets one friendly answer
            await report_error(interaction, error)


def like_button(track_id: str, *, kind: str = "track", label: str = "Like") -> discord.ui.Item[Any]:
    """A like button for any view that shows a track (`kind="album"` for a release).

    `label` tells buttons apart when a message shows several tracks ("3. Like").
    """
    return LikeButton(track_id, kind=kind, label=label)


def track_title(track: Track) -> str:
    name = escape_markdown(track.name)
    title = f"**[{name}]({track.url})**" if track.url else f"**{name}**"
    return f"{title} by {escape_markdown(track.artist_names)}"


def like_message(result: LikeResult) -> str:
    title = track_title(result.track)
    if result.album_name:
        title += f", the first track of *{escape_markdown(result.album_name)}*"
    if result.searched_for:
        title += f" (the top match for “{escape_markdown(result.searched_for[:80])}”)"
    if result.already_liked:
        if result.saved_just_now:
            return f"{title} is already in your likes; it is saved to your Spotify library now."
        lead = f"{title} is already in your likes. "
    elif result.saved_just_now:
        return f"Liked {title} and saved it to your Spotify library."
    else:
        lead = f"Liked {title}. "
    if result.saved_to_spotify:
        return lead.strip()
    if result.scope_missing:
        return lead + (
            "It was not saved to your Spotify library: Encore was not allowed to change it. "
            "Use `/link` again to grant that permission."
        )
    if result.spotify_error is not None:
        return lead + f"It was not saved to Spotify: {result.spotify_error.user_message}"
    return lead.strip()


def unlike_message(result: UnlikeResult) -> str:
    liked = result.track
    title = f"**{escape_markdown(liked.name)}** by {escape_markdown(liked.artist_names)}"
    if result.removed_from_spotify:
        return f"Removed {title} from your likes and from your Spotify library."
    if result.scope_missing:
        return (
            f"Removed {title} from your likes. Encore may not change your Spotify library, "
            "so it stays there: use `/link` again to grant that permission."
        )
    if result.spotify_error is not None:
        return (
            f"Removed {title} from your likes, but not from Spotify: "
            f"{result.spotify_error.user_message}"
        )
    return f"Removed {title} from your likes."
