"""How /np, /recent, /top, the saves as a playlist and the message commands look.

The "Queue again" button is a `DynamicItem` like the like button: its custom id carries the
track, so it works after a restart, for whoever presses it (dispatched as the
`queue_pressed` event, answered by the listening cog).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.listening import (
    LikedLinks,
    LinkedTracks,
    NowPlaying,
    QueueResult,
    RecentPlay,
    TopArtist,
    TopList,
)
from bot.music import Track
from bot.playlist_saves import NothingToSave, Saved, SaveInterrupted, SaveProgress, SaveTargets
from bot.spotify import WriteProgress
from bot.ui import fit
from bot.ui.likes import like_button, like_message
from bot.ui.messages import ACCENT, edit
from bot.ui.names import linked, shown

QUEUE_PRESSED = "queue_pressed"
RECENT_PER_PAGE = 10
TOP_PER_PAGE = 10
PROGRESS_EVERY = 500  # items between progress edits of a save (5 requests)
PERIOD_NAMES = {
    "short_term": "the last 4 weeks",
    "medium_term": "the last 6 months",
    "long_term": "all time",
}
SPOTIFY_TRACK_URL = "https://open.spotify.com/track/{}"


class QueueButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"encore:queue:track:(?P<id>[A-Za-z0-9]{22})",
):
    """➕ Queue again: adds the track to the presser's Spotify queue."""

    def __init__(self, track_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Queue again",
                emoji="➕",
                style=discord.ButtonStyle.secondary,
                custom_id=f"encore:queue:track:{track_id}",
            )
        )
        self.track_id = track_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> QueueButton:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        interaction.client.dispatch(QUEUE_PRESSED, interaction, self.track_id)


