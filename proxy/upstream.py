"""The one seam between the engine and the upstream HTTP client.

`forward` asks an `Upstream` to send one request and gets status, headers and body
back; failures are httpx's exception types whichever client is underneath, so they
are turned into tool results in one place. Four clients sit behind the seam, chosen
by `YAMCP_UPSTREAM_TRANSPORT`, and the benchmark measures them side by side:

* `pyreqwest` (default): Rust's reqwest; connections, parsing and TLS run on its own
  thread, so the event loop spends the least per call. Fastest measured.
* `aiohttp`: aiohttp's pool and parser, called directly.
* `httpx-aiohttp`: httpx's client API over the aiohttp pool (proxy/transport.py).
* `httpx`: httpx with its own transport, the slowest measured (see the README).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp
import httpx
from pyreqwest import exceptions as reqwest_errors
from pyreqwest.client import Client, ClientBuilder
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


def with_query(url: str, params: dict[str, Any]) -> str:
    """The URL with its query string, for the clients that take one whole URL."""
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


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


def _never_sent(exc: reqwest_errors.PyreqwestError) -> bool:
    """Whether the failure came while connecting, so the upstream never saw the request.

    pyreqwest reports any failure before the response head as a connect error or
    timeout, a stalled or dropped pooled connection included; only the cause chain
    tells them apart (hyper's "Connect" kind). Anything else counts as possibly sent,
    so a model is told to check before repeating a write.
    """
    causes = (getattr(exc, "details", None) or {}).get("causes") or []
    return any(cause.get("message") == "client error (Connect)" for cause in causes)


@contextmanager
def _reqwest_errors() -> Iterator[None]:
    """reqwest's failures as httpx's exception types, each keeping its meaning."""
    try:
        yield
    except reqwest_errors.PoolTimeoutError as exc:
        raise httpx.PoolTimeout(exc.message) from exc
    except reqwest_errors.RequestTimeoutError as exc:
        if _never_sent(exc):
            raise httpx.ConnectTimeout(exc.message) from exc
        raise httpx.ReadTimeout(exc.message) from exc
    except reqwest_errors.ConnectError as exc:
        if _never_sent(exc):
            raise httpx.ConnectError(exc.message) from exc
        raise httpx.ReadError(exc.message) from exc
    except reqwest_errors.WriteError as exc:
        raise httpx.WriteError(exc.message) from exc
    except reqwest_errors.ReadError as exc:
        raise httpx.ReadError(exc.message) from exc
    except reqwest_errors.RequestError as exc:  # a malformed answer, a body cut short
        raise httpx.RemoteProtocolError(exc.message) from exc


class PyreqwestUpstream:
    """reqwest through pyreqwest, called directly."""

    def __init__(self, settings: Settings) -> None:
        self._client: Client = (
            ClientBuilder()
            .max_connections(settings.max_connections)
            .pool_timeout(timedelta(seconds=settings.connect_timeout))
            .pool_idle_timeout(timedelta(seconds=15))
            .connect_timeout(timedelta(seconds=settings.connect_timeout))
            .read_timeout(timedelta(seconds=settings.read_timeout))
            .follow_redirects(False)
            .no_proxy()  # like the other clients: the environment chooses no route
            .build()
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
        url = with_query(url, params)
        builder = self._client.request(method, url).headers(headers)
        if body is not None:
            builder = builder.body_bytes(body)
        with _reqwest_errors():
            async with builder.build_streamed() as response:
                status, answer_headers = response.status, response.headers
                length = answer_headers.get("content-length")
                if length is not None and length.isdigit() and int(length) > max_body:
                    return UpstreamResponse(status, answer_headers, None)
                # The first 64 KiB arrive with the head; only a larger body costs more reads.
                reader, parts, size = response.body_reader, [], 0
                while (chunk := await reader.read_chunk()) is not None:
                    size += len(chunk)
                    if size > max_body:
                        return UpstreamResponse(status, answer_headers, None)
                    parts.append(chunk)
                return UpstreamResponse(status, answer_headers, b"".join(parts))

    async def aclose(self) -> None:
        await self._client.close()


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
        url = with_query(url, params)
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
    if settings.upstream_transport == "aiohttp":
        return AiohttpUpstream(settings)
    return PyreqwestUpstream(settings)
