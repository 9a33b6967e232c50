"""How the release radar looks: the weekly DM (newest first, Open and Like buttons), the
/radar list pages, the settings, and the answers of the other /radar commands."""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord
from discord import app_commands

from bot.discord_setup import NO_MENTIONS
from bot.radar import RadarRelease, RadarSettingsView, WatchedArtist, Watchlist
from bot.releases import format_release_date
from bot.spotify import SCOPE_PURPOSES
from bot.ui import fit
from bot.ui.likes import like_button
from bot.ui.messages import ACCENT, WARNING
from bot.ui.relink import RelinkButton

LIST_PER_PAGE = 20
DM_BUTTON_ROWS = 5  # one row per release: Open, Like
SOURCE_NAMES = {
    "followed": "followed",
    "top": "top artist",
    "likes": "in your likes",
    "manual": "added here",
}
TYPE_NAMES = {
    "album": "albums",
    "single": "singles",
    "compilation": "compilations",
    "appears_on": "appears on",
}


# -- the weekly DM -------------------------------------------------------------------------


def _release_line(release: RadarRelease, size: int) -> str:
    kind = "appears on" if release.group == "appears_on" else release.album_type
    artists = ", ".join(fit.name(a, size) for a in release.artists[:3])
    if len(release.artists) > 3:
        artists += f" and {len(release.artists) - 3} more"
    when = format_release_date(release.release_date, release.precision)
    return f"**{fit.link(release.name, release.url, size)}** ({kind}) by {artists} · {when}"


def radar_dm_embed(period: dt.date, timezone: str, releases: list[RadarRelease]) -> discord.Embed:
    embed = discord.Embed(
        title=f"Your radar for {period:%A} {period.day} {period:%B %Y}", colour=ACCENT
    )
    head = f"{len(releases)} new release{'' if len(releases) == 1 else 's'} from your artists, newest first.\n\n"
    tail = "\n\n-# `/radar list` shows who you watch; `/radar settings` changes when this comes."

    def build(size: int) -> str:
        return fit.lines(
            [_release_line(release, size) for release in releases],
            fit.DESCRIPTION - len(head) - len(tail),
            more=lambda left: f"…and {left} more.",
        )

    embed.description = head + fit.shrink(build, fit.DESCRIPTION - len(head) - len(tail)) + tail
    cover = next((r.image_url for r in releases if r.image_url), None)
    if cover:
        embed.set_thumbnail(url=cover)
    embed.set_footer(text=f"Encore radar · {period.isoformat()} · {timezone}")
    return embed


def radar_dm_view(releases: list[RadarRelease]) -> discord.ui.View:
    """Open (a link) and Like (the digest's like button: works after any restart)."""
    view = discord.ui.View(timeout=None)
    for row, release in enumerate(releases[:DM_BUTTON_ROWS]):
        if release.url:
            view.add_item(
                discord.ui.Button(
                    label=fit.plain(f"Open {release.name}", fit.LABEL),
                    url=release.url,
                    style=discord.ButtonStyle.link,
                    row=row,
                )
            )
        like = like_button(release.id, kind="album", label=f"Like {release.name}")
        like.row = row
        view.add_item(like)
    view.stop()  # nothing listens on it: the like buttons are dynamic items
    return view


def radar_dm(payload: dict[str, Any]) -> dict[str, Any]:
    rich = payload["rich"]
    releases = [RadarRelease.from_json(raw) for raw in rich.get("releases") or []]
    period = dt.date.fromisoformat(str(rich["period"]))
    message: dict[str, Any] = {
        "embed": radar_dm_embed(period, str(rich.get("timezone") or "UTC"), releases),
        "view": radar_dm_view(releases),
        "allowed_mentions": NO_MENTIONS,
    }
    return fit.message(message)


