"""/link, /account, /unlink and /forget-me: connecting a Spotify account and letting go of it."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.discord_setup import NO_MENTIONS
from bot.errors import NotLinked
from bot.linking import DiscordPerson
from bot.ui.account import (
    FORGET_WARNING,
    LINK_DM,
    LINK_SENT,
    NOTHING_TO_UNLINK,
    UNLINKED,
    ForgetConfirmation,
    account_embed,
    account_view,
    link_again_in_reply,
    link_in_reply,
    link_view,
)
from bot.ui.installs import personal
from bot.ui.messages import acknowledge, reply
from bot.ui.relink import RelinkButton


class Account(commands.Cog):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.links = bot.services.links

    @app_commands.command(
        name="link", description="Link your Spotify account (the link comes by DM)"
    )
    @personal
    async def link(self, interaction: discord.Interaction[EncoreBot]) -> None:
        await self.send_personal_link(interaction)

    @commands.Cog.listener()
    async def on_relink_pressed(self, interaction: discord.Interaction[EncoreBot]) -> None:
        await self.send_personal_link(interaction)

    async def send_personal_link(self, interaction: discord.Interaction[EncoreBot]) -> None:
        """/link and Link again: the personal link by DM (in the reply when DMs are closed,
        or when it was DMed often enough already)."""
        await acknowledge(interaction)  # a DM to send first: deferred at once
        user = interaction.user
        link = await self.links.request_link(
            DiscordPerson(user.id, user.name, user.display_name, user.display_avatar.url)
        )
        if not link.send_dm:
            await reply(interaction, link_again_in_reply(link), view=link_view(link.url))
            return
        try:
            await user.send(LINK_DM, view=link_view(link.url), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as error:
            await reply(interaction, link_in_reply(link.url, error), view=link_view(link.url))
            return
        await reply(interaction, LINK_SENT)

    @app_commands.command(name="account", description="Show your linked Spotify account")
    @personal
    async def account(self, interaction: discord.Interaction[EncoreBot]) -> None:
        found = await self.links.account(interaction.user.id)
        if found is None:
            raise NotLinked
        buttons = account_view(found)
        if buttons is None:
            await reply(interaction, embed=account_embed(found))
        else:
            await reply(interaction, embed=account_embed(found), view=buttons)

    @app_commands.command(name="unlink", description="Forget your Spotify tokens")
    @personal
    async def unlink(self, interaction: discord.Interaction[EncoreBot]) -> None:
        unlinked = await self.links.unlink(interaction.user.id)
        await reply(interaction, UNLINKED if unlinked else NOTHING_TO_UNLINK)

    @app_commands.command(name="forget-me", description="Delete everything Encore stores about you")
    @personal
    async def forget_me(self, interaction: discord.Interaction[EncoreBot]) -> None:
        view = ForgetConfirmation(interaction.user.id, self.links.forget_user)
        view.interaction = interaction
        await reply(interaction, FORGET_WARNING, view=view)


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Account(bot))
    bot.add_dynamic_items(RelinkButton)  # pressed on messages sent before a restart, too
