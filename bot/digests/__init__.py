"""Daily new-release digests, one post per server per local day.

- `schedule`: post times in each server's time zone (DST included)
- `digest`: what a digest holds, and a server's settings as shown
- `posting`: the `Poster` a worker posts through, and its failures
- `service`: settings, claiming due servers with a lease, posting, recording the outcome

Rendering (the embed, the like buttons) and the discord.py poster are in `bot.ui.digest` and
`bot.ui.digest_poster`.
"""

from bot.digests.digest import MARKER, Digest, DigestStatus, SharedRelease
from bot.digests.posting import (
    ChannelUnavailable,
    Poster,
    PostFailed,
    PostRefused,
    digest_nonce,
)
from bot.digests.schedule import (
    DEFAULT_TIME,
    due_local_date,
    next_post_at,
    parse_post_time,
    parse_timezone,
    scheduled_at,
    timezone_names,
    timezone_suggestions,
)
from bot.digests.service import DigestClaim, DigestService, TickReport, worker_name

__all__ = [
    "DEFAULT_TIME",
    "MARKER",
    "ChannelUnavailable",
    "Digest",
    "DigestClaim",
    "DigestService",
    "DigestStatus",
    "PostFailed",
    "PostRefused",
    "Poster",
    "SharedRelease",
    "TickReport",
    "digest_nonce",
    "due_local_date",
    "next_post_at",
    "parse_post_time",
    "parse_timezone",
    "scheduled_at",
    "timezone_names",
    "timezone_suggestions",
    "worker_name",
]
