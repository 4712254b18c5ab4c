"""The one seam between the engine and the upstream HTTP client.

`forward` asks an `Upstream` to send one request and gets status, headers and body
back; failures are httpx's exception types whichever client is underneath, so they
are turned into tool results in one place. Three clients sit behind the seam, chosen
by `YAMCP_UPSTREAM_TRANSPORT`, and the benchmark measures them side by side:

* `aiohttp` (default): aiohttp's pool and parser, called directly. Fastest measured.
* `httpx-aiohttp`: httpx's client API over the same aiohttp pool (proxy/transport.py).
* `httpx`: httpx with its own transport, the slowest measured (see the README).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp
import httpx
from yarl import URL

from .settings import Settings
from .transport import AiohttpTransport, mapped_errors, open_session


@dataclass(slots=True)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes | None  # None: larger than the limit, not read further


class Upstream(Protocol):
    async def send(
        self,
        method: str,
        url: str,
        params: dict[str, Any],
        body: bytes | None,
        headers: dict[str, str],
        max_body: int,
    ) -> UpstreamResponse: ...

    async def aclose(self) -> None: ...


async def _read(
    status: int, headers: Mapping[str, str], chunks: AsyncIterator[bytes], limit: int
) -> UpstreamResponse:
    """The whole body, or none once it passes `limit` bytes (the rest is not read)."""
    length = headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        return UpstreamResponse(status, headers, None)
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return UpstreamResponse(status, headers, None)
        parts.append(chunk)
    return UpstreamResponse(status, headers, b"".join(parts))


class AiohttpUpstream:
    """aiohttp directly: no second request model to build per call."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=settings.connect_timeout,
            sock_connect=settings.connect_timeout,
            sock_read=settings.read_timeout,
        )

    def _open(self) -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=self._settings.max_connections,
                limit_per_host=0,
                keepalive_timeout=15.0,
                ttl_dns_cache=300,
            ),
            skip_auto_headers=("User-Agent", "Content-Type"),
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        # aiohttp silently resends an idempotent request when a reused connection drops,
        # even after the upstream received it; yamcp promises one upstream request per
        # call (aiohttp's own test client turns it off the same way).
        session._retry_connection = False
        return session

    async def send(
        self,
        method: str,
        url: str,
        params: dict[str, Any],
        body: bytes | None,
        headers: dict[str, str],
        max_body: int,
    ) -> UpstreamResponse:
        if self._session is None:  # on first use: aiohttp binds a session to its loop
            self._session = open_session(self._settings.max_connections, 15.0)
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
        with mapped_errors():
            async with self._session.request(
                method,
                URL(url, encoded=True),  # already percent-encoded: do not requote
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=self._timeout,
            ) as response:
                return await _read(
                    response.status, response.headers, response.content.iter_any(), max_body
                )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class HttpxUpstream:
    """httpx's client, over aiohttp (`httpx-aiohttp`) or its own transport (`httpx`)."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport) -> None:
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.connect_timeout,
            ),
            trust_env=False,
            follow_redirects=False,
        )

    async def send(
        self,
        method: str,
        url: str,
        params: dict[str, Any],
        body: bytes | None,
        headers: dict[str, str],
        max_body: int,
    ) -> UpstreamResponse:
        async with self._client.stream(
            method, url, params=params, content=body, headers=headers
        ) as response:
            return await _read(
                response.status_code, response.headers, response.aiter_bytes(), max_body
            )

    async def aclose(self) -> None:
        await self._client.aclose()


def make_upstream(settings: Settings) -> Upstream:
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_connections,
        keepalive_expiry=15.0,
    )
    if settings.upstream_transport == "httpx":
        return HttpxUpstream(settings, httpx.AsyncHTTPTransport(limits=limits, trust_env=False))
    if settings.upstream_transport == "httpx-aiohttp":
        return HttpxUpstream(settings, AiohttpTransport(limits))
    return AiohttpUpstream(settings)
