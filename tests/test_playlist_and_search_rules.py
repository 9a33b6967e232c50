"""The pure rules behind /playlist and /search: finding a playlist, cleaning a query, pages."""

from __future__ import annotations

import pytest

from bot.errors import BadInput
from bot.music import PlaylistSummary
from bot.playlists import matching
from bot.search import SearchPage, clean_query
from bot.spotify import playlist_id_in_link
from bot.ui.names import linked, shown

ID = "nN9YPQNLyeFSw7nape4BvB"


def playlist(name: str) -> PlaylistSummary:
    return PlaylistSummary(name, name, "alice", "Alice", 1, False, None, None)


@pytest.mark.parametrize(
    "text",
    [
        f"https://open.spotify.com/playlist/{ID}",
        f"https://open.spotify.com/playlist/{ID}?si=abc123",
        f"https://open.spotify.com/intl-de/playlist/{ID}",
        f"spotify:playlist:{ID}",
    ],
)
def test_a_playlist_link_or_uri_gives_its_id(text: str) -> None:
    assert playlist_id_in_link(text) == ID


def test_other_text_is_not_a_playlist_link() -> None:
    assert playlist_id_in_link("Road Trip") is None
    assert playlist_id_in_link(f"https://open.spotify.com/album/{ID}") is None


def test_names_match_exactly_first_then_by_prefix_then_anywhere() -> None:
    playlists = (playlist("Best of Fifty"), playlist("Fifty-One"), playlist("Fifty"))

    assert [p.name for p in matching(playlists, "  fifty ")] == [
        "Fifty",
        "Fifty-One",
        "Best of Fifty",
    ]
    assert [p.name for p in matching(playlists, "")] == [p.name for p in playlists]
    assert matching(playlists, "polka") == []


def test_a_query_is_trimmed_and_its_spaces_collapsed() -> None:
    assert clean_query("  daft   punk \n") == "daft punk"


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_a_blank_query_is_refused(raw: str) -> None:
    with pytest.raises(BadInput, match="Type something"):
        clean_query(raw)


def test_a_query_over_200_characters_is_refused() -> None:
    assert clean_query("x" * 200) == "x" * 200
    with pytest.raises(BadInput, match="under 200 characters"):
        clean_query("x" * 201)


@pytest.mark.parametrize(
    ("total", "pages"), [(0, 1), (1, 1), (10, 1), (11, 2), (1000, 100), (1010, 100), (3097, 100)]
)
def test_search_pages_stop_where_spotify_stops_offsets(total: int, pages: int) -> None:
    assert SearchPage("q", "track", 0, total, ()).page_count == pages


def test_shown_names_cannot_mention_or_format() -> None:
    assert shown("@everyone **hi**") == "@\u200beveryone \\*\\*hi\\*\\*"
    assert shown("x" * 100, 10) == "x" * 9 + "…"
    assert linked("[a] b", "https://s/p") == "[\\[a\\] b](https://s/p)"
    assert linked("plain", None) == "plain"
