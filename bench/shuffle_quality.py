"""Compare Encore's smart shuffle with the published ones on fixed playlists and print a table.

Run from the repo root: `.venv/bin/python bench/shuffle_quality.py [--runs N] [--seed S]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.shuffle.algorithm import (
    adjacencies,
    fisher_yates,
    next_cycle_order,
    smart_shuffle,
    spread,
)

T = TypeVar("T")
Track = tuple[int, int]  # (artist, track number)
Shuffle = Callable[[Sequence[Track], Callable[[Track], Hashable], random.Random], list[Track]]


def spotify_2014(items: Sequence[T], key: Callable[[T], Hashable], rng: random.Random) -> list[T]:
    """L. Polacek, "How to shuffle songs?" (Spotify, 2014): track j of an artist with k
    tracks gets the key `j/k + U(0, 1/k) + U(-1/(10k), 1/(10k))`; sort by key."""
    groups: dict[Hashable, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    keyed: list[tuple[float, int, T]] = []
    for group in groups.values():
        k = len(group)
        offset = rng.random() / k
        for j, item in enumerate(fisher_yates(group, rng)):
            jitter = (rng.random() * 2 - 1) / (10 * k)
            keyed.append((j / k + offset + jitter, len(keyed), item))
    keyed.sort()
    return [item for _, _, item in keyed]


def merge_shuffle(items: Sequence[T], key: Callable[[T], Hashable], rng: random.Random) -> list[T]:
    """R. van Asseldonk (2023): shuffle each artist, then merge the artists smallest first;
    each merge splits the longer list into `m + 1` near-equal parts around the `m`
    elements of the shorter one."""
    groups: dict[Hashable, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    ordered = sorted(groups.values(), key=lambda group: (len(group), rng.random()))
    merged: list[T] = []
    for group in ordered:
        merged = _interleave(merged, fisher_yates(group, rng), rng)
    return merged


def _interleave(a: list[T], b: list[T], rng: random.Random) -> list[T]:
    if len(a) < len(b) or (len(a) == len(b) and rng.random() < 0.5):
        a, b = b, a
    if not b:
        return a
    if len(a) == len(b):
        return [x for pair in zip(a, b, strict=True) for x in pair]
    parts = len(b) + 1
    sizes = [len(a) // parts] * parts
    for index in fisher_yates(range(parts), rng)[: len(a) % parts]:
        sizes[index] += 1
    out: list[T] = []
    start = 0
    for index, size in enumerate(sizes):
        out.extend(a[start : start + size])
        start += size
        if index < len(b):
            out.append(b[index])
    return out


def artist(track: Track) -> int:
    return track[0]


def playlist(sizes: list[int]) -> list[Track]:
    return [(a, len(sizes) * j + a) for a, size in enumerate(sizes) for j in range(size)]


def zipf_sizes(total: int, biggest: int) -> list[int]:
    sizes: list[int] = []
    rank = 1
    while sum(sizes) < total:
        sizes.append(min(max(1, biggest // rank), total - sum(sizes)))
        rank += 1
    return sizes


PLAYLISTS: dict[str, tuple[list[Track], int]] = {
    # name: (tracks, how many runs out of --runs: the big one is slow to measure)
    "notes 50 / 15 artists": (playlist([10, 8, 6, 5, 4, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1]), 1),
    "skewed 200 / 44 artists": (
        playlist([60, 30, 20, 15, 10, 8, 6, 5, 4, 3, 3, 2, 2, 2] + [1] * 30),
        1,
    ),
    "zipf 10,000": (playlist(zipf_sizes(10_000, 400)), 50),
}


@dataclass
class Row:
    adjacencies: float
    boundary: float
    mean_spread: float
    worst_spread: float
    moved: float
    kendall: float
    cycle_gap: float
    median_ms: float
    min_ms: float


def kendall_distance(a: list[Track], b: list[Track]) -> float:
    """Fraction of pairs the two orders disagree on (0.5 for independent uniform ones)."""
    where = {track: index for index, track in enumerate(b)}
    ranks = [where[track] for track in a]
    n = len(ranks)
    return _inversions(ranks) / (n * (n - 1) / 2) if n > 1 else 0.0


def _inversions(values: list[int]) -> int:
    if len(values) < 2:
        return 0
    middle = len(values) // 2
    left, right = values[:middle], values[middle:]
    count = _inversions(left) + _inversions(right)
    left.sort()
    right.sort()
    i = j = 0
    merged_count = 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            i += 1
        else:
            merged_count += len(left) - i
            j += 1
    return count + merged_count


def cycle_gap(first: list[Track], second: list[Track]) -> int:
    """Fewest plays between two plays of one track when `second` follows `first`."""
    n = len(first)
    where = {track: index for index, track in enumerate(second)}
    return min(n - index + where[track] for index, track in enumerate(first))


def measure(
    tracks: list[Track],
    runs: int,
    rng: random.Random,
    first: Shuffle,
    then: Callable[[list[Track]], list[Track]],
) -> Row:
    """`first` shuffles a cycle; `then(previous)` orders the next one, which is measured:
    its same-artist neighbours, whether it opens with the artist that closed `first`, spread, distance to another
    next cycle after the same first one, and the gap between a track's two plays."""
    adj: list[int] = []
    edge: list[bool] = []
    means: list[float] = []
    worsts: list[float] = []
    moved: list[float] = []
    taus: list[float] = []
    gaps: list[int] = []
    times: list[float] = []
    for _ in range(runs):
        previous = first(tracks, artist, rng)
        start = time.perf_counter()
        order = then(previous)
        times.append(time.perf_counter() - start)
        other = then(previous)
        adj.append(adjacencies(order, artist))
        edge.append(artist(previous[-1]) == artist(order[0]))
        mean, worst = spread(order, artist)
        means.append(mean)
        worsts.append(worst)
        moved.append(sum(x != y for x, y in zip(order, other, strict=True)) / len(order))
        taus.append(kendall_distance(order, other))
        gaps.append(cycle_gap(previous, order))
    return Row(
        statistics.fmean(adj),
        statistics.fmean(edge),
        statistics.fmean(means),
        statistics.fmean(worsts),
        statistics.fmean(moved),
        statistics.fmean(taus),
        statistics.fmean(gaps),
        statistics.median(times) * 1000,
        min(times) * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000, help="runs per playlist")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--quick", action="store_true", help="10 runs: does it start and finish")
    args = parser.parse_args()
    if args.quick:
        args.runs = min(args.runs, 10)

    def reshuffling(shuffle: Shuffle, rng: random.Random) -> Callable[[list[Track]], list[Track]]:
        return lambda previous: shuffle(previous, artist, rng)

    def cycling(rng: random.Random) -> Callable[[list[Track]], list[Track]]:
        return lambda previous: next_cycle_order(previous, artist, rng, previous)

    uniform: Shuffle = lambda items, _key, rng: fisher_yates(items, rng)  # noqa: E731
    algorithms: list[tuple[str, Shuffle, bool]] = [
        ("Fisher–Yates", uniform, False),
        ("Spotify 2014", spotify_2014, False),
        ("merge-shuffle", merge_shuffle, False),
        ("Encore smart_shuffle", smart_shuffle, False),
        ("Encore next_cycle_order", smart_shuffle, True),
    ]
    header = (
        f"{'algorithm':<24} {'adj':>6} {'edge':>5} {'spread':>7} {'worst':>6} {'moved':>6} "
        f"{'tau':>5} {'x-cycle':>8} {'ms':>7} {'min ms':>7}"
    )
    print("adj: same-artist neighbours; edge: share of next cycles opening with the artist that")
    print("closed the previous one; spread/worst: mean and worst artist's smallest gap / ideal")
    print("gap n/k; moved: share of positions holding another track in")
    print("a second shuffle; tau: Kendall distance to it (uniform 0.5); x-cycle: fewest plays")
    print("between a track's plays when the next cycle follows (plain reshuffle except")
    print("next_cycle_order); ms: median time of one shuffle, which a busy machine inflates;")
    print("min ms: the fastest run, closer to the cost on an idle one.")
    for name, (tracks, divisor) in PLAYLISTS.items():
        runs = max(1, args.runs // divisor)
        artists = len({artist(track) for track in tracks})
        print(f"\n{name}: {len(tracks)} tracks, {artists} artists, {runs} runs")
        print(header)
        print("-" * len(header))
        for label, shuffle, next_cycle in algorithms:
            rng = random.Random(args.seed)
            then = cycling(rng) if next_cycle else reshuffling(shuffle, rng)
            row = measure(tracks, runs, rng, shuffle, then)
            print(
                f"{label:<24} {row.adjacencies:>6.3f} {row.boundary:>5.3f} {row.mean_spread:>7.3f} "
                f"{row.worst_spread:>6.3f} {row.moved:>6.3f} {row.kendall:>5.3f} "
                f"{row.cycle_gap:>8.1f} {row.median_ms:>7.3f} {row.min_ms:>7.3f}"
            )


if __name__ == "__main__":
    main()
