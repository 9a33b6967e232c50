"""Smart shuffle: spread each artist's tracks over the queue, never play the same artist
twice in a row when that can be avoided, and keep recent tracks away from a new cycle's start."""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Callable, Hashable, Sequence
from itertools import compress, pairwise, repeat, starmap
from math import isqrt
from operator import add
from typing import TypeVar

T = TypeVar("T")

# The repair pass looks this many tracks ahead in spreading order for one whose artist
# was last heard at least `_GAP_GOAL` of its ideal gap ago. Tuned with bench/shuffle_quality.py
# on the 50-track playlist: mean spread 0.84 -> 0.90, worst 0.51 -> 0.77.
_LOOKAHEAD = 8
_GAP_GOAL = 0.8


def fisher_yates(items: Sequence[T], rng: random.Random) -> list[T]:
    """Uniform shuffle built on `rng.random()` only, whose sequence Python keeps stable."""
    order = list(items)
    for i in range(len(order) - 1, 0, -1):
        j = int(rng.random() * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def smart_shuffle(items: Sequence[T], key: Callable[[T], Hashable], rng: random.Random) -> list[T]:
    """A permutation of `items` where `key` (the primary artist) repeats as rarely as
    possible in a row, and each artist's tracks sit close to evenly apart."""
    if len(items) < 2:
        return list(items)
    artist_of, total, _ = _artist_ids(items, key)
    order = _spreading_order(artist_of, total, rng, None, 0)
    picks = _arrange(list(map(artist_of.__getitem__, order)), order, total, -1, None, 0)
    return list(map(items.__getitem__, picks))


def next_cycle_order(
    items: Sequence[T],
    key: Callable[[T], Hashable],
    rng: random.Random,
    previous_order: Sequence[T],
    fresh_fraction: float = 0.25,
) -> list[T]:
    """The smart shuffle for the queue's next cycle: no track of the last `fresh_fraction`
    of `previous_order` comes back in the first `fresh_fraction` of the new order, and the
    new cycle does not open with the artist that closed the previous one when avoidable."""
    n = len(items)
    if n < 2:
        return list(items)
    artist_of, total, ids = _artist_ids(items, key)
    prev_artist = ids.get(key(previous_order[-1]), -1) if previous_order else -1
    recent_tracks = set(
        previous_order[len(previous_order) - _window(len(previous_order), fresh_fraction) :]
    )
    recent = [item in recent_tracks for item in items]
    head = min(_window(n, fresh_fraction), n - sum(recent))
    if not head:
        order = _spreading_order(artist_of, total, rng, None, 0)
        blocked = None
    else:
        order = _spreading_order(artist_of, total, rng, recent, head)
        blocked = list(map(recent.__getitem__, order))
    arts = list(map(artist_of.__getitem__, order))
    return list(map(items.__getitem__, _arrange(arts, order, total, prev_artist, blocked, head)))


def adjacencies(order: Sequence[T], key: Callable[[T], Hashable]) -> int:
    """How many consecutive pairs of `order` share an artist."""
    artists = [key(item) for item in order]
    return sum(1 for a, b in pairwise(artists) if a == b)


def min_adjacencies(items: Sequence[T], key: Callable[[T], Hashable]) -> int:
    """The fewest same-artist neighbours any order of `items` can have: the biggest
    artist's tracks need `k - 1` others between them, and each missing one costs one."""
    counts: dict[Hashable, int] = {}
    for item in items:
        artist = key(item)
        counts[artist] = counts.get(artist, 0) + 1
    biggest = max(counts.values(), default=0)
    return max(0, 2 * biggest - len(items) - 1)


def spread(order: Sequence[T], key: Callable[[T], Hashable]) -> tuple[float, float]:
    """(mean, worst) over artists with two tracks or more of their smallest gap divided
    by the ideal gap `n / k`; (1.0, 1.0) when no artist has two tracks."""
    positions: dict[Hashable, list[int]] = {}
    for index, item in enumerate(order):
        positions.setdefault(key(item), []).append(index)
    scores = [
        min(b - a for a, b in pairwise(spots)) * len(spots) / len(order)
        for spots in positions.values()
        if len(spots) >= 2
    ]
    if not scores:
        return 1.0, 1.0
    return sum(scores) / len(scores), min(scores)


def _window(length: int, fraction: float) -> int:
    """Tracks in the protected start/end of a cycle: a fraction, at least one once there
    are two tracks, and never more than half so the start and the end can differ."""
    if length < 2 or fraction <= 0:
        return 0
    return min(length // 2, max(1, int(length * fraction)))


def _artist_ids(
    items: Sequence[T], key: Callable[[T], Hashable]
) -> tuple[list[int], list[int], dict[Hashable, int]]:
    """Each item's artist as a small int (first seen, first numbered), each artist's
    track count, and the numbering. `key` is called once per item."""
    keys = list(map(key, items))
    distinct = dict.fromkeys(keys)
    ids = dict(zip(distinct, range(len(distinct)), strict=True))
    artist_of = list(map(ids.__getitem__, keys))
    total = [0] * len(ids)
    for artist in artist_of:
        total[artist] += 1
    return artist_of, total, ids


def _spreading_order(
    artist_of: list[int],
    total: list[int],
    rng: random.Random,
    recent: list[bool] | None,
    head: int,
) -> list[int]:
    """Indices sorted by Spotify-2014 keys: an artist's `k` tracks take the slots
    `(j + offset) / k` in a random order, so they land about `n/k` apart; a single
    track's key is uniform. With `recent`, no recent track keeps a key in the first
    `head / n`: an artist's fresh tracks take its slots there, and recent single tracks
    move later (see `_refill_start`) so that the start keeps about `head` keys.

    Spotify adds a jitter of a tenth of a slot; it only made gaps less even here, and the
    offsets plus the order inside each artist already make two shuffles differ.
    """
    n = len(artist_of)
    random_ = rng.random
    # One uniform draw per track: the key of a single track, the order inside an artist.
    keys = list(starmap(random_, repeat((), n)))
    several = list(map((1).__lt__, total))
    grouped = list(compress(range(n), map(several.__getitem__, artist_of)))
    # Grouped by artist, each group in the order of its draws (a random order): two sorts
    # of the few grouped tracks, or one by artist number plus draw when most are grouped.
    if 4 * len(grouped) < n:
        grouped.sort(key=keys.__getitem__)
        grouped.sort(key=artist_of.__getitem__)
    else:
        grouped.sort(key=list(map(add, artist_of, keys)).__getitem__)
    boundary = head / n
    start = 0
    while start < len(grouped):
        k = total[artist_of[grouped[start]]]
        group = grouped[start : start + k]
        start += k
        step = 1.0 / k
        slot = random_() * step
        if recent is not None and any(map(recent.__getitem__, group)):
            fresh = [track for track in group if not recent[track]]
            stale = [track for track in group if recent[track]]
            offset = slot * k
            reach = boundary * k - offset
            early = min(k, int(reach) + (reach > int(reach))) if reach > 0 else 0
            if len(fresh) >= early:
                # Fresh tracks take this artist's slots inside the protected start.
                group = fresh[:early] + fisher_yates(fresh[early:] + stale, rng)
            else:
                # Too few fresh tracks: the slots move closer together so that exactly the
                # fresh ones fall inside the protected start and the rest fill the end.
                step = (1.0 - boundary) / (k - len(fresh))
                slot = boundary - len(fresh) * step + offset * step
                group = fresh + stale
        for track in group:
            keys[track] = slot
            slot += step
    if recent is not None:
        _refill_start(keys, artist_of, several, recent, head, rng)
    return sorted(range(n), key=keys.__getitem__)


def _refill_start(
    keys: list[float],
    artist_of: list[int],
    several: list[bool],
    recent: list[bool],
    head: int,
    rng: random.Random,
) -> None:
    """Recent single tracks keyed inside the protected start move past it.

    Moving them leaves the start short of keys, so its last places go to the next fresh
    tracks in spreading order and the recent tracks passed over pile up right after the
    start, squeezing their artists. A shortfall of about `sqrt(head)` is the start's usual
    chance variation and costs nothing, so only beyond it do recent single tracks trade
    keys with fresh single tracks from after the start, picked at random: the start keeps
    its density and spreading positions stay close to play positions.
    """
    boundary = head / len(keys)
    leaving: list[int] = []
    spare: list[int] = []
    for track, value in enumerate(keys):
        if not several[artist_of[track]]:
            if recent[track]:
                if value < boundary:
                    leaving.append(track)
            elif value >= boundary:
                spare.append(track)
    trades = min(len(spare), len(leaving) - isqrt(head))
    if trades > 0:
        for i in range(trades):
            # The first `trades` steps of a Fisher-Yates shuffle of `spare`.
            j = i + int(rng.random() * (len(spare) - i))
            spare[i], spare[j] = spare[j], spare[i]
            track, other = leaving[i], spare[i]
            keys[track], keys[other] = keys[other], keys[track]
        leaving = leaving[trades:]
    for track in leaving:
        keys[track] = boundary + rng.random() * (1.0 - boundary)


def _arrange(
    arts: list[int],
    order: list[int],
    total: list[int],
    prev: int,
    blocked: list[bool] | None,
    head: int,
) -> list[int]:
    """Play order (items of `order`; `arts[i]` is the artist of `order[i]`, which is in
    spreading order) that stays close to the spreading order and has the fewest
    same-artist neighbours possible.

    After a track by `prev`, the `m` tracks left need at least
    `max(0, 2K - m - 1 + [prev is the biggest artist])` same-artist neighbours, `K` being
    the biggest artist's count. So while `2K <= m` any artist but `prev` is safe, and the
    pick among the next few in spreading order favours the artist heard longest ago
    relative to its ideal gap; once `2K > m` the biggest artist must come now (any track
    is as good when it just played). Positions with `blocked` set stay out of the first
    `head` places.

    The tracks not placed yet are `deferred` (skipped ones, in spreading order) followed
    by `p` onwards; inside the start, blocked skipped ones wait in `held`. The fast phase
    does not keep `counts` (they are counted again when it ends) and copies each run of
    tracks taken in spreading order as one slice.
    """
    n = len(arts)
    counts = total[:]
    last = [-n] * len(total)
    if prev >= 0:
        last[prev] = -1
    goal = _GAP_GOAL * n
    picks: list[int] = []
    append = picks.append
    deferred: list[int] = []
    held: list[int] = []
    p = 0
    position = 0
    biggest = max(counts)
    # Fast phase: no artist can become a problem before 2 * biggest tracks are left.
    careful_from = 2 * biggest
    with_count: list[int] | None = None
    dominant = -1
    while position < n:
        left = n - position
        if position >= head:
            if held:
                deferred = sorted(deferred + held)
                held = []
            if left <= careful_from and with_count is None:
                # No artist could force itself in until 2 * biggest tracks were left; look
                # again before leaving the fast phase, which is the bulk of most playlists.
                careful_from = 2 * biggest
                if left - careful_from < left // 8:
                    careful_from = n
            if left > careful_from:
                with_count = None
                stop = n - careful_from
                while position < stop:
                    if not deferred:
                        # Nothing skipped waits, so p == position: take tracks in spreading
                        # order while they are allowed, and copy them in one slice.
                        while p < stop:
                            artist = arts[p]
                            if artist == prev or (p - last[artist]) * total[artist] < goal:
                                break
                            last[artist] = p
                            prev = artist
                            p += 1
                        if p > position:
                            picks += order[position:p]
                            position = p
                            continue
                    pick = _lookahead(arts, deferred, p, n, prev, position, last, total, goal, None)
                    if pick < p:
                        del deferred[bisect_left(deferred, pick)]
                    else:
                        deferred += range(p, pick)
                        p = pick + 1
                    artist = arts[pick]
                    append(order[pick])
                    last[artist] = position
                    position += 1
                    prev = artist
                # Counts were not kept up in the fast phase: count what is left.
                counts = [0] * len(total)
                remaining = [*map(arts.__getitem__, deferred), *arts[p:]]
                for artist in remaining:
                    counts[artist] += 1
                biggest = max(map(counts.__getitem__, remaining))
                continue
        in_head = position < head
        skip = blocked if in_head else None
        if with_count is None:
            # `biggest` is up to date whenever `with_count` is not kept.
            with_count = [0] * (biggest + 1)
            for count in filter(None, counts):
                with_count[count] += 1
        pick = -1
        if 2 * biggest > left:
            if dominant < 0 or counts[dominant] != biggest:
                dominant = counts.index(biggest)
            # It holds over half of what is left, so its next track is near.
            pick = _first(arts, deferred, p, n, -1 if dominant == prev else dominant, skip)
            if pick < 0:
                pick = _fresh_pick(arts, deferred, p, n, skip, prev, counts, left)
        else:
            first = deferred[0] if deferred else p
            artist = arts[first]
            if (
                artist != prev
                and (position - last[artist]) * total[artist] >= goal
                and not (skip is not None and skip[first])
            ):
                pick = first
            else:
                pick = _lookahead(arts, deferred, p, n, prev, position, last, total, goal, skip)
                if pick < 0:
                    pick = _fresh_pick(arts, deferred, p, n, skip, prev, counts, left)
        if pick < p:
            del deferred[bisect_left(deferred, pick)]
        else:
            if skip is None:
                deferred += range(p, pick)
            else:
                for passed in range(p, pick):
                    (held if skip[passed] else deferred).append(passed)
            p = pick + 1
        artist = arts[pick]
        count = counts[artist]
        counts[artist] = count - 1
        with_count[count] -= 1
        with_count[count - 1] += 1
        if count == biggest and with_count[count] == 0:
            biggest -= 1
        last[artist] = position
        position += 1
        prev = artist
        append(order[pick])
    return picks


def _lookahead(
    arts: list[int],
    deferred: list[int],
    p: int,
    n: int,
    prev: int,
    position: int,
    last: list[int],
    total: list[int],
    goal: float,
    skip: list[bool] | None,
) -> int:
    """Among the next `_LOOKAHEAD` tracks in spreading order (`deferred`, then `p`
    onwards), the first whose artist is not `prev` and was last heard `_GAP_GOAL` of its
    ideal gap ago, else the one heard longest ago; past the window, the first track by
    another artist; -1 when none is allowed. Positions with `skip` set are passed over."""
    pick = -1
    best = -1
    seen = 0
    for cand in deferred:
        artist = arts[cand]
        if artist != prev:
            gap = (position - last[artist]) * total[artist]
            if gap >= goal:
                return cand
            if gap > best:
                best, pick = gap, cand
        seen += 1
        if seen >= _LOOKAHEAD and pick >= 0:
            return pick
    for cand in range(p, n):
        if skip is not None and skip[cand]:
            continue
        artist = arts[cand]
        if artist != prev:
            gap = (position - last[artist]) * total[artist]
            if gap >= goal:
                return cand
            if gap > best:
                best, pick = gap, cand
        seen += 1
        if seen >= _LOOKAHEAD and pick >= 0:
            return pick
    return pick


def _first(
    arts: list[int], deferred: list[int], p: int, n: int, artist: int, skip: list[bool] | None
) -> int:
    """The first track left in spreading order by `artist` (any artist when -1) whose
    `skip` is not set; -1 when there is none."""
    for cand in deferred:
        if artist < 0 or arts[cand] == artist:
            return cand
    for cand in range(p, n):
        if (artist < 0 or arts[cand] == artist) and not (skip is not None and skip[cand]):
            return cand
    return -1


def _fresh_pick(
    arts: list[int],
    deferred: list[int],
    p: int,
    n: int,
    skip: list[bool] | None,
    prev: int,
    counts: list[int],
    left: int,
) -> int:
    """When the usual pick is not allowed (inside a new cycle's protected start): the
    first allowed track in spreading order among those costing the fewest neighbours."""
    best = -1
    best_cost = n + 2
    biggest = max(counts)
    top = [a for a, c in enumerate(counts) if c == biggest]
    floor = max(0, 2 * biggest - left - 1)
    for cand in [*deferred, *range(p, n)]:
        if best_cost <= floor:
            break
        if skip is None or not skip[cand]:
            artist = arts[cand]
            unique_top = len(top) == 1 and top[0] == artist
            cost = int(artist == prev) + max(0, 2 * biggest - left - int(unique_top))
            if cost < best_cost:
                best, best_cost = cand, cost
    return best
