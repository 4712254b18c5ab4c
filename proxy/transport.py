"""An httpx transport that sends over aiohttp: httpx's API, aiohttp's speed.

httpx's own transport costs most of a proxied call's CPU (bench/ measures it);
aiohttp's connection pool and HTTP parser are several times faster. The adapter is
small, and ours because failures must keep their meaning: a refused connection is
`httpx.ConnectError`, a slow connect `ConnectTimeout`, a silent server `ReadTimeout`,
a reset or truncated answer `RemoteProtocolError`/`ReadError` (the httpx-aiohttp
package reports a refused connection as a timeout, which would mislead a model).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
from yarl import URL


@contextlib.contextmanager
def mapped_errors(request: httpx.Request | None = None) -> Iterator[None]:
    """aiohttp's failures as httpx's exception types, each keeping its meaning."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
    except aiohttp.SocketTimeoutError as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc), request=request) from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except aiohttp.ClientResponseError as exc:  # malformed status line or headers
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except (aiohttp.ClientOSError, ConnectionError) as exc:
        raise httpx.ReadError(str(exc), request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.TransportError(str(exc), request=request) from exc


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with mapped_errors(self._request):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, limits: httpx.Limits | None = None) -> None:
        self._limits = limits or httpx.Limits()
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Created on first use: aiohttp binds a session to the running event loop.
        return open_session(
            self._limits.max_connections or 0,
            self._limits.keepalive_expiry or 15.0,
            auto_decompress=False,  # httpx decodes by Content-Encoding itself
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._open()
        timeout = request.extensions.get("timeout", {})
        client_timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeout.get("pool"),
            sock_connect=timeout.get("connect"),
            sock_read=timeout.get("read"),
        )
        body = request.content if request.content else None
        with mapped_errors(request):
            response = await self._session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=body,
                allow_redirects=False,
                timeout=client_timeout,
                compress=False,
            )
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_Body(response, request),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def open_session(
    max_connections: int, keepalive: float, *, auto_decompress: bool = True
) -> aiohttp.ClientSession:
    """An aiohttp session that sends each request exactly once."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=max_connections, limit_per_host=0, keepalive_timeout=keepalive, ttl_dns_cache=300
        ),
        auto_decompress=auto_decompress,
        skip_auto_headers=("User-Agent", "Content-Type"),
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    # aiohttp silently resends an idempotent request once when a reused connection drops,
    # even after the upstream received it; yamcp promises exactly one upstream request per
    # call (aiohttp's own test client turns this off the same way). Idle connections are
    # dropped before typical upstream idle timeouts instead (`keepalive`).
    session._retry_connection = False
    return session