def rich_dm(payload: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a DM the outbox holds with a `rich` payload."""
    kind = (payload.get("rich") or {}).get("kind")
    if kind == "radar":
        return radar_dm(payload)
    return fit.message(
        {"content": str(payload.get("content") or "…"), "allowed_mentions": NO_MENTIONS}
    )


# -- /radar list -----------------------------------------------------------------------------


def missing_note(missing: tuple[str, ...]) -> str:
    scopes = ", ".join(f"`{s}` ({SCOPE_PURPOSES.get(s, s)})" for s in missing)
    return (
        f"Your Spotify link lacks {scopes}, so those artists are not on your radar yet. "
        "**Link again** (the button) to grant it: your likes, queues and settings are kept."
    )


def page_count(watchlist: Watchlist) -> int:
    return max(1, -(-len(watchlist.artists) // LIST_PER_PAGE))


def _artist_line(number: int, artist: WatchedArtist, size: int) -> str:
    sources = ", ".join(SOURCE_NAMES[s] for s in artist.sources)
    return f"{number}. {fit.name(artist.name, size)} · {sources}"


def watchlist_embed(page: int, watchlist: Watchlist) -> discord.Embed:
    start = page * LIST_PER_PAGE
    shown = watchlist.artists[start : start + LIST_PER_PAGE]
    embed = discord.Embed(
        title=f"Your radar: {len(watchlist.artists)} artists",
        colour=WARNING if watchlist.missing_scopes else ACCENT,
    )
    if not watchlist.artists:
        embed.description = (
            "No artists yet. Follow artists on Spotify, like tracks with `/like`, or add "
            "one with `/radar follow`."
        )
    else:
        budget = fit.DESCRIPTION - 200

        def build(size: int) -> str:
            return "\n".join(
                _artist_line(start + i + 1, artist, size) for i, artist in enumerate(shown)
            )

        embed.description = fit.shrink(build, budget)
    if watchlist.blocked:
        embed.add_field(
            name=f"Blocked ({len(watchlist.blocked)})",
            value=fit.lines(
                [fit.name(a.name, 60) for a in watchlist.blocked],
                fit.FIELD_VALUE,
                more=lambda left: f"and {left} more",
                sep=", ",
            ),
            inline=False,
        )
    if watchlist.missing_scopes:
        embed.add_field(
            name="Missing permissions",
            value=fit.cut(missing_note(watchlist.missing_scopes), fit.FIELD_VALUE),
            inline=False,
        )
    return embed


def relink_items(watchlist: Watchlist) -> list[discord.ui.Item[Any]]:
    return [RelinkButton()] if watchlist.missing_scopes else []


def artist_choice(artist_id: str, name: str) -> app_commands.Choice[str]:
    return app_commands.Choice(name=fit.plain(name, fit.CHOICE_NAME) or "…", value=artist_id)


# -- the other commands ------------------------------------------------------------------------


def followed_message(artist: WatchedArtist) -> str:
    return (
        f"**{fit.name(artist.name, 200)}** is on your radar: its new releases come in your "
        "weekly radar DM."
    )


def unfollowed_message(artist: WatchedArtist) -> str:
    name = fit.name(artist.name, 200)
    if artist.sources:
        sources = ", ".join(SOURCE_NAMES[s] for s in artist.sources)
        return (
            f"**{name}** stays on your radar ({sources}): Encore only removes artists you "
            "added here. `/radar block` hides it whatever the source."
        )
    return f"**{name}** is off your radar."


def blocked_message(artist: WatchedArtist) -> str:
    return (
        f"**{fit.name(artist.name, 200)}** is blocked: it stays off your radar whatever the "
        "source. `/radar unblock` brings it back."
    )


def unblocked_message(artist: WatchedArtist) -> str:
    name = fit.name(artist.name, 200)
    if artist.sources:
        return f"**{name}** is unblocked and back on your radar."
    return f"**{name}** is unblocked (it is on no source of your radar now)."


def settings_embed(view: RadarSettingsView) -> discord.Embed:
    embed = discord.Embed(
        title=f"Your radar: {'on' if view.enabled else 'off'}",
        colour=ACCENT if view.enabled else WARNING,
    )
    embed.add_field(
        name="Release types", value=", ".join(TYPE_NAMES[t] for t in view.release_types)
    )
    embed.add_field(name="When", value=f"{view.day_name}s at {view.time:%H:%M} ({view.timezone})")
    if view.next_delivery_at is not None:
        embed.add_field(
            name="Next radar",
            value=discord.utils.format_dt(view.next_delivery_at, "F"),
            inline=False,
        )
    embed.add_field(
        name="Server digests",
        value=(
            f"shared with {view.shared_servers} server{'' if view.shared_servers == 1 else 's'}"
            " (counts only, never your name)"
            if view.shared_servers
            else "not shared (`/radar share on` in a server)"
        ),
        inline=False,
    )
    embed.add_field(
        name="Encore Radar playlist",
        value="on: refilled with each radar" if view.playlist else "off (`/radar playlist on`)",
        inline=False,
    )
    return embed


def share_message(view: RadarSettingsView, *, on: bool) -> str:
    if on:
        return (
            "This server's digest now counts your radar's artists in \"New from artists this "
            'server listens to": as numbers ("3 members follow"), never your name.'
        )
    return "This server's digest no longer counts your radar's artists."


def playlist_message(view: RadarSettingsView, *, on: bool) -> str:
    if on:
        return (
            "Your **Encore Radar** playlist (private, in your Spotify) is made with your next "
            "radar and refilled with each one after it."
        )
    return "Your Encore Radar playlist is no longer refilled (it stays in your Spotify)."
