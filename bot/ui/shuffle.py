"""How the /shuffle commands look: queue progress, dealt tracks, autocomplete choices."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.shuffle import (
    LIKED_NAME,
    Dealt,
    NothingToShuffle,
    QueuedTrack,
    QueueProgress,
    SourceChoice,
    StartedQueue,
    Upcoming,
)
from bot.ui import fit
from bot.ui.likes import like_button
from bot.ui.messages import ACCENT
from bot.ui.names import linked, shown


def nothing_to_shuffle(error: NothingToShuffle) -> str:
    if error.removed:
        what = "Your liked songs" if error.liked else f"The playlist “{shown(error.name)}”"
        return (
            f"{what} is empty now, so its shuffle queue was removed. Add some tracks on "
            "Spotify and `/shuffle start` it again."
        )
    if error.liked:
        return "You have no liked songs on Spotify yet, so there is nothing to shuffle."
    return f"The playlist “{shown(error.name)}” is empty, so there is nothing to shuffle."


def source_choice(choice: SourceChoice) -> app_commands.Choice[str]:
    """As /playlist labels them ("Road Trip · 37 tracks"), plus the owner when it is not
    the user: Spotify will not let us read someone else's playlist unless it is shared."""
    playlist = choice.playlist
    if playlist is None:
        return app_commands.Choice(name=LIKED_NAME, value=choice.value)
    details = [f"{playlist.total:,} track{'s' if playlist.total != 1 else ''}"]
    if choice.others:
        details.append(f"by {fit.plain(playlist.owner_name, 30)}")
    tail = " · " + " · ".join(details)
    # Discord's limit for a choice's name is 100: the playlist's name gives way, not the tail.
    name = fit.plain(playlist.name, fit.CHOICE_NAME - len(tail)) or "…"
    return app_commands.Choice(name=name + tail, value=choice.value)


SPOTIFY_TRACK_URL = "https://open.spotify.com/track/{}"


def _tracks(count: int, kind: str = "") -> str:
    """ "1 track", "5 new tracks": a count in words."""
    noun = "track" if count == 1 else "tracks"
    return f"{count:,} {kind} {noun}" if kind else f"{count:,} {noun}"


def _source(progress: QueueProgress, size: int = 80) -> str:
    if progress.is_liked_songs:
        return "your liked songs"
    return f"**{shown(progress.source_name, size)}**"


def _where(progress: QueueProgress) -> str:
    return f"track {progress.next_number:,} of {progress.total:,} (cycle {progress.cycle})"


def _line(queued: QueuedTrack, size: int = 80) -> str:
    track = queued.track
    return (
        f"`{queued.number:>3}.` **{linked(track.name, track.url, size)}** · "
        f"{shown(track.artist_names, size)}"
    )


def _lines(tracks: list[QueuedTrack], limit: int = fit.DESCRIPTION) -> str:
    """One line per track, with a marker where a new cycle's order begins; names shrink until
    every track fits in `limit` characters."""

    def render(size: int) -> str:
        lines: list[str] = []
        for before, queued in zip([None, *tracks], tracks, strict=False):
            if before is not None and queued.cycle != before.cycle:
                lines.append(f"*— cycle {queued.cycle} begins: a fresh order —*")
            lines.append(_line(queued, size))
        return "\n".join(lines)

    return fit.shrink(render, limit)


def track_buttons(queued: QueuedTrack, *, again: bool = False) -> list[discord.ui.Item[Any]]:
    """The buttons under one dealt track: open it in Spotify, like it. `again`: the track is
    already shown above (a short playlist's next cycle, a track twice in a playlist), so its
    like button carries its position (a message's custom ids are unique)."""
    track = queued.track
    return [
        discord.ui.Button(
            label=f"{queued.number}. Open in Spotify",
            url=track.url or SPOTIFY_TRACK_URL.format(track.id),
            style=discord.ButtonStyle.link,
        ),
        like_button(track.id, at=queued.number if again else None),
    ]


def track_view(tracks: list[QueuedTrack]) -> discord.ui.View:
    # Link buttons and like buttons (dynamic items) need no listening view, so no timeout.
    view = discord.ui.View(timeout=None)
    seen: set[str] = set()
    for index, queued in enumerate(tracks):
        items = track_buttons(queued, again=queued.track.id in seen)
        seen.add(queued.track.id)
        per_row = fit.ROW_WIDTH // len(items)  # a track's buttons never straddle two rows
        for item in items:
            item.row = index // per_row
        if fit.add(view, items) < len(items):
            break
    fit.view(view)
    return view


