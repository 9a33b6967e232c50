"""Encore: a self-hostable Discord bot for Spotify."""

__version__ = "0.1.0"
