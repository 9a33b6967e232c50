"""How /link, /account and /forget-me look: the personal link's button, the account card with
what an older link lacks and a button to link again, and the confirmation before deleting
everything."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.linking import AccountView, PersonalLink
from bot.spotify import SCOPE_PURPOSES
from bot.ui import fit
from bot.ui.errors import report_error
from bot.ui.messages import ACCENT
from bot.ui.relink import relink_view

LINK_DM = (
    "Here is your personal link to connect Spotify to Encore. It works once, for 10 minutes, "
    "and links to your Discord account only: do not share it."
)

LINK_SENT = "I sent you a direct message with your personal link."
UNLINKED = (
    "Your Spotify account is unlinked and its tokens are deleted. Your likes and queues stay; "
    "`/forget-me` deletes those too."
)
NOTHING_TO_UNLINK = "You had no Spotify account linked."


def link_view(url: str) -> discord.ui.View:
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="Link Spotify", url=url, style=discord.ButtonStyle.link))
    return view


def link_again_in_reply(link: PersonalLink) -> str:
    """/link run again soon after: the same link, here rather than in one more DM."""
    return (
        "I already sent you this personal link by DM; here it is again. It still works once, "
        f"until {discord.utils.format_dt(link.expires_at, 't')}:\n{link.url}"
    )


RELINK_NOTE = "Press **Link again** to grant them: your likes, queues and settings stay."


def scope_list(scopes: list[str], limit: int = 1024) -> str:
    """One line per permission (each once), as many as fit in `limit`."""
    shown = [
        f"`{scope}`: {SCOPE_PURPOSES[scope]}" if scope in SCOPE_PURPOSES else f"`{scope}`"
        for scope in dict.fromkeys(scopes)
    ]
    return fit.lines(shown, limit, more=lambda left: f"and {left} more")


def link_in_reply(url: str, error: discord.HTTPException) -> str:
    """The personal link in the private reply, when the DM could not be sent."""
    # Closed DMs (403), or Discord too busy to take one more DM right now (429): either
    # way the link is the user's, so it goes in the private reply.
    why = "your DMs are closed" if isinstance(error, discord.Forbidden) else "Discord is busy"
    return (
        f"I could not send you a direct message ({why}), so here is your personal "
        f"link. It works once, for 10 minutes, for your Discord account only:\n{url}"
    )


def account_embed(view: AccountView) -> discord.Embed:
    embed = discord.Embed(title="Your Spotify link", colour=ACCENT)
    embed.add_field(name="Account", value=fit.name(view.display_name, 1024) or "(no name)")
    embed.add_field(name="Linked", value=discord.utils.format_dt(view.linked_at, "D"))
    if view.unreadable:
        status = (
            "Encore can no longer read the access it stored (this bot's encryption key was "
            "changed): link again"
        )
    elif view.needs_relink:
        status = "Spotify no longer accepts it: use `/link` again"
    else:
        status = (
            f"Renew within {view.days_left} days ({discord.utils.format_dt(view.expires_at, 'D')})"
        )
    embed.add_field(name="Status", value=status, inline=False)
    granted = fit.lines(
        list(dict.fromkeys(view.scopes)), 1024, more=lambda left: f"and {left} more", sep=", "
    )
    embed.add_field(name="Permissions", value=granted or "none", inline=False)
    if view.missing_scopes:
        embed.add_field(
            name="Not granted yet (newer features need them)",
            value=scope_list(view.missing_scopes, 1024 - len(RELINK_NOTE) - 1) + "\n" + RELINK_NOTE,
            inline=False,
        )
    return embed


def account_view(view: AccountView) -> discord.ui.View | None:
    """Link again, when the link lacks permissions or Spotify no longer accepts it."""
    return relink_view() if view.missing_scopes or view.needs_relink else None


FORGET_WARNING = (
    "This deletes your Spotify link, tokens, likes, shuffle queues and settings. "
    "It cannot be undone."
)


class ForgetConfirmation(discord.ui.View):
    """Delete everything / Cancel, for the person who asked only; `forget` does the deleting."""

    def __init__(self, owner_id: int, forget: Callable[[int], Awaitable[object]]) -> None:
        super().__init__(timeout=60)
        self.owner_id = owner_id
        self._forget = forget
        self.interaction: discord.Interaction[Any] | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return interaction.user.id == self.owner_id

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await self._forget(interaction.user.id)
        await interaction.response.edit_message(
            content="Done: Encore has deleted your link, tokens, likes, queues and settings.",
            view=None,
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)

    async def on_timeout(self) -> None:
        if self.interaction is not None:
            try:
                await self.interaction.edit_original_response(
                    content="Nothing was deleted (the confirmation expired).", view=None
                )
            except discord.HTTPException:
                pass

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report_error(interaction, error)
