"""/link, /account, /unlink and /forget-me: connecting a Spotify account and letting go of it."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.discord_setup import NO_MENTIONS
from bot.errors import NotLinked
from bot.ui.errors import report_error
from bot.ui.messages import ACCENT, reply


def _link_view(url: str) -> discord.ui.View:
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="Link Spotify", url=url, style=discord.ButtonStyle.link))
    return view


class ForgetConfirmation(discord.ui.View):
    def __init__(self, bot: EncoreBot, owner_id: int) -> None:
        super().__init__(timeout=60)
        self.bot = bot
        self.owner_id = owner_id
        self.interaction: discord.Interaction[Any] | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return interaction.user.id == self.owner_id

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await self.bot.services.links.forget_user(interaction.user.id)
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


class Account(commands.Cog):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.links = bot.services.links

    @app_commands.command(
        name="link", description="Link your Spotify account (the link comes by DM)"
    )
    async def link(self, interaction: discord.Interaction[EncoreBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        url = await self.links.create_link(interaction.user.id)
        text = (
            "Here is your personal link to connect Spotify to Encore. It works once, for you "
            "only, for 10 minutes. Do not share it."
        )
        try:
            await interaction.user.send(text, view=_link_view(url), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as error:
            # Closed DMs (403), or Discord too busy to take one more DM right now (429):
            # either way the link is the user's, so it goes in the private reply.
            why = (
                "your DMs are closed" if isinstance(error, discord.Forbidden) else "Discord is busy"
            )
            await reply(
                interaction,
                f"I could not send you a direct message ({why}), so here is your personal "
                f"link. It works once, for you only, for 10 minutes:\n{url}",
                view=_link_view(url),
            )
            return
        await reply(interaction, "I sent you a direct message with your personal link.")

    @app_commands.command(name="account", description="Show your linked Spotify account")
    async def account(self, interaction: discord.Interaction[EncoreBot]) -> None:
        view = await self.links.account(interaction.user.id)
        if view is None:
            raise NotLinked
        embed = discord.Embed(title="Your Spotify link", colour=ACCENT)
        embed.add_field(name="Account", value=discord.utils.escape_markdown(view.display_name))
        embed.add_field(name="Linked", value=discord.utils.format_dt(view.linked_at, "D"))
        status = (
            "Spotify no longer accepts it: use `/link` again"
            if view.needs_relink
            else f"Renew within {view.days_left} days ({discord.utils.format_dt(view.expires_at, 'D')})"
        )
        embed.add_field(name="Status", value=status, inline=False)
        embed.add_field(name="Permissions", value=", ".join(view.scopes) or "none", inline=False)
        await reply(interaction, embed=embed)

    @app_commands.command(name="unlink", description="Forget your Spotify tokens")
    async def unlink(self, interaction: discord.Interaction[EncoreBot]) -> None:
        if await self.links.unlink(interaction.user.id):
            await reply(
                interaction,
                "Your Spotify account is unlinked and its tokens are deleted. Your likes and "
                "queues stay; `/forget-me` deletes those too.",
            )
        else:
            await reply(interaction, "You had no Spotify account linked.")

    @app_commands.command(name="forget-me", description="Delete everything Encore stores about you")
    async def forget_me(self, interaction: discord.Interaction[EncoreBot]) -> None:
        view = ForgetConfirmation(self.bot, interaction.user.id)
        view.interaction = interaction
        await reply(
            interaction,
            "This deletes your Spotify link, tokens, likes, shuffle queues and settings. "
            "It cannot be undone.",
            view=view,
        )


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Account(bot))
