"""The in-process token cache on Redis: revocations at once, a bound if a message is lost,
and expiry checked on every lookup."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import redis.asyncio

from proxy.store import ServerConfig, ServerRecord, utcnow
from proxy.store.redis import RedisStore
from proxy.tokens import hash_token, new_id, new_token

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    prefix = f"yamcp-cache-{uuid.uuid4().hex[:8]}:"
    yield prefix
    raw = redis.asyncio.from_url(URL)
    async for key in raw.scan_iter(match=f"{prefix}*"):
        await raw.delete(key)
    await raw.aclose()


def record(**kw: object) -> ServerRecord:
    return ServerRecord(
        id=new_id("srv"), name="t", account="acme", config=ServerConfig(), created_at=utcnow(), **kw
    )


async def listening(store: RedisStore) -> None:
    await store.resolve("warm-up")  # starts the subscriber
    for _ in range(100):
        if store._listening:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the invalidation subscriber did not start")


async def test_revocation_reaches_every_instance_at_once(prefix: str) -> None:
    one = RedisStore(URL, prefix, cache_seconds=300)
    two = RedisStore(URL, prefix, cache_seconds=300)
    try:
        await listening(one)
        await listening(two)
        rec, token = record(), hash_token(new_token())
        await one.create_server(rec, token)
        assert await one.resolve(token) == rec
        assert await two.resolve(token) == rec
        assert token in two._cache  # served from memory from now on
        await one.delete_server(rec.id)
        for _ in range(50):
            if await two.resolve(token) is None:
                break
            await asyncio.sleep(0.01)
        assert await two.resolve(token) is None
        assert await one.resolve(token) is None
    finally:
        await one.close()
        await two.close()


async def test_a_lost_message_is_bounded_by_cache_seconds(prefix: str) -> None:
    store = RedisStore(URL, prefix, cache_seconds=1.0)
    raw = redis.asyncio.from_url(URL)
    try:
        await listening(store)
        rec, token = record(), hash_token(new_token())
        await store.create_server(rec, token)
        assert await store.resolve(token) == rec
        # Revoke behind the store's back: no message is published, as if it were lost.
        await raw.delete(f"{prefix}token:{token}", f"{prefix}server:{rec.id}")
        assert await store.resolve(token) == rec  # still cached, within the bound
        await asyncio.sleep(1.1)
        assert await store.resolve(token) is None
    finally:
        await raw.aclose()
        await store.close()


async def test_an_expired_server_never_answers_from_the_cache(prefix: str) -> None:
    store = RedisStore(URL, prefix, cache_seconds=300)
    try:
        await listening(store)
        rec = record(expires_at=utcnow() + timedelta(seconds=1))
        token = hash_token(new_token())
        await store.create_server(rec, token)
        assert await store.resolve(token) == rec
        await asyncio.sleep(1.1)
        assert await store.resolve(token) is None
    finally:
        await store.close()


async def test_no_cache_without_a_live_subscription(prefix: str) -> None:
    store = RedisStore(URL, prefix, cache_seconds=300)
    try:
        rec, token = record(), hash_token(new_token())
        await store.create_server(rec, token)
        store._listener = asyncio.create_task(
            asyncio.sleep(3600)
        )  # a subscriber that never connects
        assert await store.resolve(token) == rec
        assert store._cache == {}
    finally:
        await store.close()
