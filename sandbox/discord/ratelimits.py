"""Discord's rate limits: the global per-second limit and per-route buckets."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

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


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        self._global_log: deque[float] = deque()
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def global_retry_after(self, now: float) -> float | None:
        """Seconds to wait when the global limit is spent (else counts this request)."""
        log_ = self._global_log
        while log_ and log_[0] <= now - 1.0:
            log_.popleft()
        if len(log_) >= self.settings.global_limit_per_s:
            return max(log_[0] + 1.0 - now, 0.001)
        log_.append(now)
        return None

    def consume(
        self, route_key: str, major: str, kind: BucketKind, now: float
    ) -> tuple[dict[str, str], float | None]:
        """Uses one request of the bucket; its ``X-RateLimit-*`` headers, and retry_after if over."""
        s = self.settings
        if kind == "channel_post":
            limit, window = s.channel_limit, s.channel_window
        elif kind in ("webhook", "oauth"):
            limit, window = 50, 1.0
        else:
            limit, window = s.route_limit, s.route_window
        key = (route_key, major)
        b = self._buckets.get(key)
        if b is None or b.limit != limit or b.window != window:
            b = self._buckets[key] = Bucket(limit=limit, window=window)
        b.roll(now)
        over = None
        if s.rate_limits and b.used >= b.limit:
            over = max(b.reset_at - now, 0.001)
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