def _clock(ms: int) -> str:
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02}:{rest % 60:02}" if hours else f"{rest // 60}:{rest % 60:02}"


def progress_bar(progress_ms: int, duration_ms: int, width: int = 16) -> str:
    if duration_ms <= 0:
        return _clock(progress_ms)
    filled = min(width - 1, int(width * progress_ms / duration_ms))
    bar = "▬" * filled + "🔘" + "▬" * (width - 1 - filled)
    return f"`{_clock(progress_ms)}` {bar} `{_clock(duration_ms)}`"


# -- /np --------------------------------------------------------------------------------


def now_playing_message(now: NowPlaying) -> str | None:
    """The answer when there is no track to show, else None (the embed shows it)."""
    where = f" on **{shown(now.device.name, 60)}**" if now.device else ""
    if now.state == "nothing":
        return (
            "Nothing is playing on your Spotify right now. Start something, then try `/np` "
            "again; `/recent` shows what you played last."
        )
    if now.state == "private":
        return (
            f"You are in a private session{where}: Spotify does not share what you play in "
            "one, so Encore cannot show it."
        )
    if now.state == "ad":
        return f"Spotify is playing an advertisement{where}. Try again when your music is back."
    if now.state == "episode":
        name = shown(now.episode or "a podcast episode", 120)
        show = f" from *{shown(now.show, 80)}*" if now.show else ""
        return (
            f"You are listening to a podcast episode{where}: **{name}**{show}. `/np` shows "
            "music tracks only."
        )
    return None


def now_playing_embed(now: NowPlaying) -> discord.Embed:
    track = now.track
    assert track is not None
    embed = discord.Embed(
        title="Now playing" if now.is_playing else "Paused",
        description=(
            f"**{linked(track.name, track.url, 200)}**\nby {shown(track.artist_names, 200)}"
        ),
        colour=ACCENT,
    )
    if track.album:
        embed.add_field(name="Album", value=shown(track.album, 200), inline=True)
    if now.device:
        embed.add_field(name="Device", value=shown(now.device.name, 100), inline=True)
    embed.add_field(
        name="Progress", value=progress_bar(now.progress_ms, track.duration_ms), inline=False
    )
    if now.album_image:
        embed.set_thumbnail(url=now.album_image)
    return embed


def now_playing_view(track: Track) -> discord.ui.View:
    view = discord.ui.View(timeout=None)  # link and dynamic buttons only
    view.add_item(
        discord.ui.Button(
            label="Open in Spotify",
            url=track.url or SPOTIFY_TRACK_URL.format(track.id),
            style=discord.ButtonStyle.link,
        )
    )
    view.add_item(like_button(track.id))
    view.add_item(QueueButton(track.id))
    return view


# -- /recent and /top ----------------------------------------------------------------------


def no_recent_message() -> str:
    return "Spotify has no recently played tracks for you yet. Play something and look again."


def recent_embed(number: int, plays: Sequence[RecentPlay]) -> discord.Embed:
    """Page `number` (from 0); each play in the reader's own time (Discord timestamps)."""
    page = plays[number * RECENT_PER_PAGE : (number + 1) * RECENT_PER_PAGE]
    lines = []
    for index, play in enumerate(page, start=number * RECENT_PER_PAGE + 1):
        track = play.track
        when = discord.utils.format_dt(play.played_at, "f")
        ago = discord.utils.format_dt(play.played_at, "R")
        lines.append(
            f"`{index:>2}.` **{linked(track.name, track.url)}** · {shown(track.artist_names)}"
            f"\n{when} ({ago})"
        )
    return discord.Embed(
        title=f"Recently played ({len(plays)})", description="\n".join(lines), colour=ACCENT
    )


def no_top_message(top: TopList) -> str:
    return (
        f"Spotify has no top {top.kind} for you over {PERIOD_NAMES[top.period]} yet: it "
        "ranks them once you have listened for a while. Try a longer period."
    )


def _artist_line(rank: int, top: TopArtist) -> str:
    genres = f" · *{shown(', '.join(top.genres[:3]), 60)}*" if top.genres else ""
    return f"`{rank:>2}.` **{linked(top.artist.name, top.artist.url)}**{genres}"


def top_embed(number: int, top: TopList) -> discord.Embed:
    start = number * TOP_PER_PAGE
    if top.kind == "artists":
        lines = [
            _artist_line(start + i + 1, artist)
            for i, artist in enumerate(top.artists[start : start + TOP_PER_PAGE])
        ]
    else:
        lines = [
            f"`{start + i + 1:>2}.` **{linked(track.name, track.url)}** · "
            f"{shown(track.artist_names)}"
            for i, track in enumerate(top.tracks[start : start + TOP_PER_PAGE])
        ]
    return discord.Embed(
        title=f"Your top {top.kind} · {PERIOD_NAMES[top.period]}",
        description="\n".join(lines),
        colour=ACCENT,
    )


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


# -- the playback queue --------------------------------------------------------------------


def _title(track: Track) -> str:
    return f"**{linked(track.name, track.url)}** by {shown(track.artist_names)}"


def queued_message(result: QueueResult) -> str:
    if len(result.queued) == 1 and result.asked == 1:
        return f"Added {_title(result.queued[0])} to your Spotify queue."
    text = f"Added {len(result.queued)} of {result.asked} tracks to your Spotify queue."
    if result.stopped_by is not None:
        text += f" Spotify stopped there: {result.stopped_by.user_message}"
    return text


# -- saves as a playlist -------------------------------------------------------------------

WHAT = {"likes": "your Encore likes", "shuffle": "your shuffle order", "saved": "those tracks"}


def save_progress_message(step: WriteProgress) -> str | None:
    """The progress line to show now, or None between updates (edits are rate limited)."""
    if step.written == 0:
        verb = "Making a new private playlist" if step.created else "Replacing last time's playlist"
        return f"{verb} for {step.total:,} tracks…"
    if step.written < step.total and step.written % PROGRESS_EVERY == 0:
        return f"Written {step.written:,} of {step.total:,} tracks…"
    return None


def save_progress(interaction: discord.Interaction[Any]) -> SaveProgress:
    """Progress of a save, shown by editing the deferred answer now and then."""

    async def show(step: WriteProgress) -> None:
        text = save_progress_message(step)
        if text is not None:
            await edit(interaction, content=text)

    return show


def saved_message(saved: Saved) -> str:
    playlist = saved.playlist
    name = linked(playlist.name, playlist.url, 100)
    count = f"{playlist.written:,} track{'s' if playlist.written != 1 else ''}"
    if saved.purpose == "saved":
        where = "new private playlist" if playlist.created else "playlist"
        text = f"Saved {count} to your {where} **{name}**."
    elif playlist.created:
        text = f"Saved {WHAT[saved.purpose]} ({count}) as a new private playlist: **{name}**."
    else:
        text = (
            f"Replaced the tracks of **{name}** with {WHAT[saved.purpose]} ({count}); "
            "it is the playlist Encore made last time."
        )
    if saved.source_name:
        text += f" From *{shown(saved.source_name)}*, starting with the next track."
    if playlist.skipped:
        text += f" {playlist.skipped:,} local files were left out (Spotify cannot add them)."
    if playlist.left_out:
        text += f" The last {playlist.left_out:,} did not fit: a playlist holds 10,000 tracks."
    return text


def interrupted_save_message(error: SaveInterrupted) -> str:
    reached = error.reached
    done = f"{reached.written:,} of {reached.total:,} tracks"
    if error.purpose == "saved":
        again = "The tracks added so far stay in your “Saved from Discord” playlist."
    else:
        again = (
            "Run the command again later: it rewrites the same playlist, so nothing is duplicated."
        )
    return f"The save stopped after {done}: {error.cause.user_message} {again}"


def nothing_to_save_message(error: NothingToSave) -> str:
    if error.purpose == "likes":
        return (
            "You have no Encore likes to export yet. Like tracks with `/like` or bring in "
            "your Spotify liked songs with `/likes-import`."
        )
    if error.purpose == "shuffle":
        return (
            f"Your shuffle of *{shown(error.source_name or 'that source')}* has no tracks left "
            "in this cycle, so there is nothing to save. `/shuffle next` starts the next cycle."
        )
    return "That message has no Spotify tracks Encore can save."


# -- message commands ------------------------------------------------------------------------


def no_links_message() -> str:
    return (
        "That message has no Spotify track, album or playlist links (open.spotify.com links "
        "or spotify: URIs)."
    )


def linked_tracks_notes(found: LinkedTracks) -> str:
    """What could not be used among a message's links, as sentences (or "")."""
    notes = []
    if found.unreadable:
        notes.append(
            f"{len(found.unreadable)} playlist(s) could not be read: Spotify only shows "
            "Encore playlists you own or collaborate on."
        )
    if found.missing:
        notes.append(f"{len(found.missing)} link(s) point to nothing Spotify knows.")
    if found.cut:
        notes.append(f"Only the first {len(found.tracks)} tracks were used.")
    return " ".join(notes)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def liked_links_message(done: LikedLinks) -> str:
    parts = []
    liked = [like_message(result) for result in done.liked]
    if len(liked) == 1:
        parts.append(liked[0])
    elif liked:
        listed = "\n".join(f"• {line}" for line in liked[:10])
        more = f"\n…and {len(liked) - 10} more." if len(liked) > 10 else ""
        parts.append(f"{_count(len(liked), 'track')}:\n{listed}{more}")
    saved = [
        _count(n, noun) for n, noun in ((done.albums, "album"), (done.playlists, "playlist")) if n
    ]
    if saved and done.library_problem is None:
        parts.append(f"Saved {' and '.join(saved)} to your Spotify library.")
    elif saved and done.library_problem is not None:
        parts.append(
            f"The {' and '.join(saved)} could not be saved to your Spotify library: "
            f"{done.library_problem.user_message}"
        )
    return "\n\n".join(parts) or "Nothing in that message could be liked."


# -- "Save to a playlist": the picker ----------------------------------------------------

DEFAULT_TARGET = "default"  # the select's value for Encore's own "Saved from Discord"
SAVE_PICKER_TIMEOUT = 600.0  # seconds a picker stays usable (in this process)
PickedPlaylist = Callable[[discord.Interaction[Any], str | None], Awaitable[None]]


def _tracks_count(tracks: int) -> str:
    return f"{tracks:,} track{'s' if tracks != 1 else ''}"


def save_target_options(targets: SaveTargets) -> list[discord.SelectOption]:
    """Encore's "Saved from Discord" first, then the member's own playlists: at most 25,
    names on one line and cut (Discord shows option labels as typed)."""
    made = "" if targets.default_id else " (made the first time)"
    options = [
        discord.SelectOption(
            label=targets.default_name,
            value=DEFAULT_TARGET,
            description=f"Encore's private playlist for what you save{made}",
            emoji="⭐",
        )
    ]
    for playlist in targets.own:
        details = [_tracks_count(playlist.total)]
        if playlist.collaborative:
            details.append("collaborative")
        options.append(
            discord.SelectOption(
                label=playlist.name, value=playlist.id, description=" · ".join(details)
            )
        )
    return fit.options(options)


class SavePicker(discord.ui.View):
    """Which playlist the tracks of a message go to; only the member who asked can pick."""

    def __init__(self, owner_id: int, targets: SaveTargets, on_pick: PickedPlaylist) -> None:
        super().__init__(timeout=SAVE_PICKER_TIMEOUT)
        self._owner_id = owner_id
        self._on_pick = on_pick
        self.select: discord.ui.Select[SavePicker] = discord.ui.Select(
            custom_id="encore:save-to",
            placeholder=f"{targets.default_name}, or one of your playlists",
            options=save_target_options(targets),
        )
        self.select.callback = self._picked  # type: ignore[method-assign]
        self.add_item(self.select)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return interaction.user.id == self._owner_id

    async def _picked(self, interaction: discord.Interaction[Any]) -> None:
        self.stop()  # one save per picker
        value = self.select.values[0]
        await self._on_pick(interaction, None if value == DEFAULT_TARGET else value)


def save_picker_message(tracks: int, notes: str | None) -> str:
    text = f"Where should the {_tracks_count(tracks)} go? Pick a playlist below."
    return " ".join(filter(None, [text, notes]))


def saving_message(tracks: int) -> str:
    return f"Saving {_tracks_count(tracks)}…"
