"""The one seam between the engine and the upstream HTTP client.

`forward` asks an `Upstream` to send one request and gets status, headers and body
back; failures are `proxy.errors.UpstreamFailure`s, one type per failure mode, each
saying whether the request may have been sent, so they are turned into tool results in
one place and a test can put any client behind the seam.

The client is pyreqwest (Rust's reqwest): connections, parsing and TLS run on its own
thread, so the event loop spends the least per call. It was chosen by measurement
against aiohttp and httpx, with an upstream answering at once and one answering after
100 ms (docs/scaling.md has the figures and the reasons).

The pool holds `YAMCP_MAX_CONNECTIONS` connections. A call beyond that waits for one,
up to `YAMCP_POOL_TIMEOUT` seconds, and then fails as `PoolTimeout`: the request was
never sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from pyreqwest import exceptions as reqwest_errors
from pyreqwest.client import Client, ClientBuilder

from . import errors
from .settings import Settings


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
    """The URL with its query string: the client takes one whole URL. A URL may carry a
    query already (an upstream's next page): the parameters follow it."""
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}"


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
    """reqwest's failures as ours, each keeping its meaning."""
    try:
        yield
    except reqwest_errors.PoolTimeoutError as exc:  # no pooled connection in time: not sent
        raise errors.PoolTimeout(exc.message) from exc
    except reqwest_errors.RequestTimeoutError as exc:
        if _never_sent(exc):
            raise errors.ConnectTimeout(exc.message) from exc
        raise errors.ReadTimeout(exc.message) from exc
    except reqwest_errors.ConnectError as exc:
        if _never_sent(exc):
            raise errors.ConnectError(exc.message) from exc
        raise errors.ReadError(exc.message) from exc
    except reqwest_errors.WriteError as exc:
        raise errors.WriteError(exc.message) from exc
    except reqwest_errors.ReadError as exc:
        raise errors.ReadError(exc.message) from exc
    except reqwest_errors.RequestError as exc:  # a malformed answer, a body cut short
        raise errors.RemoteProtocolError(exc.message) from exc


class PyreqwestUpstream:
    """reqwest through pyreqwest, called directly."""

    def __init__(self, settings: Settings) -> None:
        self._client: Client = (
            ClientBuilder()
            .max_connections(settings.max_connections)
            .pool_timeout(timedelta(seconds=settings.pool_timeout))
            .pool_idle_timeout(timedelta(seconds=15))
            .connect_timeout(timedelta(seconds=settings.connect_timeout))
            .read_timeout(timedelta(seconds=settings.read_timeout))
            .follow_redirects(False)
            .no_proxy()  # the environment chooses no route
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


def make_upstream(settings: Settings) -> Upstream:
    return PyreqwestUpstream(settings)
