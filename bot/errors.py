"""Errors a user can cause or meet, each with the one message they are shown.

The one error handler (`bot.ui.errors.report_error`) maps every `EncoreError` to an
ephemeral reply with its `user_message`; anything else is an incident, logged with an id.
"""

from __future__ import annotations


class EncoreError(Exception):
    """Base of the errors we expect and explain."""

    user_message = "Something went wrong."

    def __init__(self, user_message: str | None = None) -> None:
        if user_message is not None:
            self.user_message = user_message
        super().__init__(self.user_message)


class NotLinked(EncoreError):
    user_message = "You have not linked a Spotify account yet. Use `/link` to connect one."


class NeedsRelink(EncoreError):
    user_message = (
        "Spotify no longer accepts Encore's access to your account (it expired or was "
        "revoked). Use `/link` to connect it again."
    )


class SpotifyBusy(EncoreError):
    """Spotify answered 429: the caller decides whether to wait (jobs) or tell (commands)."""

    def __init__(self, retry_after: float, *, quota: bool = False) -> None:
        self.retry_after = retry_after
        self.quota = quota
        seconds = max(1, round(retry_after))
        if quota:
            message = (
                "Encore has used up its Spotify quota for now. Try again later "
                f"(Spotify asks to wait {_duration(seconds)})."
            )
        else:
            message = f"Spotify is busy, try again in {_duration(seconds)}."
        super().__init__(message)


class SpotifyUnavailable(EncoreError):
    user_message = "Spotify is not answering right now. Please try again in a minute."


class SpotifyAccessDenied(EncoreError):
    """403 on every call: the app is in development mode and the user is not allowlisted."""

    user_message = (
        "Spotify refused access to your account. This Encore runs as a Spotify app in "
        "development mode, which serves at most 5 users that its owner added to the app's "
        "allowlist in the Spotify developer dashboard. Ask the bot's owner to add you."
    )


class TokensUnreadable(NeedsRelink):
    """No key in ENCRYPTION_KEYS decrypts the stored tokens: the admin changed the keys."""

    user_message = (
        "Encore can no longer read the Spotify access it stored for you (this bot's "
        "encryption key was changed). Use `/link` to connect again; your likes and queues "
        "are kept."
    )


class LinkRemoved(EncoreError):
    """The link this work started under was removed meanwhile (/unlink, /forget-me, or the
    account was linked to someone else): it stops and writes nothing more."""

    user_message = (
        "Your Spotify link was removed while this was running, so it stopped and stored "
        "nothing more."
    )


class MissingScope(EncoreError):
    """The link lacks permissions a feature needs; `missing` names them (empty when Spotify
    refused a call for a scope without saying which). The UI offers a re-link button."""

    user_message = (
        "Encore was not granted that permission on Spotify. Use `/link` again to grant it."
    )

    def __init__(self, missing: tuple[str, ...] = ()) -> None:
        self.missing = tuple(sorted(missing))
        message = None
        if self.missing:
            message = (
                "Your Spotify link does not let Encore do this yet: it lacks "
                f"{', '.join(f'`{scope}`' for scope in self.missing)}. Link again (the "
                "button, or `/link`) to grant it; your likes, queues and settings are kept."
            )
        super().__init__(message)


class PlaylistNotReadable(EncoreError):
    user_message = (
        "Spotify does not let Encore read that playlist: only playlists you own or "
        "collaborate on can be read."
    )


class NotFound(EncoreError):
    user_message = "Spotify has nothing under that name or link."


class PremiumRequired(EncoreError):
    user_message = "Adding to your playback queue needs Spotify Premium."


class NoActiveDevice(EncoreError):
    user_message = (
        "Spotify has no active device for you: start playing on a device, then try again."
    )


class BadInput(EncoreError):
    """A value the user typed that we cannot use; the message says why."""


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600)} h"
