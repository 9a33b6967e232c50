"""Discord emulator: the real discord.py client runs against it (see README.md)."""

from sandbox.control import ControlError

from .control import DiscordControl
from .emulator import DiscordEmulator, serve

__all__ = ["ControlError", "DiscordControl", "DiscordEmulator", "serve"]