def _dealt_embed(dealt: Dealt, title: str) -> discord.Embed:
    progress = dealt.progress
    parts = [_lines(dealt.tracks, fit.DESCRIPTION - 400)]
    if dealt.new_cycle is not None:
        parts.append(
            f"That was the end of cycle {dealt.new_cycle - 1}: cycle {dealt.new_cycle} began "
            "with a fresh order (the last tracks you heard come back later, not right away)."
        )
    if dealt.stopped_by is None and len(dealt.tracks) < dealt.asked:
        parts.append(
            f"{len(dealt.tracks)} of the {dealt.asked} asked for: this queue holds "
            f"{_tracks(progress.total)}, and one batch stops before the new cycle ends."
        )
    embed = discord.Embed(title=title, description="\n\n".join(parts), colour=ACCENT)
    embed.set_footer(
        text=f"{_plain_source(progress)} · next: {_where(progress)}",
    )
    return embed


def _plain_source(progress: QueueProgress) -> str:
    return "Liked songs" if progress.is_liked_songs else fit.plain(progress.source_name, 80)


def started_message(started: StartedQueue) -> str:
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


def peek_embed(upcoming: Upcoming) -> discord.Embed:
    progress = upcoming.progress
    parts = [_lines(upcoming.tracks, fit.DESCRIPTION - 400)]
    if upcoming.cycle_ends:
        parts.append(
            f"Then cycle {progress.cycle} ends, and cycle {progress.cycle + 1} starts with a "
            "fresh order."
        )
    embed = discord.Embed(title="Coming up", description="\n\n".join(parts), colour=ACCENT)
    embed.set_footer(text=f"{_plain_source(progress)} · next: {_where(progress)} · not moved")
    return embed


def status_embed(current: QueueProgress, others: list[QueueProgress]) -> discord.Embed:
    embed = discord.Embed(title="Your shuffle", colour=ACCENT)
    embed.add_field(name="Source", value=_source(current, 200))
    embed.add_field(name="Played", value=f"{current.position:,} of {current.total:,}")
    embed.add_field(name="Cycle", value=str(current.cycle))
    embed.add_field(name="Next", value=f"track {current.next_number:,}")
    if others:
        kept = fit.shrink(
            lambda size: "\n".join(
                f"{_source(other, size)}: {_where(other)}" for other in others[:10]
            ),
            fit.FIELD_VALUE,
        )
        embed.add_field(
            name="Also kept (`/shuffle start` one to resume it)", value=kept, inline=False
        )
    return embed


def next_embed(dealt: Dealt) -> discord.Embed:
    title = "Next up" if len(dealt.tracks) == 1 else f"Next {len(dealt.tracks)} tracks"
    return _dealt_embed(dealt, title)


def played_embed(dealt: Dealt) -> discord.Embed:
    added = len(dealt.tracks)
    embed = _dealt_embed(dealt, f"Added {_tracks(added)} to your Spotify queue")
    if dealt.stopped_by is not None:
        embed.add_field(
            name=f"Only {added} of {dealt.asked} added",
            value=f"{dealt.stopped_by.user_message} The queue moved past the added tracks only.",
            inline=False,
        )
    return embed


def played_text(dealt: Dealt) -> str:
    """What /shuffle play added, as plain text: the answer when the full one was refused."""
    added = len(dealt.tracks)
    text = f"Added {_tracks(added)} to your Spotify queue: " + ", ".join(
        f"{queued.number}. {shown(queued.track.name, 60)}" for queued in dealt.tracks
    )
    if dealt.stopped_by is not None:
        text += f"\nOnly {added} of {dealt.asked} added: {dealt.stopped_by.user_message}"
    return fit.cut(text, fit.CONTENT)


def stopped_message(stopped: QueueProgress, current: QueueProgress | None) -> str:
    text = (
        f"Stopped shuffling {_source(stopped)} and deleted its queue (you had heard "
        f"{stopped.position:,} of {stopped.total:,} tracks in cycle {stopped.cycle})."
    )
    if current is not None:
        text += f" `/shuffle next` now continues {_source(current)} at {_where(current)}."
    return text
