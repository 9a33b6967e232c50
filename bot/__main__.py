"""The `encore` command: run a role, migrate, sync commands, print the invite URL, or demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from bot.config import ConfigError, Role, load_settings
from bot.keys import generate_key
from bot.logs import configure
from bot.problems import OperatorError

# What the bot needs in a channel: see it, post, embed, link buttons need nothing more.
INVITE_PERMISSIONS = 0x400 | 0x800 | 0x4000  # View Channel, Send Messages, Embed Links


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop for the long-running roles where it is installed (not on Windows):
    its sockets, timers and callbacks cost a fraction of the CPU of asyncio's own loop on every
    Discord, Spotify and PostgreSQL round trip. None: asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


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
    invite = commands.add_parser(
        "invite-url", help="print the links that add Encore to a server or to a member's account"
    )
    invite.add_argument(
        "--application-id",
        type=int,
        help="the Application ID from the developer portal (then Discord is not asked)",
    )
    commands.add_parser(
        "doctor", help="check this deployment: settings, database, Discord, Spotify"
    )
    commands.add_parser("generate-key", help="print a new key for ENCRYPTION_KEYS")
    demo = commands.add_parser("demo", help="run everything against the local sandbox and narrate")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.add_argument(
        "--database-url",
        help="use this PostgreSQL database (its rows are added to) instead of a temporary "
        "embedded one; DATABASE_URL from the environment or .env is never used",
    )
    commands.add_parser(
        "reencrypt", help="re-encrypt stored tokens with the first ENCRYPTION_KEYS key"
    )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "demo":
        from sandbox.demo import main as demo_main

        return int(demo_main(quiet=args.quiet, database_url=args.database_url))
    if args.command == "generate-key":
        print(generate_key())
        return 0
    if args.command == "doctor":
        from bot.doctor import main as doctor_main

        return doctor_main()
    if args.command == "invite-url" and args.application_id:
        print(invite_links(args.application_id))
        return 0
    role = {
        "run": Role.RUN,
        "gateway": Role.GATEWAY,
        "web": Role.WEB,
        "worker": Role.WORKER,
        "migrate": Role.MIGRATE,
        "sync-commands": Role.SYNC_COMMANDS,
        "invite-url": Role.SYNC_COMMANDS,
        "reencrypt": Role.REENCRYPT,
    }[args.command]
    try:
        settings = load_settings(role)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return 2
    one_off = role not in {Role.RUN, Role.GATEWAY, Role.WEB, Role.WORKER}
    # A one-off command prints its result; its log says only what went wrong.
    level = "WARNING" if one_off and settings.log_level == "INFO" else None
    configure(level or settings.log_level, settings.log_format)

    from bot import runtime

    try:
        if args.command == "invite-url":
            print(invite_links(asyncio.run(runtime.application_id(settings))))
        elif args.command == "migrate":
            result = asyncio.run(runtime.migrate(settings))
            print(
                f"The database schema was upgraded from {result.before or 'empty'} to "
                f"{result.after}."
                if result.changed
                else f"The database schema is up to date (revision {result.after})."
            )
        elif args.command == "sync-commands":
            names = asyncio.run(runtime.sync_commands(settings, args.guild))
            where = (
                f"server {args.guild}" if args.guild else "every server (may take up to an hour)"
            )
            print(f"Registered {len(names)} commands for {where}: {', '.join(sorted(names))}")
        elif args.command == "reencrypt":
            done = asyncio.run(runtime.reencrypt(settings))
            print(f"Re-encrypted the tokens of {done.rotated} linked accounts with the first key.")
            if done.unreadable:
                print(
                    f"{done.unreadable} linked accounts have tokens that no key in "
                    "ENCRYPTION_KEYS can decrypt: they were encrypted with a key that is no "
                    "longer listed. Put that key back in ENCRYPTION_KEYS (after the new one) "
                    "and run `encore reencrypt` again; without it those members must /link "
                    "again (Encore asks them to).",
                    file=sys.stderr,
                )
                return 1
        else:
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                runner.run(runtime.run_roles(settings, role))
    except OperatorError as error:
        if args.command == "invite-url" and error.status != 2:
            error.todo += (
                "; or give the id yourself: `encore invite-url --application-id ID` (the "
                "Application ID on the developer portal's General Information page)"
            )
        print(error.render(), file=sys.stderr)
        return error.status
    except KeyboardInterrupt:
        return 130
    return 0


def invite_url(application_id: int) -> str:
    """The link that adds the bot to a server with exactly the permissions it needs."""
    return (
        "https://discord.com/oauth2/authorize?client_id="
        f"{application_id}&integration_type=0&scope=bot+applications.commands"
        f"&permissions={INVITE_PERMISSIONS}"
    )


def user_install_url(application_id: int) -> str:
    """The link that adds Encore to a person's own account (a user install): its personal
    commands then work in any server, group DM or DM, with no bot in them."""
    return (
        "https://discord.com/oauth2/authorize?client_id="
        f"{application_id}&integration_type=1&scope=applications.commands"
    )


def invite_links(application_id: int) -> str:
    return (
        f"Server install (a server's admin adds the bot):\n  {invite_url(application_id)}\n"
        "User install (a member adds Encore to their account, for /np, /recent, /top... "
        "anywhere; enable User Install under Installation in the developer portal):\n"
        f"  {user_install_url(application_id)}"
    )


if __name__ == "__main__":
    sys.exit(main())
