"""Spotify access: the Accounts service, users' tokens, the Web API gateway (blocking
calls in threads), paging, ids, and the translation of Spotify's errors. Every Spotify quirk Encore
knows has its one home here."""

from bot.spotify.accounts import (
    SCOPE_PURPOSES,
    SCOPES,
    InvalidGrant,
    SpotifyAccounts,
    TokenGrant,
    pkce_challenge,
    pkce_pair,
)
from bot.spotify.errors import SpotifyForbidden, translate
from bot.spotify.gateway import SpotifyGateway
from bot.spotify.ids import (
    SpotifyRef,
    is_spotify_id,
    playlist_id_in_link,
    spotify_refs_in,
    track_id_in,
)
from bot.spotify.paging import PAGE_SIZE, SEARCH_MAX_OFFSET, SEARCH_PAGE_SIZE, user_pages
from bot.spotify.playlist_writer import (
    ITEMS_PER_REQUEST,
    MAX_PLAYLIST_ITEMS,
    PlaylistUnavailable,
    PlaylistWriter,
    WriteProgress,
    WrittenPlaylist,
)
from bot.spotify.tokens import (
    AUTHORIZATION_LIFETIME,
    REFRESH_MARGIN,
    Reencrypted,
    TokenCipher,
    TokenStore,
    UnreadableToken,
)

__all__ = [
    "AUTHORIZATION_LIFETIME",
    "ITEMS_PER_REQUEST",
    "MAX_PLAYLIST_ITEMS",
    "PAGE_SIZE",
    "REFRESH_MARGIN",
    "SCOPES",
    "SCOPE_PURPOSES",
    "SEARCH_MAX_OFFSET",
    "SEARCH_PAGE_SIZE",
    "InvalidGrant",
    "PlaylistUnavailable",
    "PlaylistWriter",
    "Reencrypted",
    "SpotifyAccounts",
    "SpotifyForbidden",
    "SpotifyGateway",
    "SpotifyRef",
    "TokenCipher",
    "TokenGrant",
    "TokenStore",
    "UnreadableToken",
    "WriteProgress",
    "WrittenPlaylist",
    "is_spotify_id",
    "pkce_challenge",
    "pkce_pair",
    "playlist_id_in_link",
    "spotify_refs_in",
    "track_id_in",
    "translate",
    "user_pages",
]
