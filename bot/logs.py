"""Logging set-up: text or JSON lines, with secrets scrubbed from every record."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

# No secret reaches a log line, whatever logged it and at whatever level: OAuth codes and
# states, PKCE verifiers, access and refresh tokens, interaction tokens (they post as the bot
# for 15 minutes), personal-link nonces, Fernet ciphertexts, and every configured secret.
_NAMED = re.compile(
    r"(?i)((?:bearer|basic|bot)\s+|"
    r"[\w-]*(?:token|secret|code|state|verifier|challenge|password|nonce)s?[\"']?\s*[=:]\s*[\"']?)"
    r"[A-Za-z0-9._~+/=%-]{6,}"
)
# Secrets that travel in URL paths: interaction callbacks and webhooks carry the
# interaction token, personal links their nonce.
_IN_PATHS = re.compile(r"(/(?:interactions|webhooks)/[0-9]+/|/link/)[A-Za-z0-9._~%-]{8,}")
_CIPHERTEXT = re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}")
_hidden: tuple[str, ...] = ()


def hide(*values: str) -> None:
    """Blank these exact values out of every log line from now on (configured secrets)."""
    global _hidden
    _hidden = tuple(sorted({*_hidden, *(value for value in values if len(value) >= 6)}, key=len))[
        ::-1
    ]


def scrub(text: str) -> str:
    for value in _hidden:
        if value in text:
            text = text.replace(value, "[redacted]")
    text = _IN_PATHS.sub(lambda match: f"{match.group(1)}[redacted]", text)
    text = _CIPHERTEXT.sub("[redacted]", text)
    return _NAMED.sub(lambda match: f"{match.group(1)}[redacted]", text)


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("sqlalchemy.engine") and str(record.msg).startswith("Row"):
            # SQLAlchemy's DEBUG echo of result rows: tokens, nonces. Parameters are hidden
            # by the engine (hide_parameters); rows have no such switch.
            record.msg, record.args = "Row [not logged]", None
        message = record.getMessage()
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class QuietVoiceFilter(logging.Filter):
    """Encore has no voice features: discord.py's "PyNaCl is not installed" is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


# Network trouble a library retries by itself: one line says it, the traceback is for DEBUG.
_TRANSIENT = (OSError, TimeoutError)


class LibraryTracebackFilter(logging.Filter):
    """discord.py logs a full traceback each time it retries a connection (every 5 s while
    Discord is unreachable); an operator needs one line naming the error."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("bot.") or not record.exc_info:
            return True
        error = record.exc_info[1]
        if isinstance(error, _TRANSIENT) or type(error).__module__.startswith(
            ("aiohttp", "discord")
        ):
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                return True
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LibraryTracebackFilter())
    handler.addFilter(ScrubFilter())
    handler.addFilter(QuietVoiceFilter())
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("discord.gateway", "discord.client", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    # Our own lines say what matters (schema revision, database, listening address);
    # alembic's plugin and "Context impl" lines and pgserver's initdb output are noise.
    for library in ("alembic", "pgserver"):
        logging.getLogger(library).setLevel(max(logging.WARNING, root.level))
