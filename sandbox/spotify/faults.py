"""Faults a test injects: errors, 429s with ``Retry-After``, quota answers, slow answers."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .errors import api_error

_DEFAULT_MESSAGES = {
    500: "Server error",
    502: "Bad gateway",
    503: "Service unavailable",
}


@dataclass
class Fault:
    id: int
    path: re.Pattern[str]
    method: str | None
    status: int | None
    retry_after: int | None
    reason: str | None
    delay: float
    times: int | None
    grant_type: str | None
    message: str | None
    # A raw answer instead of Spotify's error shape: an HTML page from a proxy in front of
    # Spotify, or a 200 whose body is not what the endpoint documents.
    body: str | None = None
    content_type: str | None = None
    hits: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path.pattern,
            "method": self.method,
            "status": self.status,
            "retry_after": self.retry_after,
            "reason": self.reason,
            "delay": self.delay,
            "times": self.times,
            "grant_type": self.grant_type,
            "body": self.body,
            "content_type": self.content_type,
            "hits": self.hits,
        }

    def matches(self, request: web.Request, grant_type: str | None) -> bool:
        if self.method and self.method.upper() != request.method:
            return False
        if not self.path.search(request.path):
            return False
        if self.grant_type and self.grant_type != grant_type:
            return False
        return self.times is None or self.hits < self.times

    def answer(self, request: web.Request) -> web.StreamResponse:
        assert self.status
        if self.body is not None:
            return web.Response(
                status=self.status,
                body=self.body.encode(),
                content_type=self.content_type or "text/html",
            )
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        elif self.status == 429:
            headers["Retry-After"] = "1"
        if request.path.startswith("/v1/"):
            if self.message:
                message = self.message
            elif self.status == 429:
                quota = self.reason == "QUOTA_EXCEEDED"
                message = "Too many requests" if quota else "API rate limit exceeded"
            else:
                message = _DEFAULT_MESSAGES.get(self.status, "Sandbox fault")
            return api_error(self.status, message, self.reason, **headers)
        if request.path == "/api/token":
            body = {"error": "server_error", "error_description": self.message or "Sandbox fault"}
            if self.status == 429:
                body = {"error": "rate_limited", "error_description": "Too many requests"}
            return web.json_response(body, status=self.status, headers=headers or None)
        return web.Response(
            status=self.status, text=self.message or "Sandbox fault", headers=headers
        )


@dataclass
class Faults:
    """Applied to every non-control request, in the order added."""

    active: list[Fault] = field(default_factory=list)
    seq: int = 0

    def add(self, body: dict[str, Any]) -> Fault:
        self.seq += 1
        fault = Fault(
            id=self.seq,
            path=re.compile(body.get("path", ".*")),
            method=body.get("method"),
            status=body.get("status"),
            retry_after=body.get("retry_after"),
            reason=body.get("reason"),
            delay=float(body.get("delay", 0) or 0),
            times=body.get("times"),
            grant_type=body.get("grant_type"),
            message=body.get("message"),
            body=body.get("body"),
            content_type=body.get("content_type"),
        )
        self.active.append(fault)
        return fault

    async def apply(
        self, request: web.Request, grant_type: str | None
    ) -> web.StreamResponse | None:
        """The injected answer for this request, if a fault says so (after its delay)."""
        for fault in list(self.active):
            if not fault.matches(request, grant_type):
                continue
            fault.hits += 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if not fault.status:
                continue  # slow-only fault
            return fault.answer(request)
        return None
