"""The HTTP plumbing both emulators' control clients share (`/_sandbox/...`)."""

from __future__ import annotations

from typing import Any, ClassVar

import aiohttp


class ControlError(RuntimeError):
    """The control API answered with an error status."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


class ControlClient:
    """Drives an emulator, possibly in another process, over its control API."""

    error: ClassVar[type[ControlError]] = ControlError

    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        total_s: float = 60.0,
    ) -> Any:
        query = {key: str(value) for key, value in (params or {}).items() if value is not None}
        async with self._http().request(
            method,
            f"{self.base_url}/_sandbox{path}",
            json=json,
            params=query,
            timeout=aiohttp.ClientTimeout(total=total_s),
        ) as response:
            body = await response.json(content_type=None)
            if response.status >= 400:
                raise self.error(response.status, body)
        return body
