"""New releases: a local copy in PostgreSQL, filled by ingestion from pluggable Spotify sources,
and the reads built on it (`/releases`, the JSON API, the daily digests).

- `dates`: Spotify's release dates (year, month or day precision)
- `sources`: the endpoints releases come from, tried in order
- `ingestion`: fetching and upserting, one process at a time
- `reads`: the copy read back; reads never call Spotify
- `service`: both behind one `ReleaseService`
"""

from bot.releases.dates import format_release_date, parse_release_date
from bot.releases.ingestion import INGESTION_LOCK, IngestionOutcome, ReleaseIngestion
from bot.releases.reads import ArtistReleases, ReleaseCopy, StoredRelease
from bot.releases.service import ReleaseService
from bot.releases.sources import (
    DEFAULT_SOURCES,
    NewReleasesSource,
    ReleaseSource,
    SourceUnavailable,
    TagNewSearchSource,
)

__all__ = [
    "DEFAULT_SOURCES",
    "INGESTION_LOCK",
    "ArtistReleases",
    "IngestionOutcome",
    "NewReleasesSource",
    "ReleaseCopy",
    "ReleaseIngestion",
    "ReleaseService",
    "ReleaseSource",
    "SourceUnavailable",
    "StoredRelease",
    "TagNewSearchSource",
    "format_release_date",
    "parse_release_date",
]
