"""How the /shuffle commands look: queue progress, dealt tracks, autocomplete choices."""

from __future__ import annotations

from discord import app_commands

from bot.shuffle import LIKED_NAME, NothingToShuffle, SourceChoice
from bot.ui.names import shown


def nothing_to_shuffle(error: NothingToShuffle) -> str:
    if error.removed:
        what = "Your liked songs" if error.liked else f"The playlist “{shown(error.name)}”"
        return (
            f"{what} is empty now, so its shuffle queue was removed. Add some tracks on "
            "Spotify and `/shuffle start` it again."
        )
    if error.liked:
        return "You have no liked songs on Spotify yet, so there is nothing to shuffle."
    return f"The playlist “{shown(error.name)}” is empty, so there is nothing to shuffle."


def source_choice(choice: SourceChoice) -> app_commands.Choice[str]:
    """As /playlist labels them ("Road Trip · 37 tracks"), plus the owner when it is not
    the user: Spotify will not let us read someone else's playlist unless it is shared."""
    playlist = choice.playlist
    if playlist is None:
        return app_commands.Choice(name=LIKED_NAME, value=choice.value)
    details = [f"{playlist.total:,} track{'s' if playlist.total != 1 else ''}"]
    if choice.others:
        details.append(f"by {playlist.owner_name[:30]}")
    tail = " · " + " · ".join(details)
    name = playlist.name
    if len(name) + len(tail) > 100:  # Discord's limit for a choice's name
        name = name[: 99 - len(tail)].rstrip() + "…"
    return app_commands.Choice(name=name + tail, value=choice.value)
