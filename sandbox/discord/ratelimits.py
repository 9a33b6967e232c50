"""Discord's rate limits: the global per-second limit and per-route buckets.

Both are per credential, as at Discord: the global 50 requests/s belongs to a bot token
(all its connections and processes together), a user's bearer token has its own, and a
request with no token is counted against its IP address. Route buckets are per credential
too, so 100 people's bearer tokens do not share one `/users/@me` bucket.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Literal

from .settings import Settings

BucketKind = Literal["route", "channel_post", "webhook", "oauth"]


@dataclass
class Bucket:
    limit: int
    window: float
    reset_at: float = 0.0
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = now + self.window


def credential_of(authorization: str, remote: str | None) -> str:
    """Whose limits a request uses: its token's kind and a hash (never the token itself)."""
    if authorization.startswith("Bot "):
        kind = "bot"
    elif authorization.startswith("Bearer "):
        kind = "bearer"
    else:
        return f"ip:{remote or 'unknown'}"
    return f"{kind}:{hashlib.sha1(authorization.encode()).hexdigest()[:12]}"


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        self._global_logs: dict[str, deque[float]] = {}
        self._buckets: dict[tuple[str, str, str], Bucket] = {}
        self.global_429s: Counter[str] = Counter()  # credential -> global 429s answered
        self.route_429s: Counter[str] = Counter()

    def global_retry_after(self, now: float, credential: str = "") -> float | None:
        """Seconds to wait when `credential`'s global limit is spent (else counts this request)."""
        log_ = self._global_logs.setdefault(credential, deque())
        while log_ and log_[0] <= now - 1.0:
            log_.popleft()
        if len(log_) >= self.settings.global_limit_per_s:
            self.global_429s[credential] += 1
            return max(log_[0] + 1.0 - now, 0.001)
        log_.append(now)
        return None

    def consume(
        self, route_key: str, major: str, kind: BucketKind, now: float, credential: str = ""
    ) -> tuple[dict[str, str], float | None]:
        """Uses one request of the bucket; its ``X-RateLimit-*`` headers, and retry_after if over."""
        s = self.settings
        if kind == "channel_post":
            limit, window = s.channel_limit, s.channel_window
        elif kind in ("webhook", "oauth"):
            limit, window = 50, 1.0
        else:
            limit, window = s.route_limit, s.route_window
        key = (credential, route_key, major)
        b = self._buckets.get(key)
        if b is None or b.limit != limit or b.window != window:
            b = self._buckets[key] = Bucket(limit=limit, window=window)
        b.roll(now)
        over = None
        if s.rate_limits and b.used >= b.limit:
            over = max(b.reset_at - now, 0.001)
            self.route_429s[credential] += 1
        else:
            b.used += 1
        reset_after = max(b.reset_at - now, 0.0)
        headers = {
            "X-RateLimit-Limit": str(b.limit),
            "X-RateLimit-Remaining": str(max(b.limit - b.used, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(route_key.encode()).hexdigest()[:16],
        }
        return headers, over

    def view(self) -> dict[str, Any]:
        """What ``GET /_sandbox/ratelimits`` shows: 429s answered, per credential kind."""
        by_kind: Counter[str] = Counter()
        for credential, count in self.global_429s.items():
            by_kind[credential.split(":", 1)[0]] += count
        return {
            "global_limit_per_s": self.settings.global_limit_per_s,
            "global_429s": sum(self.global_429s.values()),
            "global_429s_by_kind": dict(by_kind),
            "route_429s": sum(self.route_429s.values()),
        }
