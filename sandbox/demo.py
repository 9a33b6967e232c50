"""`encore demo`: the whole bot against the sandbox, narrated as a readable transcript.

It starts a temporary embedded PostgreSQL (or uses the database given with
`--database-url`; never DATABASE_URL, which names the owner's real database), both emulators
and the real bot with all roles, then plays every scenario in `sandbox/scenarios/`. It exits 0
only if every step got the answer it expected, and removes what it created in temporary
folders.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import pkgutil
import shutil
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import safe_database_url
from bot.logs import configure
from db.engine import stop_embedded_postgres
from sandbox.harness import MANAGE_GUILD, Reply, Sandbox

WIDTH = 110  # the transcript's columns; longer lines wrap at a space


def _button_text(button: dict[str, Any]) -> str:
    emoji = (button.get("emoji") or {}).get("name") or ""
    return " ".join(part for part in (emoji, str(button.get("label") or "")) if part)


@dataclass
class Demo:
    sandbox: Sandbox
    quiet: bool = False
    people: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    choices: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    out: Any = sys.stdout

    @property
    def admin(self) -> int:
        return self.people["admin"]

    def say(self, line: str = "") -> None:
        if not self.quiet:
            print(line, file=self.out, flush=True)

    def heading(self, title: str) -> None:
        self.say()
        self.say(f"=== {title} " + "=" * max(3, 66 - len(title)))

    def show(
        self, who: str, action: str, reply: Reply | None = None, text: str | None = None
    ) -> None:
        """One step of the transcript: who did what, and the answer as they read it. Long
        lines wrap at a space, as Discord's client wraps them: nothing is cut."""
        self.say(f"> {who} {action}")
        body = text if text is not None else (reply.seen if reply else "")
        if reply is not None and reply.ephemeral:
            self.say("  (only they can see this)")
        for line in (body or "(no answer)").splitlines():
            wrapped = textwrap.wrap(
                line,
                WIDTH,
                initial_indent="  ",
                subsequent_indent="    ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            for part in wrapped or [""]:
                self.say(part.rstrip())

    def name_of(self, user: int) -> str:
        return next((name for name, uid in self.people.items() if uid == user), str(user))

    def shown_option(self, value: Any) -> str:
        """An option as Discord's client shows it once sent: a member as @name, a channel as
        #name, a value picked from suggestions as the suggestion's name."""
        text = str(value)
        if text in self.choices:
            return self.choices[text]
        if text.isdigit() and len(text) >= 15:
            for kind, sign in (("user", "@"), ("channel", "#")):
                name = self.sandbox.name_of(kind, int(text))
                if name is not None:
                    return sign + name
        return text

    async def command(
        self, user: int, name: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> Reply:
        if user == self.people.get("admin"):
            kw.setdefault("permissions", MANAGE_GUILD | (1 << 10) | (1 << 11) | (1 << 31))
        reply = await self.sandbox.slash(user, name, options, **kw)
        shown = " ".join(f"{k}:{self.shown_option(v)}" for k, v in (options or {}).items())
        self.show(self.name_of(user), f"/{name} {shown}".rstrip(), reply)
        return reply

    async def click(self, user: int, reply: Reply, label: str) -> Reply:
        button = reply.button(label)
        answer = await self.sandbox.click(user, str(button["custom_id"]), reply.message_id)
        self.show(self.name_of(user), f"presses [{_button_text(button)}]", answer)
        return answer

    async def press(self, user: int, message: dict[str, Any], label: str, where: str) -> Reply:
        """Press a button on a message that is not a reply (a digest post, an old message)."""
        for row in message.get("components") or []:
            for button in row.get("components", []):
                if button.get("label") == label:
                    answer = await self.sandbox.click(
                        user, str(button["custom_id"]), int(message["id"])
                    )
                    self.show(
                        self.name_of(user), f"presses [{_button_text(button)}] {where}", answer
                    )
                    return answer
        raise LookupError(label)

    async def choose(self, user: int, reply: Reply, label: str) -> Reply:
        """Open the reply's select (its options shown) and pick the one labelled `label`."""
        shown = "; ".join(reply.options[:8]) + (" …" if len(reply.options) > 8 else "")
        answer = await self.sandbox.choose(user, reply, label)
        self.show(self.name_of(user), f"opens the list ({shown}) and picks “{label}”", answer)
        return answer

    async def suggestions(
        self, user: int, name: str, focused: str, options: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """What Discord suggests as `user` types; each choice's name is remembered, so a
        command sent with its value shows the name, as Discord's client does."""
        reply = await self.sandbox.autocomplete(user, name, focused, options)
        for choice in reply.choices:
            self.choices[str(choice["value"])] = str(choice["name"])
        names = [str(choice["name"]) for choice in reply.choices]
        self.show(
            self.name_of(user),
            f"types /{name} {focused}:{options.get(focused, '')!s}…",
            text="suggestions: " + ("; ".join(names[:5]) or "(none)"),
        )
        return list(reply.choices)

    async def autocomplete(
        self, user: int, name: str, focused: str, options: dict[str, Any]
    ) -> list[str]:
        return [str(c["name"]) for c in await self.suggestions(user, name, focused, options)]

    async def settled(self, reply: Reply, *, timeout: float = 30.0) -> Reply:
        """A long command's answer once it stopped reporting progress ("…")."""
        deadline = time.monotonic() + timeout
        while True:
            record = await self.sandbox.discord.interaction(reply.record["id"])
            messages = record.get("followups") or [record.get("original") or {}]
            last = dict(messages[-1])
            text = str(last.get("content") or "")
            if (text and not text.endswith("…")) or time.monotonic() > deadline:
                return Reply(record, last, names=self.sandbox.name_of)
            await asyncio.sleep(0.05)

    async def finished(self, who: str, reply: Reply) -> Reply:
        """A long command's final answer, shown when it differs from the first one."""
        done = await self.settled(reply)
        if done.text != reply.text:
            self.show(who, "waits: the message is edited to", done)
        return done

    async def get(self, path: str, **headers: str) -> tuple[int, str, Mapping[str, str]]:
        """An HTTP GET on Encore's web role: status, body and headers."""
        url = self.sandbox.settings.public_url.rstrip("/") + path
        async with self.sandbox.http.get(url, headers=headers) as response:
            return response.status, await response.text(), response.headers.copy()

    @contextlib.contextmanager
    def log_lines(self, name: str, level: int = logging.WARNING) -> Iterator[list[str]]:
        """What logger `name` says meanwhile, kept for the transcript (not printed, and
        without tracebacks): `demo.show("the log", "says", text="\n".join(lines))`."""
        lines: list[str] = []

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")

        logger, handler = logging.getLogger(name), Keep(level)
        logger.addHandler(handler)
        propagate, logger.propagate = logger.propagate, False
        try:
            yield lines
        finally:
            logger.removeHandler(handler)
            logger.propagate = propagate

    def expect(
        self, condition: bool | Reply | str, what: str, *, contains: str | None = None
    ) -> bool:
        """Record one checked step; `contains` searches a reply's text (case-insensitive)."""
        self.steps += 1
        if isinstance(condition, Reply):
            text = condition.text
            ok = condition.message is not None and (
                contains is None or contains.lower() in text.lower()
            )
        elif isinstance(condition, str):
            ok = contains is None or contains.lower() in condition.lower()
        else:
            ok = bool(condition)
        self.say(f"  {'✓' if ok else '✗'} {what}")
        if not ok:
            self.failures.append(what)
        return ok


def scenarios() -> list[Any]:
    import sandbox.scenarios as package

    names = sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")
    )
    return [importlib.import_module(f"sandbox.scenarios.{name}") for name in names]


async def play(sandbox: Sandbox, *, quiet: bool = False, out: Any = sys.stdout) -> Demo:
    demo = Demo(sandbox, quiet=quiet, out=out)
    for name in ("alice", "bob", "carol"):
        demo.people[name] = await sandbox.user(name)
    demo.people["admin"] = await sandbox.user("admin")
    for module in scenarios():
        demo.heading(module.TITLE)
        try:
            await module.run(demo)
        except Exception:
            demo.failures.append(f"{module.TITLE}: crashed")
            demo.say(traceback.format_exc())
    return demo


def clean_environment() -> None:
    """The demo configures itself: no setting from the environment or .env reaches it."""
    from bot.config import Settings

    for name in Settings.model_fields:
        os.environ.pop(name.upper(), None)


async def _main(quiet: bool, database_url: str | None) -> int:
    configure("WARNING")
    started = time.monotonic()
    clean_environment()
    data_dir = Path(tempfile.mkdtemp(prefix="encore-demo-"))
    print("Encore demo: local Discord and Spotify emulators, a real PostgreSQL, the real bot.")
    print(
        f"Database: {safe_database_url(database_url)} (--database-url)"
        if database_url
        else f"Database: a temporary embedded PostgreSQL in {data_dir} (removed at the end)"
    )
    try:
        async with Sandbox(
            database_url,
            data_dir=str(data_dir),
            scheduler=True,
            settings={"_env_file": None, "database_url": database_url},
        ) as sandbox:
            demo = await play(sandbox, quiet=quiet)
    finally:
        stop_embedded_postgres(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
    elapsed = time.monotonic() - started
    print()
    if demo.failures:
        print(f"Demo FAILED: {len(demo.failures)} of {demo.steps} steps ({elapsed:.1f} s):")
        for failure in demo.failures:
            print(f"  ✗ {failure}")
        return 1
    print(f"Demo passed: {demo.steps} steps checked in {elapsed:.1f} s.")
    return 0


def main(*, quiet: bool = False, database_url: str | None = None) -> int:
    """`encore demo`: a temporary embedded database unless `database_url` is given."""
    return asyncio.run(_main(quiet, database_url))


if __name__ == "__main__":
    sys.exit(main())
