"""The Redis store's core: the connection, its failure as StoreUnavailable, the key
names, and transactions that retry when another instance changed a watched key."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import redis.asyncio
from cachetools import LRUCache
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..errors import StoreUnavailable
from .base import (
    CACHED,
    AccountRecord,
    ServerRecord,
)

T = TypeVar("T")

# ReadOnlyError: we are talking to a replica after a failover; it passes like an outage.
DOWN = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError)

# Only sets last_used_at on a server that still exists: a plain HSET after a revocation
# or an expiry would bring back a bare hash without a TTL.
_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
end
return 0
"""


@contextmanager
def guarded() -> Iterator[None]:
    try:
        yield
    except DOWN as exc:
        # The type only: a message could carry a host name or worse from the URL.
        raise StoreUnavailable(f"Redis is unreachable ({type(exc).__name__})") from exc


def ms(when: datetime) -> int:
    # Round up so that Redis never drops a key before the record itself says it expired.
    return math.ceil(when.timestamp() * 1000)


class RedisCore:
    def __init__(self, url: str, prefix: str = "yamcp:", cache_seconds: float = 0.0) -> None:
        self.prefix = prefix
        self._channel = f"{prefix}invalidate"
        self._cache_seconds = cache_seconds
        # token hash -> (when, record); id -> (when, record)
        self._cache: LRUCache[str, tuple[float, ServerRecord]] = LRUCache(CACHED)
        self._accounts: LRUCache[str, tuple[float, AccountRecord]] = LRUCache(CACHED)
        self._listening = False
        self._listener: asyncio.Task[None] | None = None
        self._redis: redis.asyncio.Redis = redis.asyncio.from_url(
            url,
            decode_responses=False,
            # Fail fast: a request waiting on a dead Redis should get its 503 quickly.
            socket_connect_timeout=1,
            socket_timeout=2,
            # One quick retry on a fresh connection absorbs pooled sockets that died with a
            # Redis restart; the health check catches those that sat idle.
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
            health_check_interval=15,
        )
        self._touch = self._redis.register_script(_TOUCH)

    # --- keys ---

    def _server(self, server_id: str) -> str:
        return f"{self.prefix}server:{server_id}"

    def _token(self, token_hash: str) -> str:
        return f"{self.prefix}token:{token_hash}"

    def _index(self) -> str:
        return f"{self.prefix}servers"

    def _account(self, account: str) -> str:
        return f"{self.prefix}account:{account}"

    def _apitoken(self, token_hash: str) -> str:
        return f"{self.prefix}apitoken:{token_hash}"

    def _server_apitokens(self, server_id: str) -> str:
        return f"{self.prefix}server-apitokens:{server_id}"

    def _admintoken(self, token_hash: str) -> str:
        return f"{self.prefix}admintoken:{token_hash}"

    def _admintoken_id(self, token_id: str) -> str:
        return f"{self.prefix}admintoken-id:{token_id}"

    def _integrated(self, account_id: str) -> str:
        return f"{self.prefix}integrated-account:{account_id}"

    def _integrated_index(self) -> str:
        return f"{self.prefix}integrated-accounts"

    # --- helpers ---

    async def _transact(self, keys: list[str], body: Callable[[Pipeline], Awaitable[T]]) -> T:
        """Run body under WATCH keys, again if another instance changed them meanwhile.

        body reads in immediate mode, then calls pipe.multi() and pipe.execute(); leaving
        without executing just drops the watch (the pipeline resets on exit).
        """
        with guarded():
            async with self._redis.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(*keys)
                        return await body(pipe)
                    except WatchError:
                        await pipe.reset()
