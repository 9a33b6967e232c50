"""One parser for every Spotify link and URI people paste (bot.spotify.ids)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.spotify import SpotifyRef, spotify_refs_in

TRACK = "4uLU6hMCjMI75M1A2tKUQC"
ALBUM = "1DFixLWuPkv3KT3TnV35m3"
PLAYLIST = "37i9dQZF1DXcBWIGoYBM5M"


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        (f"https://open.spotify.com/track/{TRACK}", SpotifyRef("track", TRACK)),
        (f"https://open.spotify.com/intl-de/track/{TRACK}?si=x1", SpotifyRef("track", TRACK)),
        (f"https://open.spotify.com/intl-pt-BR/album/{ALBUM}", SpotifyRef("album", ALBUM)),
        (f"open.spotify.com/embed/playlist/{PLAYLIST}", SpotifyRef("playlist", PLAYLIST)),
        (
            f"https://open.spotify.com/user/bob/playlist/{PLAYLIST}",
            SpotifyRef("playlist", PLAYLIST),
        ),
        (f"<https://open.spotify.com/track/{TRACK}>", SpotifyRef("track", TRACK)),
        (f"spotify:track:{TRACK}", SpotifyRef("track", TRACK)),
        (f"spotify:album:{ALBUM}", SpotifyRef("album", ALBUM)),
        (f"spotify:user:bob:playlist:{PLAYLIST}", SpotifyRef("playlist", PLAYLIST)),
    ],
)
def test_each_form_of_link_and_uri_names_its_item(text: str, ref: SpotifyRef) -> None:
    assert spotify_refs_in(f"listen to this: {text} !!") == [ref]


def test_a_message_with_several_kinds_gives_each_once_in_order() -> None:
    message = (
        f"new one https://open.spotify.com/intl-fr/album/{ALBUM}?si=1 and "
        f"spotify:track:{TRACK}, also ||https://open.spotify.com/playlist/{PLAYLIST}|| "
        f"and again https://open.spotify.com/track/{TRACK}"
    )
    assert spotify_refs_in(message) == [
        SpotifyRef("album", ALBUM),
        SpotifyRef("track", TRACK),
        SpotifyRef("playlist", PLAYLIST),
    ]
    assert SpotifyRef("track", TRACK).uri == f"spotify:track:{TRACK}"


@pytest.mark.parametrize(
    "text",
    [
        f"https://open.spotify.com/artist/{TRACK}",
        f"https://open.spotify.com/track/{TRACK}X",  # 23 characters: no id
        "https://open.spotify.com/track/short",
        f"https://example.com/track/{TRACK}",
        "spotify:track:",
        "no links here",
    ],
)
def test_other_text_names_nothing(text: str) -> None:
    assert spotify_refs_in(text) == []


@given(st.text(max_size=300))
def test_any_text_parses_without_error_and_only_to_22_character_ids(text: str) -> None:
    for ref in spotify_refs_in(text):
        assert len(ref.id) == 22 and ref.kind in ("track", "album", "playlist")
