"""How a digest looks: the daily post (embed and like buttons) and /digest status."""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord

from bot.digests import Digest
from bot.discord_setup import NO_MENTIONS
from bot.ui.likes import like_button
from bot.ui.messages import ACCENT
from bot.ui.names import linked


def long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def digest_embed(digest: Digest) -> discord.Embed:
    day = long_date(digest.local_date)
    embed = discord.Embed(title=f"New releases for {day} ({digest.timezone})"[:256], colour=ACCENT)
    if not digest.artists:
        embed.description = (
            f"Nothing new came out on {day} in the {digest.timezone} time zone. "
            "See you tomorrow!\n-# `/digest empty-days skip` turns these notes off."
        )
    else:
        lines = [
            f"Released on {day} ({digest.timezone}): {len(digest.artists)} artists, "
            f"{digest.release_count} releases.",
            "",
        ]
        size = len(lines[0])
        for shown, artist in enumerate(digest.artists):
            releases = ", ".join(
                f"{linked(release.name, release.url, 60)} ({release.album_type})"
                for release in artist.releases[:3]
            )
            if len(artist.releases) > 3:
                releases += f" and {len(artist.releases) - 3} more"
            line = f"**{linked(artist.name, artist.url, 60)}**: {releases}"
            if size + len(line) > 3600:
                lines.append(
                    f"…and {len(digest.artists) - shown} more artists: `/releases` lists them all."
                )
                break
            lines.append(line)
            size += len(line) + 1
        embed.description = "\n".join(lines)
        cover = digest.artists[0].latest_release.image_url
        if cover:
            embed.set_thumbnail(url=cover)
    embed.set_footer(text=digest.marker)
    return embed


LIKE_BUTTONS = 10  # two rows: the first artists' latest releases


def digest_view(digest: Digest) -> discord.ui.View | None:
    """A like button for the latest release of each of the first artists shown.

    Like buttons are dynamic items: they need no listening view, so it never times out.
    """
    if not digest.artists:
        return None
    view = discord.ui.View(timeout=None)
    for artist in digest.artists[:LIKE_BUTTONS]:
        release = artist.latest_release
        view.add_item(like_button(release.id, kind="album", label=release.name))
    return view


def digest_message(digest: Digest) -> dict[str, Any]:
    """Everything a digest post sends."""
    message: dict[str, Any] = {"embed": digest_embed(digest), "allowed_mentions": NO_MENTIONS}
    view = digest_view(digest)
    if view is not None:
        message["view"] = view
    return message
