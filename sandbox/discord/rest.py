"""The REST plumbing every ``/api/v10`` route shares.

Each route is an :class:`Endpoint` (method, path template, handler and how Discord
treats it: auth, rate-limit bucket, major parameter) registered on aiohttp's router.
Around the handler: the request record (``/_sandbox/requests``), auth, the global and
per-route rate limits, body reading (JSON, multipart with ``payload_json``, forms),
the lenient spec check, the lost-response fault, and the moment a message that the
request rendered becomes clickable (after its response has been written).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import BodyPartReader, web

from .errors import ApiError, json_response
from .models import JSON, StoredMessage
from .ratelimits import BucketKind, credential_of
from .state import Upload, World

if TYPE_CHECKING:
    from .emulator import DiscordEmulator
    from .routes.oauth2 import AccessGrant

API_PREFIX = "/api/v10"
Auth = Literal["bot", "none", "bearer", "bot_or_bearer"]


@dataclass
class Answer:
    """A handler's answer other than 200 JSON."""

    body: Any
    status: int = 200


@dataclass
class RestCall:
    """One request as a handler sees it."""

    emu: DiscordEmulator
    request: web.Request
    params: dict[str, str]
    body: Any
    files: list[Upload]
    bearer: AccessGrant | None = None
    # messages whose components this request sets: clickable once it has been answered
    renders: list[StoredMessage] = field(default_factory=list)
    # the lost-response fault: the write happened, the answer is a Cloudflare 502
    lose_response: bool = False

    @property
    def world(self) -> World:
        return self.emu.world

    @property
    def query(self) -> Any:
        return self.request.query

    def json(self) -> JSON:
        return self.body if isinstance(self.body, dict) else {}

    def render(self, message: StoredMessage) -> None:
        if message.wire.get("components"):
            message.settled.clear()
            self.renders.append(message)


