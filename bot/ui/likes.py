"""How likes look: the like button on every track or release Encore shows, what a like or
an unlike tells the user, the /likes pages and the import's progress.

The button is a `DynamicItem`: its custom id carries what to like, so it works on any
message, after any restart, for whoever presses it. A press is dispatched as the
`like_pressed` event (`on_like_pressed(interaction, kind, item_id)`); the likes cog answers it.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands

from bot.likes import ImportProgress, ImportResult, LikedTrack, LikeResult, UnlikeResult
from bot.music import Track
from bot.spotify import PAGE_SIZE as SPOTIFY_PAGE_SIZE
from bot.ui import fit
from bot.ui.messages import ACCENT

LIKE_PRESSED = "like_pressed"  # the event a press dispatches
# `:<position>` tells apart two like buttons for the same track in one message (a track
# twice in a playlist): Discord refuses a message whose custom ids repeat.
TEMPLATE = r"encore:like:(?P<kind>track|album):(?P<id>[A-Za-z0-9]{1,64})(?::(?P<at>[0-9]{1,6}))?"


class LikeButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """❤ Like: likes the track (or a release's first track) for the person who pressed it."""

    def __init__(
        self, item_id: str, *, kind: str = "track", label: str = "Like", at: int | None = None
    ) -> None:
        custom_id = f"encore:like:{kind}:{item_id}" + (f":{at}" if at is not None else "")
        super().__init__(
            discord.ui.Button(
                label=fit.plain(label, fit.LABEL),
                emoji="❤️",
                style=discord.ButtonStyle.secondary,
                custom_id=custom_id,
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
        at = int(match["at"]) if match["at"] else None
        return cls(match["id"], kind=match["kind"], at=at)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        interaction.client.dispatch(LIKE_PRESSED, interaction, self.kind, self.item_id)


def like_button(
    track_id: str, *, kind: str = "track", label: str = "Like", at: int | None = None
) -> discord.ui.Item[Any]:
    """A like button for any view that shows a track (`kind="album"` for a release).

    `label` tells buttons apart when a message shows several tracks ("3. Like"); `at` (its
    position) tells apart two buttons for the same track in one message.
    """
    return LikeButton(track_id, kind=kind, label=label, at=at)


def track_title(track: Track) -> str:
    return f"**{fit.link(track.name, track.url, 200)}** by {fit.name(track.artist_names, 200)}"


def like_message(result: LikeResult) -> str:
    title = track_title(result.track)
    if result.album_name:
        title += f", the first track of *{fit.name(result.album_name, 200)}*"
    if result.searched_for:
        title += f" (the top match for “{fit.name(result.searched_for, 80)}”)"
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
    title = f"**{fit.name(liked.name, 200)}** by {fit.name(liked.artist_names, 200)}"
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


# -- /like autocomplete, /likes, /likes-import -------------------------------------------

LIKES_PER_PAGE = 10
PROGRESS_EVERY = 2  # Spotify pages between progress edits: often enough, within rate limits


def track_choice(track: Track | LikedTrack) -> app_commands.Choice[str]:
    # Choices are plain text: the track's name first, its artists with what room is left.
    artists = fit.plain(track.artist_names, max(20, fit.CHOICE_NAME - 3 - len(track.name)))
    label = fit.plain(f"{fit.one_line(track.name)} — {artists}", fit.CHOICE_NAME)
    return app_commands.Choice(name=label or track.id, value=track.id)


def _liked_line(position: int, track: LikedTrack, size: int = 80) -> str:
    when = discord.utils.format_dt(track.liked_at, "d")
    return (
        f"`{position:>3}.` **{fit.link(track.name, track.url, size)}** · "
        f"{fit.name(track.artist_names, size)} · {when}"
    )


def whose_likes(owner: discord.abc.User, viewer: discord.abc.User) -> str:
    return "Your" if owner.id == viewer.id else f"{fit.name(owner.display_name, 40)}'s"


def no_likes_message(owner: discord.abc.User, viewer: discord.abc.User) -> str:
    if owner.id == viewer.id:
        return (
            "You have no likes yet. Like a track with `/like`, or bring in your Spotify "
            "liked songs with `/likes-import`."
        )
    return f"{fit.name(owner.display_name, 40)} has no likes yet."


def likes_embed(whose: str, number: int, total: int, tracks: list[LikedTrack]) -> discord.Embed:
    """Page `number` (from 0) of someone's likes."""

    def page(size: int) -> str:
        return "\n".join(
            _liked_line(number * LIKES_PER_PAGE + i + 1, track, size)
            for i, track in enumerate(tracks)
        )

    return discord.Embed(
        title=fit.cut(f"{whose} likes ({total:,})", fit.TITLE),
        description=fit.shrink(page, fit.DESCRIPTION) or "Nothing on this page any more.",
        colour=ACCENT,
    )


def privacy_message(*, public: bool) -> str:
    if public:
        return (
            "Your likes are public now: other members can see them by choosing you in "
            "`/likes member:`."
        )
    return "Your likes are private now: only you can see them."


def import_progress_message(progress: ImportProgress) -> str | None:
    """The progress line to show now, or None between updates (edits are rate limited)."""
    pages_read = -(-progress.imported // SPOTIFY_PAGE_SIZE)
    if progress.imported < progress.total and pages_read % PROGRESS_EVERY == 0:
        return f"Imported {progress.imported:,} of {progress.total:,}…"
    return None


def import_message(result: ImportResult) -> str:
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
