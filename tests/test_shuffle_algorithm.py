"""Smart shuffle: permutation, fewest same-artist neighbours, spread and the next cycle."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.music import ArtistRef
from bot.music import Track as MusicTrack
from bot.shuffle.algorithm import (
    adjacencies,
    fisher_yates,
    min_adjacencies,
    next_cycle_order,
    smart_shuffle,
    spread,
)
from bot.shuffle.order import following_order, next_cycle_ids

Track = tuple[int, int]  # (artist, track number): distinct tracks, artist is the key


def artist(track: Track) -> int:
    return track[0]


def playlist(artists: list[int]) -> list[Track]:
    return [(a, number) for number, a in enumerate(artists)]


# Artists drawn from a small pool so that big artists and unavoidable repeats are common.
playlists = st.lists(st.integers(min_value=0, max_value=5), max_size=60).map(playlist)
small_playlists = st.lists(st.integers(min_value=0, max_value=3), max_size=7).map(playlist)
seeds = st.integers(min_value=0, max_value=2**32)

NOTES_SIZES = [10, 8, 6, 5, 4, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1]
NOTES_PLAYLIST = playlist([a for a, size in enumerate(NOTES_SIZES) for _ in range(size)])


def last_quarter_kept_out(previous: list[Track], new: list[Track]) -> bool:
    quarter = min(len(new) // 2, max(1, len(new) // 4)) if len(new) >= 2 else 0
    recent = set(previous[len(previous) - quarter :]) if quarter else set()
    return not recent & set(new[:quarter])


@given(playlists, seeds)
def test_result_is_always_a_permutation(tracks: list[Track], seed: int) -> None:
    assert sorted(smart_shuffle(tracks, artist, random.Random(seed))) == sorted(tracks)


def test_empty_and_single_track_playlists_come_back_unchanged() -> None:
    assert smart_shuffle([], artist, random.Random(1)) == []
    assert smart_shuffle([(0, 0)], artist, random.Random(1)) == [(0, 0)]
    assert next_cycle_order([], artist, random.Random(1), []) == []
    assert next_cycle_order([(0, 0)], artist, random.Random(1), [(0, 0)]) == [(0, 0)]


@given(playlists, seeds)
def test_same_artist_neighbours_are_the_fewest_possible(tracks: list[Track], seed: int) -> None:
    order = smart_shuffle(tracks, artist, random.Random(seed))
    counts = [sum(1 for t in tracks if t[0] == a) for a in {t[0] for t in tracks}]
    fewest = max(0, 2 * max(counts, default=0) - len(tracks) - 1)
    assert min_adjacencies(tracks, artist) == fewest
    assert adjacencies(order, artist) == fewest


@settings(max_examples=150)
@given(small_playlists, seeds)
def test_fewest_neighbours_match_a_search_over_every_order(tracks: list[Track], seed: int) -> None:
    fewest = min(adjacencies(order, artist) for order in itertools.permutations(tracks))
    assert min_adjacencies(tracks, artist) == fewest
    assert adjacencies(smart_shuffle(tracks, artist, random.Random(seed)), artist) == fewest


def test_a_playlist_that_cannot_avoid_repeats_gets_the_fewest() -> None:
    tracks = playlist([0] * 7 + [1, 2])
    order = smart_shuffle(tracks, artist, random.Random(3))
    assert adjacencies(order, artist) == min_adjacencies(tracks, artist) == 4


@given(playlists, seeds)
def test_the_same_seed_gives_the_same_order(tracks: list[Track], seed: int) -> None:
    first = smart_shuffle(tracks, artist, random.Random(seed))
    assert smart_shuffle(tracks, artist, random.Random(seed)) == first
    previous = fisher_yates(tracks, random.Random(seed))
    again = next_cycle_order(tracks, artist, random.Random(seed), previous)
    assert next_cycle_order(tracks, artist, random.Random(seed), previous) == again


def test_artists_are_spread_out_on_the_notes_playlist() -> None:
    rng = random.Random(2014)
    runs = 300
    scores = [spread(smart_shuffle(NOTES_PLAYLIST, artist, rng), artist) for _ in range(runs)]
    assert sum(mean for mean, _ in scores) / runs >= 0.85
    assert sum(worst for _, worst in scores) / runs >= 0.5


def test_two_shuffles_differ_about_as_much_as_two_uniform_ones() -> None:
    rng = random.Random(7)

    def moved(shuffle: Callable[[], list[Track]]) -> float:
        pairs = [(shuffle(), shuffle()) for _ in range(200)]
        return sum(sum(x != y for x, y in zip(a, b, strict=True)) for a, b in pairs) / (
            200 * len(NOTES_PLAYLIST)
        )

    uniform = moved(lambda: fisher_yates(NOTES_PLAYLIST, rng))
    smart = moved(lambda: smart_shuffle(NOTES_PLAYLIST, artist, rng))
    assert smart >= 0.95 * uniform


def test_fisher_yates_puts_every_track_everywhere_about_equally() -> None:
    rng = random.Random(11)
    tracks = playlist([0, 1, 2, 3])
    firsts = [fisher_yates(tracks, rng)[0] for _ in range(4000)]
    for track in tracks:
        assert 850 < firsts.count(track) < 1150


@given(playlists, seeds, seeds)
def test_next_cycle_keeps_the_last_quarter_out_of_the_first_quarter(
    tracks: list[Track], seed: int, previous_seed: int
) -> None:
    previous = smart_shuffle(tracks, artist, random.Random(previous_seed))
    order = next_cycle_order(tracks, artist, random.Random(seed), previous)
    assert sorted(order) == sorted(tracks)
    assert last_quarter_kept_out(previous, order)


def test_next_cycle_never_repeats_an_artist_on_the_notes_playlist_even_across_cycles() -> None:
    rng = random.Random(3)
    previous = smart_shuffle(NOTES_PLAYLIST, artist, rng)
    for _ in range(200):
        order = next_cycle_order(NOTES_PLAYLIST, artist, rng, previous)
        assert adjacencies(previous[-1:] + order, artist) == 0
        assert last_quarter_kept_out(previous, order)
        previous = order


@settings(max_examples=120)
@given(small_playlists, seeds, seeds)
def test_next_cycle_has_the_fewest_repeats_a_search_over_every_allowed_order_finds(
    tracks: list[Track], seed: int, previous_seed: int
) -> None:
    previous = fisher_yates(tracks, random.Random(previous_seed))
    order = next_cycle_order(tracks, artist, random.Random(seed), previous)

    def repeats(candidate: list[Track]) -> int:
        return adjacencies(previous[-1:] + candidate, artist)

    allowed = (
        list(candidate)
        for candidate in itertools.permutations(tracks)
        if last_quarter_kept_out(previous, list(candidate))
    )
    assert last_quarter_kept_out(previous, order)
    assert repeats(order) == min(map(repeats, allowed), default=0)


def test_next_cycle_of_a_changed_playlist_is_a_permutation_of_the_new_one() -> None:
    old = playlist([0, 0, 1, 1, 2, 2, 3, 3])
    new = [*old[2:], (4, 100), (4, 101)]
    order = next_cycle_order(new, artist, random.Random(5), old)
    assert sorted(order) == sorted(new)
    assert not set(old[-2:]) & set(order[:2])


def test_ten_thousand_tracks_shuffle_well() -> None:
    tracks = playlist([i % 1500 if i % 3 else i % 37 for i in range(10_000)])
    order = smart_shuffle(tracks, artist, random.Random(1))
    assert sorted(order) == sorted(tracks)
    assert adjacencies(order, artist) == 0


def zipf_playlist(total: int, biggest: int) -> list[Track]:
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(min(max(1, biggest // (len(sizes) + 1)), total - sum(sizes)))
    return playlist([a for a, size in enumerate(sizes) for _ in range(size)])


def test_next_cycle_of_a_big_playlist_keeps_artists_as_spread_as_a_first_shuffle() -> None:
    # Mostly single tracks: recent ones leaving the protected start must not leave it
    # short and squeeze the recent tracks of big artists together right after it.
    tracks = zipf_playlist(3000, 150)
    rng = random.Random(4)
    previous = smart_shuffle(tracks, artist, rng)
    first_mean, first_worst = spread(previous, artist)
    order = next_cycle_order(tracks, artist, rng, previous)
    assert sorted(order) == sorted(tracks)
    assert last_quarter_kept_out(previous, order)
    assert adjacencies(previous[-1:] + order, artist) == 0
    mean, worst = spread(order, artist)
    assert mean >= first_mean - 0.05
    assert worst >= first_worst - 0.15


@given(seeds)
def test_a_single_track_by_the_closing_artist_still_waits_for_its_gap(seed: int) -> None:
    # Many single tracks take the bulk path; the one by the artist that closed the previous
    # cycle must not open the next one.
    tracks = zipf_playlist(300, 20)
    previous = fisher_yates(tracks, random.Random(seed))
    closing = next(t for t in tracks if artist(t) == 40)
    previous.remove(closing)
    previous.append(closing)
    order = next_cycle_order(tracks, artist, random.Random(seed + 1), previous)
    assert artist(order[0]) != 40
    assert adjacencies(previous[-1:] + order, artist) == 0
    assert last_quarter_kept_out(previous, order)


@given(seeds)
def test_mostly_single_tracks_shuffle_without_repeats(seed: int) -> None:
    tracks = zipf_playlist(500, 40)
    order = smart_shuffle(tracks, artist, random.Random(seed))
    assert sorted(order) == sorted(tracks)
    assert adjacencies(order, artist) == 0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=0, max_size=40), st.integers(0, 2**32))
def test_a_rollover_on_ids_alone_orders_as_it_would_on_the_tracks(
    artists: list[int], seed: int
) -> None:
    """The stored order is reordered in PostgreSQL from ids; it must be the same order."""
    tracks = [
        MusicTrack(f"t{number}", f"Song {number}", (ArtistRef(f"a{a}", f"Artist {a}"),))
        for number, a in enumerate(artists)
    ]
    on_tracks = following_order(tracks, tracks, random.Random(seed))
    on_ids = next_cycle_ids([(t.id, t.primary_artist) for t in tracks], random.Random(seed))
    assert on_ids == [track.id for track in on_tracks]