Handler = Callable[[RestCall], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # template under /api/v10, e.g. "/channels/{channel_id}/messages"
    handler: Handler
    auth: Auth = "bot"
    bucket: BucketKind = "route"
    major: str | None = None
    global_exempt: bool = False
    prefixes: tuple[str, ...] = (API_PREFIX,)


CLOUDFLARE_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def bad_gateway() -> web.Response:
    """What Discord's edge answers when the origin's answer is lost."""
    return web.Response(
        text=CLOUDFLARE_502,
        status=502,
        content_type="text/html",
        headers={"Server": "cloudflare", "CF-RAY": f"{secrets.token_hex(8)}-AMS"},
    )


class RestApi:
    def __init__(self, emu: DiscordEmulator, endpoints: Iterable[Endpoint]) -> None:
        self.emu = emu
        # literal segments before parameters (".../messages/@original" before "/{message_id}")
        self.endpoints = sorted(endpoints, key=lambda e: e.path.count("{"))

    def install(self, app: web.Application) -> None:
        for ep in self.endpoints:
            for prefix in ep.prefixes:
                app.router.add_route(ep.method, prefix + ep.path, self._serve(ep, prefix))

    def _serve(
        self, ep: Endpoint, prefix: str
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._handle(ep, prefix, request)

        return handle

    async def _handle(self, ep: Endpoint, prefix: str, request: web.Request) -> web.StreamResponse:
        emu, world = self.emu, self.emu.world
        started = time.monotonic()
        path = request.path[len(prefix) :]
        rec: JSON = {
            "at": time.time(),
            "method": request.method,
            "path": path,
            "query": dict(request.query),
            "route": ep.path,
            "status": None,
            "rate_limited": False,
        }
        world.requests.append(rec)
        headers: dict[str, str] = {}
        call: RestCall | None = None
        try:
            bearer = self._authenticate(ep, request)
            credential = credential_of(request.headers.get("Authorization", ""), request.remote)
            if emu.settings.rate_limits and not ep.global_exempt:
                retry = emu.limits.global_retry_after(started, credential)
                if retry is not None:
                    rec.update(rate_limited="global", status=429)
                    return self._global_429(retry)
            major = request.match_info.get(ep.major, "") if ep.major else ""
            headers, over = emu.limits.consume(
                f"{ep.method} {ep.path}", major, ep.bucket, started, credential
            )
            if over is not None:
                rec.update(rate_limited="route", status=429)
                return self._route_429(over, headers)
            body, files = await read_body(request)
            if body is not None and request.method in ("POST", "PUT", "PATCH"):
                for problem in emu.validator.check(request.method, path, body):
                    world.record_error(
                        "validation", problem, method=request.method, path=path, route=ep.path
                    )
            call = RestCall(emu, request, dict(request.match_info), body, files, bearer)
            result = await ep.handler(call)
            if call.lose_response:
                rec.update(status=502, fault="lost_response")
                return bad_gateway()
            if result is None:
                rec["status"] = 204
                response: web.StreamResponse = web.Response(status=204, headers=headers)
            elif isinstance(result, web.StreamResponse):
                rec["status"] = result.status
                response = result
            else:
                status, data = (
                    (result.status, result.body) if isinstance(result, Answer) else (200, result)
                )
                rec["status"] = status
                response = json_response(data, status=status, headers=headers)
            # written before the messages it rendered become clickable (see StoredMessage.settled)
            await response.prepare(request)
            await response.write_eof()
            return response
        except ApiError as err:
            rec.update(status=err.status, code=err.code)
            world.record_error(
                err.kind or "api",
                err.message,
                method=request.method,
                path=path,
                status=err.status,
                code=err.code,
                errors=err.body().get("errors"),
            )
            return json_response(err.body(), status=err.status, headers=headers)
        finally:
            if call is not None:
                for message in call.renders:
                    message.settled.set()
            rec["duration_ms"] = round((time.monotonic() - started) * 1000, 3)

    def _authenticate(self, ep: Endpoint, request: web.Request) -> AccessGrant | None:
        auth = request.headers.get("Authorization", "")
        if ep.auth == "none":
            return None
        if auth == f"Bot {self.emu.bot_token}" and ep.auth in ("bot", "bot_or_bearer"):
            return None
        if auth.startswith("Bearer ") and ep.auth in ("bearer", "bot_or_bearer"):
            grant = self.emu.oauth2.grant_for(auth.removeprefix("Bearer "))
            if grant is not None:
                return grant
        raise ApiError(401, 0, "401: Unauthorized", kind="auth")

    @staticmethod
    def _global_429(retry: float) -> web.Response:
        return json_response(
            {
                "message": "You are being rate limited.",
                "retry_after": round(retry, 3),
                "global": True,
                "code": 0,
            },
            status=429,
            headers={
                "Retry-After": str(max(1, int(retry + 0.999))),
                "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global",
                "Via": "1.1 google",
            },
        )

    @staticmethod
    def _route_429(over: float, headers: dict[str, str]) -> web.Response:
        headers = {
            **headers,
            "Retry-After": str(max(1, int(over + 0.999))),
            "X-RateLimit-Scope": "user",
            "Via": "1.1 google",
        }
        return json_response(
            {
                "message": "You are being rate limited.",
                "retry_after": round(over, 3),
                "global": False,
                "code": 0,
            },
            status=429,
            headers=headers,
        )


async def read_body(request: web.Request) -> tuple[Any, list[Upload]]:
    """JSON, a multipart body (``payload_json`` and files) or a urlencoded form."""
    files: list[Upload] = []
    if not request.body_exists:
        return None, files
    ctype = request.content_type
    if ctype.startswith("multipart/"):
        body: Any = {}
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                try:
                    body = json.loads(await part.text())
                except ValueError as exc:
                    raise ApiError(400, 50109, "The request body contains invalid JSON.") from exc
            else:
                data = await part.read()
                files.append(
                    Upload(
                        field=part.name,
                        filename=part.filename or "file",
                        size=len(data),
                        content_type=part.headers.get("Content-Type"),
                    )
                )
        return body, files
    if ctype == "application/x-www-form-urlencoded":
        form = await request.post()
        return {k: str(v) for k, v in form.items()}, files
    raw = await request.read()
    if not raw:
        return None, files
    try:
        return json.loads(raw), files
    except ValueError as exc:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from exc


def not_found_middleware(emu: DiscordEmulator) -> Any:
    """Unknown routes answer as Discord does (404 ``{"code": 0}``) and are recorded."""

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as exc:
            world = emu.world
            not_allowed = isinstance(exc, web.HTTPMethodNotAllowed)
            if request.path.startswith("/_sandbox/"):
                return json_response(
                    {"code": 0, "message": f"no control route {request.method} {request.path}"},
                    status=exc.status,
                )
            path = request.path
            if path.startswith(API_PREFIX + "/"):
                path = path[len(API_PREFIX) :]
                world.requests.append(
                    {
                        "at": time.time(),
                        "method": request.method,
                        "path": path,
                        "query": dict(request.query),
                        "status": exc.status,
                        "code": 0,
                        "rate_limited": False,
                        "duration_ms": 0.0,
                    }
                )
            world.record_error(
                "unhandled",
                "method not handled" if not_allowed else "no such route",
                method=request.method,
                path=path,
            )
            message = "405: Method Not Allowed" if not_allowed else "404: Not Found"
            return json_response({"code": 0, "message": message}, status=exc.status)

    return middleware
