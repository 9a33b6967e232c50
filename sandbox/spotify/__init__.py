"""Spotify emulator for Encore's sandbox: accounts service, Web API subset, control API."""

from .control import SpotifyControl, SpotifyControlError
from .emulator import SpotifyEmulator, serve

__all__ = ["SpotifyControl", "SpotifyControlError", "SpotifyEmulator", "serve"]
