"""Spotify's paging: how much each endpoint gives per call, and following a paging object's
`next` link page by page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from bot.spotify.gateway import SpotifyGateway, endpoint_of
from bot.spotify.webapi import WebAPI

# The most `/me/playlists`, `/playlists/{id}/items`, `/me/tracks` and `/browse/new-releases`
# give per call.
PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 10  # `/search` caps `limit` at 10 since 2026
SEARCH_MAX_OFFSET = 1000  # and refuses a larger `offset`

Page = dict[str, Any]


async def user_pages(
    spotify: SpotifyGateway,
    discord_user_id: int,
    first: Callable[[WebAPI], Page | None],
) -> AsyncIterator[Page]:
    """Each page of one of the user's paging objects, from `first` on, following `next`.

    One call per page, so a 401 halfway refreshes the token and repeats that page only. An
    error raises from the loop; the pages yielded before it are the caller's to keep.
    """
    endpoint = endpoint_of(first)  # later pages share the first one's concurrency bound
    page = await spotify.as_user(discord_user_id, first, endpoint=endpoint)
    while page is not None:
        yield page
        if not page.get("next"):
            return
        page = await spotify.as_user(discord_user_id, _following(page), endpoint=endpoint)


def _following(page: Page) -> Callable[[WebAPI], Page | None]:
    return lambda sp: sp.next(page)
