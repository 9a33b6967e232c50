"""Shuffle orders over tracks: the first cycle's, each following cycle's, and the order
after the source changed. Pure functions over `Track`s, built on `bot.shuffle.algorithm`."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from bot.music import Track
from bot.shuffle.algorithm import next_cycle_order, smart_shuffle

FRESH_FRACTION = 0.25  # a new cycle opens without the previous cycle's last quarter


@dataclass(frozen=True)
class PlaylistChange:
    """What a rebuild did after the source changed on Spotify."""

    added: int
    removed: int
    kept_played: int


def _fresh_start(length: int) -> int:
    """Tracks in a cycle's protected start: as `next_cycle_order` counts them."""
    if length < 2:
        return 0
    return min(length // 2, max(1, int(length * FRESH_FRACTION)))


def distinct(tracks: Sequence[Track]) -> list[Track]:
    """One entry per track id: a playlist listing a song twice still plays it once a cycle."""
    seen: dict[str, Track] = {}
    for track in tracks:
        seen.setdefault(track.id, track)
    return list(seen.values())


def first_order(tracks: Sequence[Track], rng: random.Random) -> list[Track]:
    """Cycle 1: artists spread out, as few same-artist neighbours as possible."""
    by_id = {track.id: track for track in tracks}
    artist = {track.id: track.primary_artist for track in tracks}
    return [by_id[i] for i in smart_shuffle(list(by_id), artist.__getitem__, rng)]


def following_order(
    tracks: Sequence[Track],
    previous: Sequence[Track],
    rng: random.Random,
    fresh_fraction: float = FRESH_FRACTION,
) -> list[Track]:
    """The order after `previous`: none of its last quarter in the new first quarter, and
    not the same artist on both sides of the seam. (Ids, not Tracks, go in: two copies of
    a track parsed at different times need not compare equal.)"""
    by_id = {track.id: track for track in tracks}
    artist = {track.id: track.primary_artist for track in [*previous, *tracks]}
    order = next_cycle_order(
        list(by_id),
        artist.__getitem__,
        rng,
        [track.id for track in previous],
        fresh_fraction=fresh_fraction,
    )
    return [by_id[i] for i in order]


def next_cycle_ids(order: Sequence[tuple[str, str]], rng: random.Random) -> list[str]:
    """`following_order` of a finished cycle over the same tracks, from (track id, primary
    artist) pairs alone: a cycle rollover reorders a stored order without its tracks."""
    ids = [track_id for track_id, _ in order]
    artist = dict(order)
    return next_cycle_order(
        list(dict.fromkeys(ids)), artist.__getitem__, rng, ids, fresh_fraction=FRESH_FRACTION
    )


def rebuilt_order(
    order: Sequence[Track],
    position: int,
    cycle: int,
    current: Sequence[Track],
    rng: random.Random,
) -> tuple[list[Track], int, PlaylistChange]:
    """The order after the source changed, and the new position: what was played this cycle
    stays played (removed tracks drop out), the rest plus new tracks are shuffled again.

    In cycle 2 on, the unplayed part of the fresh start is kept in place: reshuffling it
    could bring the previous cycle's last tracks straight back.
    """
    now = {track.id: track for track in distinct(current)}
    before = {track.id for track in order}
    played = [now[t.id] for t in order[:position] if t.id in now]
    keep_until = _fresh_start(len(order)) if cycle > 1 else 0
    kept = [now[t.id] for t in order[position:keep_until] if t.id in now]
    placed = {track.id for track in [*played, *kept]}
    rest = [track for track in now.values() if track.id not in placed]
    # fresh_fraction 0: only the seam's artist matters inside a cycle.
    tail = following_order(rest, [*played, *kept], rng, fresh_fraction=0.0) if rest else []
    change = PlaylistChange(
        added=len(now.keys() - before), removed=len(before - now.keys()), kept_played=len(played)
    )
    return [*played, *kept, *tail], len(played), change


def secure_rng() -> random.Random:
    """Randomness for orders: seeded from the OS, so no user can predict a queue."""
    return random.Random(secrets.randbits(128))
