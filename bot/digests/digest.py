"""A digest as it is posted, and a server's digest settings as /digest status shows them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.releases import ArtistReleases, StoredRelease

MARKER = "Encore daily digest"  # every post's footer starts with it: how a post is found again


@dataclass(frozen=True)
class SharedRelease:
    """A release by an artist on the radar of members who share theirs with the server:
    how many of them watch it, never who."""

    release: StoredRelease
    artist_name: str
    artist_url: str | None
    members: int


@dataclass(frozen=True)
class Digest:
    """The new releases of one local date, as a server in `timezone` sees them."""

    local_date: dt.date
    timezone: str
    artists: tuple[ArtistReleases, ...]
    # "New from artists this server listens to" (the release radar, members who share it)
    shared: tuple[SharedRelease, ...] = ()

    @property
    def marker(self) -> str:
        return f"{MARKER} · {self.local_date.isoformat()} · {self.timezone}"

    @property
    def marker_prefix(self) -> str:
        return f"{MARKER} · {self.local_date.isoformat()}"

    @property
    def release_count(self) -> int:
        return sum(len(artist.releases) for artist in self.artists)


@dataclass(frozen=True)
class DigestStatus:
    guild_id: int
    enabled: bool
    channel_id: int | None
    post_time: dt.time
    timezone: str
    post_when_empty: bool
    next_run_at: dt.datetime | None
    last_posted_at: dt.datetime | None
    last_failure: str | None
    last_failure_at: dt.datetime | None
    paused_reason: str | None
