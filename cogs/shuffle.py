"""/shuffle start, next, peek, play, status and stop: smart shuffle queues over a user's
playlists and liked songs (the queue lives in `bot.shuffle`)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.shuffle import Dealt, QueuedTrack, QueueProgress, StartedQueue, Upcoming
from bot.ui.likes import like_button
from bot.ui.messages import ACCENT, reply
from bot.ui.names import linked, shown
from bot.ui.shuffle import source_choice

SPOTIFY_TRACK_URL = "https://open.spotify.com/track/{}"


def _tracks(count: int, kind: str = "") -> str:
    """ "1 track", "5 new tracks": a count in words."""
    noun = "track" if count == 1 else "tracks"
    return f"{count:,} {kind} {noun}" if kind else f"{count:,} {noun}"


def _source(progress: QueueProgress) -> str:
    return "your liked songs" if progress.is_liked_songs else f"**{shown(progress.source_name)}**"


def _where(progress: QueueProgress) -> str:
    return f"track {progress.next_number:,} of {progress.total:,} (cycle {progress.cycle})"


def _line(queued: QueuedTrack) -> str:
    track = queued.track
    return (
        f"`{queued.number:>3}.` **{linked(track.name, track.url)}** · {shown(track.artist_names)}"
    )


def _lines(tracks: list[QueuedTrack]) -> str:
    """One line per track, with a marker where a new cycle's order begins."""
    lines: list[str] = []
    for before, queued in zip([None, *tracks], tracks, strict=False):
        if before is not None and queued.cycle != before.cycle:
            lines.append(f"*— cycle {queued.cycle} begins: a fresh order —*")
        lines.append(_line(queued))
    return "\n".join(lines)


def track_buttons(queued: QueuedTrack) -> list[discord.ui.Item[Any]]:
    """The buttons under one dealt track: open it in Spotify, like it."""
    track = queued.track
    return [
        discord.ui.Button(
            label=f"{queued.number}. Open in Spotify",
            url=track.url or SPOTIFY_TRACK_URL.format(track.id),
            style=discord.ButtonStyle.link,
        ),
        like_button(track.id),
    ]


def _track_view(tracks: list[QueuedTrack]) -> discord.ui.View:
    # Link buttons and like buttons (dynamic items) need no listening view, so no timeout.
    view = discord.ui.View(timeout=None)
    for index, queued in enumerate(tracks):
        items = track_buttons(queued)
        per_row = 5 // len(items)  # a track's buttons never straddle two rows
        for item in items:
            item.row = index // per_row
            view.add_item(item)
    return view


def _dealt_embed(dealt: Dealt, title: str) -> discord.Embed:
    progress = dealt.progress
    parts = [_lines(dealt.tracks)]
    if dealt.new_cycle is not None:
        parts.append(
            f"That was the end of cycle {dealt.new_cycle - 1}: cycle {dealt.new_cycle} began "
            "with a fresh order (the last tracks you heard come back later, not right away)."
        )
    embed = discord.Embed(title=title, description="\n\n".join(parts), colour=ACCENT)
    embed.set_footer(
        text=f"{_plain_source(progress)} · next: {_where(progress)}",
    )
    return embed


def _plain_source(progress: QueueProgress) -> str:
    return "Liked songs" if progress.is_liked_songs else progress.source_name[:80]


