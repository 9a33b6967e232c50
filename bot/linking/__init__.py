"""Linking a Discord user to a Spotify account: the personal link and its pages' logic, the
OAuth states, Discord's proof of identity, the account, unlinking and forgetting."""

from bot.linking.discord_identity import DiscordAccount, DiscordIdentity
from bot.linking.service import (
    LINK_LIFETIME,
    MAX_LINK_DMS,
    AccountView,
    DiscordPerson,
    LinkedAccount,
    LinkPage,
    LinkPageError,
    LinkService,
    NextStep,
    PersonalLink,
    SpotifyProfile,
)

__all__ = [
    "LINK_LIFETIME",
    "MAX_LINK_DMS",
    "AccountView",
    "DiscordAccount",
    "DiscordIdentity",
    "DiscordPerson",
    "LinkPage",
    "LinkPageError",
    "LinkService",
    "LinkedAccount",
    "NextStep",
    "PersonalLink",
    "SpotifyProfile",
]
