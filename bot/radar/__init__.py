"""The release radar: new releases from each member's own artists, by DM, in the server
digest and as a Spotify playlist.

- `schedule`: a member's weekly delivery time in their zone, and the checker's cadence
- `watchlist`: each member's artists (followed, top, likes, manual) minus their blocks
- `checker`: the worker job that checks each distinct watched artist once per cycle, under
  a budget of calls shared in PostgreSQL
- `delivery`: the weekly DM (once per member and period) and the "Encore Radar" playlist
- `server`: the digest's section of releases by artists a server's sharing members watch
- `service`: all of it behind one `RadarService`

Rendering is in `bot.ui.radar`; the commands in `cogs.radar`.
"""

from bot.radar.checker import CheckReport, RadarChecker
from bot.radar.delivery import DeliveryReport, RadarDeliveries, RadarRelease
from bot.radar.schedule import DAYS, RELEASE_TYPES, check_interval, next_delivery
from bot.radar.server import ServerRadarRelease, server_section
from bot.radar.service import RadarService, RadarSettingsView
from bot.radar.watchlist import (
    FOLLOW_SCOPE,
    PLAYLIST_SCOPE,
    SOURCES,
    TOP_SCOPE,
    WatchedArtist,
    Watchlist,
    WatchlistService,
)

__all__ = [
    "DAYS",
    "FOLLOW_SCOPE",
    "PLAYLIST_SCOPE",
    "RELEASE_TYPES",
    "SOURCES",
    "TOP_SCOPE",
    "CheckReport",
    "DeliveryReport",
    "RadarChecker",
    "RadarDeliveries",
    "RadarRelease",
    "RadarService",
    "RadarSettingsView",
    "ServerRadarRelease",
    "WatchedArtist",
    "Watchlist",
    "WatchlistService",
    "check_interval",
    "next_delivery",
    "server_section",
]