def _started_message(started: StartedQueue) -> str:
    progress = started.progress
    if not started.resumed:
        return (
            f"Shuffled {_source(progress)}: {_tracks(progress.total)} in a smart order (artists "
            "spread out). `/shuffle next` shows the next tracks, `/shuffle play` adds them to "
            "your Spotify queue."
        )
    lines = [f"Resuming {_source(progress)} at {_where(progress)}."]
    change = started.change
    if change is not None:
        what = []
        if change.added:
            what.append(f"{_tracks(change.added, 'new')} mixed in")
        if change.removed:
            what.append(f"{_tracks(change.removed, 'removed')} dropped")
        heard = change.kept_played
        kept = (
            f" The {_tracks(heard)} you already heard this cycle "
            f"{'stays' if heard == 1 else 'stay'} played; the rest was shuffled again."
            if heard
            else " It was shuffled again."
        )
        lines.append(
            "It changed on Spotify since the queue was made: "
            + (", ".join(what) or "its order changed")
            + "."
            + kept
        )
    if started.unchecked:
        lines.append("(Spotify did not answer, so changes to the playlist were not checked.)")
    return "\n".join(lines)


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
        await interaction.response.defer(ephemeral=True, thinking=True)
        started = await self.shuffle.start(interaction.user.id, source)
        await reply(interaction, _started_message(started))

    @start.autocomplete("source")
    async def source_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        choices = await self.shuffle.source_choices(interaction.user.id, current)
        return [source_choice(choice) for choice in choices]

    @app_commands.command(name="next", description="The next tracks of your shuffle queue")
    @app_commands.describe(count="How many tracks (1-10, default 1)")
    async def next(
        self,
        interaction: discord.Interaction[EncoreBot],
        count: app_commands.Range[int, 1, 10] = 1,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        dealt = await self.shuffle.next(interaction.user.id, count)
        title = "Next up" if len(dealt.tracks) == 1 else f"Next {len(dealt.tracks)} tracks"
        await reply(interaction, embed=_dealt_embed(dealt, title), view=_track_view(dealt.tracks))

    @app_commands.command(name="peek", description="See what comes next without moving on")
    @app_commands.describe(count="How many tracks (1-20, default 5)")
    async def peek(
        self,
        interaction: discord.Interaction[EncoreBot],
        count: app_commands.Range[int, 1, 20] = 5,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        upcoming = await self.shuffle.peek(interaction.user.id, count)
        await reply(interaction, embed=_peek_embed(upcoming))

    @app_commands.command(
        name="play", description="Add the next tracks to your Spotify queue (needs Premium)"
    )
    @app_commands.describe(count="How many tracks (1-10, default 1)")
    async def play(
        self,
        interaction: discord.Interaction[EncoreBot],
        count: app_commands.Range[int, 1, 10] = 1,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        dealt = await self.shuffle.play(interaction.user.id, count)
        added = len(dealt.tracks)
        title = f"Added {_tracks(added)} to your Spotify queue"
        embed = _dealt_embed(dealt, title)
        if dealt.stopped_by is not None:
            embed.add_field(
                name=f"Only {added} of {dealt.asked} added",
                value=f"{dealt.stopped_by.user_message} The queue moved past the added tracks only.",
                inline=False,
            )
        await reply(interaction, embed=embed, view=_track_view(dealt.tracks))

    @app_commands.command(name="status", description="Where your shuffle queue stands")
    async def status(self, interaction: discord.Interaction[EncoreBot]) -> None:
        current, others = await self.shuffle.status(interaction.user.id)
        embed = discord.Embed(title="Your shuffle", colour=ACCENT)
        embed.add_field(name="Source", value=_source(current))
        embed.add_field(name="Played", value=f"{current.position:,} of {current.total:,}")
        embed.add_field(name="Cycle", value=str(current.cycle))
        embed.add_field(name="Next", value=f"track {current.next_number:,}")
        if others:
            kept = "\n".join(f"{_source(other)}: {_where(other)}" for other in others[:10])
            embed.add_field(
                name="Also kept (`/shuffle start` one to resume it)", value=kept, inline=False
            )
        await reply(interaction, embed=embed)

    @app_commands.command(name="stop", description="Delete your current shuffle queue")
    async def stop(self, interaction: discord.Interaction[EncoreBot]) -> None:
        stopped, current = await self.shuffle.stop(interaction.user.id)
        text = (
            f"Stopped shuffling {_source(stopped)} and deleted its queue (you had heard "
            f"{stopped.position:,} of {stopped.total:,} tracks in cycle {stopped.cycle})."
        )
        if current is not None:
            text += f" `/shuffle next` now continues {_source(current)} at {_where(current)}."
        await reply(interaction, text)


def _peek_embed(upcoming: Upcoming) -> discord.Embed:
    progress = upcoming.progress
    parts = [_lines(upcoming.tracks)]
    if upcoming.cycle_ends:
        parts.append(
            f"Then cycle {progress.cycle} ends, and cycle {progress.cycle + 1} starts with a "
            "fresh order."
        )
    embed = discord.Embed(title="Coming up", description="\n\n".join(parts), colour=ACCENT)
    embed.set_footer(text=f"{_plain_source(progress)} · next: {_where(progress)} · not moved")
    return embed


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Shuffle(bot))
