"""The catalogue: deterministic from its seed, as messy as Spotify's (or, on request, tidy)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.spotify import SpotifyControl, SpotifyEmulator
from sandbox.spotify.catalog import Catalog
from sandbox.spotify.music import Music

from .clients import TODAY, call, user_sp

# The first sandbox's tidy catalogue for seed 2026 on TODAY, draw for draw.
TIDY_FINGERPRINT = "bcf17301c6515109df709f205780814f0b7e360847a295bec09b346b437f3e83"

MASKED_LINK = re.compile(r"\[[^\]]+\]\(<?https?://")
MENTIONS = ("@everyone", "@here", "<@1", "<#", "<@&")
MARKDOWN = ("*", "_", "~", "`", "|", ">")
ZERO_WIDTH = ("\u200b", "\u200d", "\ufeff", "\u2060")


def fingerprint(m: Music) -> str:
    h = hashlib.sha256()

    def feed(x: object) -> None:
        h.update(json.dumps(x, default=str, sort_keys=True).encode())

    feed([(a.id, a.name, a.popularity, a.followers) for a in m.artists])
    feed(
        [
            (
                a.id,
                a.name,
                a.album_type,
                a.artist,
                a.released,
                a.precision,
                a.first_track,
                a.n_tracks,
                a.popularity,
            )
            for a in m.albums
        ]
    )
    feed([m.track_ids, m.track_name, m.track_ms, m.track_no, m.track_album, m.track_feat])
    return h.hexdigest()


def kinds_of_mess(name: str) -> set[str]:
    found = set()
    if len(name) >= 200:
        found.add("long")
    if any(c in name for c in MARKDOWN) or name.startswith("#"):
        found.add("markdown")
    if any(m in name for m in MENTIONS):
        found.add("mention")
    if MASKED_LINK.search(name):
        found.add("masked_link")
    if any(unicodedata.bidirectional(c) in ("R", "AL", "RLO", "RLE") for c in name):
        found.add("rtl")
    if any(ord(c) >= 0x1F300 for c in name):
        found.add("emoji")
    if any(z in name for z in ZERO_WIDTH):
        found.add("zero_width")
    return found


ALL_KINDS = {"long", "markdown", "mention", "masked_link", "rtl", "emoji", "zero_width"}


def test_the_tidy_catalogue_is_the_first_sandboxs_draw_for_draw() -> None:
    tidy = Music(2026, TODAY, "tidy")
    assert fingerprint(tidy) == TIDY_FINGERPRINT
    assert all(len(a.artists) == 1 for a in tidy.albums)
    names = [a.name for a in tidy.artists] + [a.name for a in tidy.albums] + tidy.track_name
    assert max(map(len, names)) < 60 and all(n.isascii() and not kinds_of_mess(n) for n in names)


def test_the_catalogue_is_deterministic_from_its_seed() -> None:
    a, b, c = Music(2026, TODAY), Music(2026, TODAY), Music(7, TODAY)
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)
    assert [x.name for x in a.artists[:50]] == [x.name for x in b.artists[:50]]
    assert all(len(i) == 22 and i.isalnum() for i in a.track_ids[:1000])
    assert len(a.artists) >= 3000 and len(a.albums) >= 8000 and len(a.track_ids) > 60_000
    # playlists: generated lazily, the same every time, with a skewed artist spread
    one, two = Catalog(2026, TODAY), Catalog(2026, TODAY)
    pl = next(p for p in one.playlists.values() if p.total == 10_000)
    counts: Counter[int] = Counter()
    for item, _, _ in one.entries(pl):
        assert isinstance(item, int)
        counts[one.music.albums[one.music.track_album[item]].artist] += 1
    ranked = sorted(counts.values(), reverse=True)
    assert ranked[0] > 500 and sum(1 for v in ranked if v == 1) > 100
    assert one.entries(pl) == two.entries(two.playlists[pl.id])


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**31))
def test_the_messy_catalogue_holds_every_kind_of_mess(seed: int) -> None:
    m = Music(seed, TODAY, "messy")
    for names in (
        [a.name for a in m.artists],
        [a.name for a in m.albums],
        m.track_name,
    ):
        found: set[str] = set()
        for name in names:
            found |= kinds_of_mess(name)
            if found == ALL_KINDS:
                break
        assert found == ALL_KINDS
    # releases by several artists, 2 to 6, often with a popular one
    credits = Counter(len(a.artists) for a in m.albums)
    assert all(credits[n] > 10 for n in range(2, 7)) and max(credits) == 6
    collabs = [a for a in m.albums if len(a.artists) > 1]
    assert sum(1 for a in collabs if min(a.artists[1:]) < 20) > len(collabs) / 4
    # and all of it on the first page of what the bot reads most: tag:new
    first_page = m.new_albums_by_relevance()[:10]
    on_page: set[str] = set()
    for album in first_page:
        on_page |= kinds_of_mess(album.name)
        on_page |= kinds_of_mess(m.track_name[album.first_track])
    assert len(on_page) >= 6
    assert any(
        len(a.artists) > 1 and all(x < 50 for x in a.artists[:2]) for a in first_page
    )  # one release under two of the popular artists a digest shows
    # an older back catalogue behind the new releases
    assert min(a.released for a in m.albums).year < TODAY.year - 10


async def test_preset_users_hold_messy_playlists(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    catalog = await ctl.catalog()
    assert catalog["profile"] == "messy" and catalog["users"]["hoarder"]["playlist_count"] == 300
    playlists = await ctl.user_playlists("messy")
    names = [p["name"] for p in playlists]
    kinds: set[str] = set()
    for name in names:
        kinds |= kinds_of_mess(name)
    assert kinds >= ALL_KINDS - {"long"} and max(map(len, names)) >= 100
    items = [uri for p in playlists for uri in p["items"]]
    assert any(uri.startswith("spotify:local:") for uri in items)
    assert any(uri.startswith("spotify:episode:") for uri in items)
    duplicates = next(p for p in playlists if p["name"] == "Duplicates")["items"]
    assert len(duplicates) > len(set(duplicates))
    sp = await user_sp(emu, ctl, "messy")
    me = await call(sp.me)
    assert kinds_of_mess(me["display_name"]) >= {"markdown", "mention", "zero_width"}


async def test_the_tidy_catalogue_is_one_option_away() -> None:
    emu = SpotifyEmulator(today=TODAY, catalogue="tidy")
    await emu.start()
    try:
        async with SpotifyControl(emu.base_url or "") as ctl:
            catalog = await ctl.catalog()
            assert catalog["profile"] == "tidy" and catalog["albums"] == 6000
            assert "messy" not in catalog["preset_users"]
            assert {"alice", "podcast", "ads", "incognito"} <= set(catalog["preset_users"])
    finally:
        await emu.stop()


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown catalogue profile"):
        Music(2026, TODAY, "chaotic")  # type: ignore[arg-type]


async def test_a_long_tail_of_artists_for_benchmarks() -> None:
    emu = SpotifyEmulator(today=TODAY, catalogue="messy", artists=3500)
    await emu.start()
    try:
        async with SpotifyControl(emu.base_url or "") as ctl:
            assert (await ctl.catalog())["artists"] == 3500
            await ctl.create_user("fan", following=400)
            followed = await ctl.followed_artists("fan")
            music = emu.catalog.music
            tail = [a for a in followed if music.artist_index[a] >= 3000]
            assert tail  # members follow little-known artists too
            sp = await user_sp(emu, ctl, "fan")
            albums = await call(sp.artist_albums, tail[0], limit=10)
            assert 1 <= albums["total"] <= 4
    finally:
        await emu.stop()
    with pytest.raises(ValueError, match="at least 3000"):
        Music(2026, TODAY, "messy", artists=10)
