"""The `encore` command: run a role, migrate, sync commands, print the invite URL, or demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from bot.config import ConfigError, Role, Settings, load_settings
from bot.logs import configure

# What the bot needs in a channel: see it, post, embed, link buttons need nothing more.
INVITE_PERMISSIONS = 0x400 | 0x800 | 0x4000  # View Channel, Send Messages, Embed Links


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="encore", description="Encore: a self-hostable Discord bot for Spotify."
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("run", help="all roles in one process (gateway, web, worker)")
    commands.add_parser("gateway", help="the Discord gateway: slash commands and buttons")
    commands.add_parser("web", help="the web server: /link, /callback, /health, /metrics, /api")
    commands.add_parser("worker", help="scheduled jobs: releases, digests, reminders, DMs")
    commands.add_parser("migrate", help="upgrade the database schema to the latest version")
    sync = commands.add_parser("sync-commands", help="register the slash commands with Discord")
    sync.add_argument(
        "--guild", type=int, help="register for one server only (instant, for testing)"
    )
    commands.add_parser("invite-url", help="print the link that invites the bot to a server")
    demo = commands.add_parser("demo", help="run everything against the local sandbox and narrate")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    commands.add_parser(
        "reencrypt", help="re-encrypt stored tokens with the first ENCRYPTION_KEYS key"
    )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "demo":
        from sandbox.demo import main as demo_main

        return int(demo_main(quiet=args.quiet))
    role = {
        "run": Role.RUN,
        "gateway": Role.GATEWAY,
        "web": Role.WEB,
        "worker": Role.WORKER,
        "migrate": Role.MIGRATE,
        "sync-commands": Role.SYNC_COMMANDS,
        "invite-url": Role.SYNC_COMMANDS,
        "reencrypt": Role.MIGRATE,
    }[args.command]
    try:
        settings = load_settings(role)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return 2
    configure(settings.log_level, settings.log_format)

    from bot import runtime

    try:
        return _run(args, settings, role, runtime)
    except ConfigError as error:  # found while starting (an unreadable key file...)
        print(error.render(), file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings, role: Role, runtime: Any) -> int:
    if args.command == "invite-url":
        print(invite_url(asyncio.run(runtime.application_id(settings))))
    elif args.command == "migrate":
        asyncio.run(runtime.migrate(settings))
        print("The database schema is up to date.")
    elif args.command == "sync-commands":
        names = asyncio.run(runtime.sync_commands(settings, args.guild))
        where = f"server {args.guild}" if args.guild else "every server (may take up to an hour)"
        print(f"Registered {len(names)} commands for {where}: {', '.join(sorted(names))}")
    elif args.command == "reencrypt":
        done = asyncio.run(runtime.reencrypt(settings))
        print(f"Re-encrypted the tokens of {done.rotated} linked accounts with the first key.")
        if done.unreadable:
            print(
                f"{done.unreadable} linked accounts have tokens that no key in ENCRYPTION_KEYS "
                "can decrypt: they were encrypted with a key that is no longer listed. Put that "
                "key back in ENCRYPTION_KEYS (after the new one) and run `encore reencrypt` "
                "again; without it those members must /link again (Encore asks them to).",
                file=sys.stderr,
            )
            return 1
    else:
        asyncio.run(runtime.run_roles(settings, role))
    return 0


def invite_url(application_id: int) -> str:
    """The link that adds the bot to a server with exactly the permissions it needs."""
    return (
        "https://discord.com/oauth2/authorize?client_id="
        f"{application_id}&scope=bot+applications.commands&permissions={INVITE_PERMISSIONS}"
    )


if __name__ == "__main__":
    sys.exit(main())
