"""Where each command can be used: every command says so explicitly (a test reads the
synced commands).

Personal commands work wherever the member is: in servers that invited Encore (guild
install), and through a user install in any server, group DM or DM (answers there are
ephemeral, which is how Encore answers personal commands anyway). Server commands stay in
servers that invited the bot.
"""

from __future__ import annotations

from typing import TypeVar

from discord import app_commands

T = TypeVar("T")

ANYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
BOTH_INSTALLS = app_commands.AppInstallationType(guild=True, user=True)
SERVERS = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
SERVER_INSTALL = app_commands.AppInstallationType(guild=True, user=False)


def personal(command: T) -> T:
    """A command about the member themself: usable anywhere, by either install."""
    command = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)
    return app_commands.allowed_installs(guilds=True, users=True)(command)


def server_only(command: T) -> T:
    """A command about a server: only in servers that invited the bot."""
    command = app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)(command)
    return app_commands.allowed_installs(guilds=True, users=False)(command)
