"""The one shared upstream HTTP client: httpx's API over the fastest transport measured.

httpx's own transport costs most of a proxied call's CPU (see bench/ and the README's
performance section); aiohttp under the same API is several times faster. Both stay
selectable so the benchmark can keep comparing them.
"""

from __future__ import annotations

import httpx

from .settings import Settings
from .transport import AiohttpTransport


def make_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.read_timeout,
        pool=settings.connect_timeout,
    )
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_connections,
        keepalive_expiry=15.0,
    )
    if settings.upstream_transport == "aiohttp":
        transport: httpx.AsyncBaseTransport = AiohttpTransport(limits=limits)
    else:
        transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    return httpx.AsyncClient(
        transport=transport, timeout=timeout, trust_env=False, follow_redirects=False
    )
