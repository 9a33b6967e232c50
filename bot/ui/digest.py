"""How a digest looks: the daily post (embed and like buttons), and the /digest answers."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import discord

from bot.digests import Digest, DigestStatus, SharedRelease
from bot.discord_setup import NO_MENTIONS
from bot.ui import fit
from bot.ui.likes import like_button
from bot.ui.messages import ACCENT, WARNING
from bot.ui.names import linked


def long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def digest_embed(digest: Digest) -> discord.Embed:
    day = long_date(digest.local_date)
    embed = discord.Embed(
        title=fit.cut(f"New releases for {day} ({digest.timezone})", fit.TITLE), colour=ACCENT
    )
    if not digest.artists:
        embed.description = (
            f"Nothing new came out on {day} in the {digest.timezone} time zone. "
            "See you tomorrow!\n-# `/digest empty-days skip` turns these notes off."
        )
    else:
        head = (
            f"Released on {day} ({digest.timezone}): {len(digest.artists)} artists, "
            f"{digest.release_count} releases.\n"
        )
        artist_lines = []
        for artist in digest.artists:
            releases = ", ".join(
                f"{linked(release.name, release.url, 60)} ({release.album_type})"
                for release in artist.releases[:3]
            )
            if len(artist.releases) > 3:
                releases += f" and {len(artist.releases) - 3} more"
            artist_lines.append(f"**{linked(artist.name, artist.url, 60)}**: {releases}")
        embed.description = head + fit.lines(
            artist_lines,
            fit.DESCRIPTION - len(head),
            more=lambda left: f"…and {left} more artists: `/releases` lists them all.",
        )
        cover = digest.artists[0].latest_release.image_url
        if cover:
            embed.set_thumbnail(url=cover)
    if digest.shared:
        embed.add_field(name=SHARED_TITLE, value=shared_section(digest), inline=False)
    embed.set_footer(text=digest.marker)
    return embed


SHARED_TITLE = "New from artists this server listens to"


def shared_section(digest: Digest) -> str:
    """Releases by artists on the radars members share here: how many watch, never who."""

    def line(size: int, shared: SharedRelease) -> str:
        members = f"{shared.members} member{'' if shared.members == 1 else 's'} follow"
        if shared.members == 1:
            members += "s"
        return (
            f"**{linked(shared.release.name, shared.release.url, size)}** "
            f"({shared.release.album_type}) by {linked(shared.artist_name, shared.artist_url, size)}"
            f" · {members}"
        )

    def build(size: int) -> str:
        return fit.lines(
            [line(size, shared) for shared in digest.shared],
            fit.FIELD_VALUE,
            more=lambda left: f"…and {left} more",
        )

    return fit.shrink(build, fit.FIELD_VALUE, longest=60)


LIKE_BUTTONS = 10  # two rows: the first artists' latest releases


def digest_view(digest: Digest) -> discord.ui.View | None:
    """A like button for the latest release of each of the first artists shown.

    Like buttons are dynamic items: they need no listening view, so it never times out.
    """
    if not digest.artists:
        return None
    view = discord.ui.View(timeout=None)
    liked: set[str] = set()
    for artist in digest.artists:
        release = artist.latest_release
        # A collaboration is the latest release of several of the artists shown: one button.
        if release.id in liked:
            continue
        liked.add(release.id)
        view.add_item(like_button(release.id, kind="album", label=release.name))
        if len(liked) == LIKE_BUTTONS:
            break
    return view


def digest_message(digest: Digest) -> dict[str, Any]:
    """Everything a digest post sends, within Discord's limits."""
    message: dict[str, Any] = {"embed": digest_embed(digest), "allowed_mentions": NO_MENTIONS}
    view = digest_view(digest)
    if view is not None:
        message["view"] = view
    return fit.message(message)


# -- /digest -----------------------------------------------------------------------------

# What Encore needs in the digest's channel, as Discord's client names the permissions.
NEEDED = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
}


def missing_permissions(channel_mention: str, missing: list[str]) -> str:
    return (
        f"I cannot post the digest in {channel_mention}: I am missing "
        f"{', '.join(missing)} there. Give me those in the channel's permissions or with "
        "a role, then run `/digest channel` again."
    )


def _when(moment: dt.datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    utc = moment.astimezone(dt.UTC)
    same = timezone in ("UTC", "Etc/UTC") or local.utcoffset() == dt.timedelta(0)
    when = f"{local:%H:%M} on {long_date(local.date())} ({timezone})"
    if not same:
        when += f", {utc:%H:%M} UTC"
    return f"{when}, {discord.utils.format_dt(moment, 'R')}"


def _reason(reason: str, tail: str) -> str:
    """A stored failure (quoting what Discord said) and our tail, within a field's 1,024."""
    return fit.cut(reason, fit.FIELD_VALUE - len(tail)) + tail


def status_embed(status: DigestStatus | None) -> discord.Embed:
    if status is None or status.channel_id is None:
        return discord.Embed(
            title="Daily digest: off",
            description=(
                "This server gets no new-release digest yet. `/digest channel` picks where "
                "it goes and turns it on (every day at 09:00 UTC until you change it)."
            ),
            colour=WARNING,
        )
    paused = status.paused_reason is not None
    state = "paused" if paused else ("on" if status.enabled else "off")
    embed = discord.Embed(
        title=f"Daily digest: {state}", colour=WARNING if paused or not status.enabled else ACCENT
    )
    embed.add_field(name="Channel", value=f"<#{status.channel_id}>")
    embed.add_field(name="Time", value=f"{status.post_time:%H:%M} {status.timezone}")
    embed.add_field(
        name="Days without releases",
        value="a short note is posted" if status.post_when_empty else "nothing is posted",
    )
    if paused:
        embed.add_field(
            name="Paused",
            value=_reason(
                status.paused_reason or "",
                f"\nTo fix it: give Encore View Channel, Send Messages and "
                f"Embed Links in <#{status.channel_id}> (or pick another channel), then run "
                "`/digest channel` again.",
            ),
            inline=False,
        )
    elif status.enabled and status.next_run_at is not None:
        embed.add_field(
            name="Next post", value=_when(status.next_run_at, status.timezone), inline=False
        )
    elif not status.enabled:
        embed.add_field(
            name="Next post", value="none: `/digest channel` turns it back on", inline=False
        )
    embed.add_field(
        name="Last post",
        value=_when(status.last_posted_at, status.timezone) if status.last_posted_at else "never",
        inline=False,
    )
    if status.last_failure and status.last_failure_at:
        embed.add_field(
            name="Last failure",
            value=_reason(
                status.last_failure, f" ({discord.utils.format_dt(status.last_failure_at, 'R')})"
            ),
            inline=False,
        )
    return embed


def schedule_line(status: DigestStatus) -> str:
    if not status.enabled or status.channel_id is None:
        return (
            f"Saved: {status.post_time:%H:%M} {status.timezone}. The digest is off until "
            "`/digest channel` picks a channel."
        )
    assert status.next_run_at is not None
    return (
        f"The digest goes to <#{status.channel_id}> every day at {status.post_time:%H:%M} "
        f"{status.timezone}. Next post: {_when(status.next_run_at, status.timezone)}."
    )


def turned_on_message(status: DigestStatus) -> str:
    return "Daily digest on. " + schedule_line(status)


TURNED_OFF = "Daily digest off. `/digest channel` turns it on again, same time."
PREVIEW = "Preview (only you see it):"


def empty_days_message(*, post: bool) -> str:
    if post:
        return "On days without new releases the digest posts a short note."
    return "On days without new releases the digest posts nothing."
