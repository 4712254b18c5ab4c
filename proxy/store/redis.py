"""The shared store: Redis, so that several yamcp instances see the same servers and tokens.

A server minted on one instance works on every other at once, and a revocation is seen
everywhere at once. Token lookups may be cached in the process (`cache_seconds`) to
save a round trip per call; then every revocation or change is published on
`{p}invalidate`, each instance drops the entry when the message arrives, the cache is
used only while that subscription is live, and an entry is never older than
`cache_seconds` even if a message is lost. Expiry is checked on every call.

Keys (all under the configured prefix `p`):

    {p}server:{id}                  hash: record (JSON), token (hash), last_used_at (ISO)
    {p}token:{token_hash}           server id
    {p}servers                      hash: server id -> account (index of every server)
    {p}account:{account}            set of server ids
    {p}apitoken:{token_hash}        JSON {server, id}
    {p}server-apitokens:{server}    hash: token id -> JSON {hash, created_at}
    {p}admintoken:{token_hash}      admin token id
    {p}admintoken-id:{id}           JSON {hash, created_at}
    {p}integrated-account:{id}      JSON account record (credentials sealed only)
    {p}integrated-accounts          set of account ids (index of every stored account)

Account records may be cached the same way as token lookups: every change or deletion
publishes `account:{id}` on `{p}invalidate` (a token hash is hex, so never that), and a
deletion also publishes the token hash of each server it took with it.

A server with `expires_at` has PEXPIREAT on each of its own keys, so Redis drops them at
that instant on its own; index entries (`servers`, `account:*`) cannot expire per member,
so reads skip and prune members whose record is gone, and `sweep` prunes the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import orjson
import redis.asyncio
from cachetools import LRUCache
from pydantic import ValidationError
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..errors import AccountExists, StoreUnavailable
from .base import (
    APPROVAL_RETENTION_SECONDS,
    CACHED,
    AccountRecord,
    ApiTokenInfo,
    ApprovalRecord,
    ServerRecord,
    utcnow,
)

T = TypeVar("T")
_ACCOUNT_MESSAGE = "account:"
log = logging.getLogger("yamcp")

# ReadOnlyError: we are talking to a replica after a failover; it passes like an outage.
_DOWN = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError)

# Only sets last_used_at on a server that still exists: a plain HSET after a revocation
# or an expiry would bring back a bare hash without a TTL.
_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
end
return 0
"""


@contextmanager
def _guarded() -> Iterator[None]:
    try:
        yield
    except _DOWN as exc:
        # The type only: a message could carry a host name or worse from the URL.
        raise StoreUnavailable(f"Redis is unreachable ({type(exc).__name__})") from exc


def _ms(when: datetime) -> int:
    # Round up so that Redis never drops a key before the record itself says it expired.
    return math.ceil(when.timestamp() * 1000)


class RedisStore:
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
        with _guarded():
            async with self._redis.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(*keys)
                        return await body(pipe)
                    except WatchError:
                        await pipe.reset()

    @staticmethod
    def _record(raw: bytes | None, last_used: bytes | None) -> ServerRecord | None:
        if raw is None:
            return None
        try:
            data = orjson.loads(raw)
            if last_used is not None:
                data["last_used_at"] = last_used.decode()
            return ServerRecord.model_validate(data)
        except (orjson.JSONDecodeError, ValidationError, TypeError, UnicodeDecodeError):
            # Written by something else, or by a version that stored unchecked PATCHes: a
            # record no request can be served under is treated as revoked, never a 500.
            log.warning("a server record in Redis is unreadable; it is treated as revoked")
            return None

    def _expire(self, pipe: Pipeline, keys: list[str], expires_at: datetime | None) -> None:
        for key in keys:
            if expires_at is None:
                pipe.persist(key)
            else:
                pipe.pexpireat(key, _ms(expires_at))

    async def _live(self, record: ServerRecord | None) -> ServerRecord | None:
        # Redis drops expired keys itself; this covers clock skew between us and Redis.
        if record is not None and record.expired():
            await self.delete_server(record.id)
            return None
        return record

    async def _collect(self, members: list[tuple[str, str]]) -> tuple[list[ServerRecord], int]:
        """Live records of (id, account) index members; prunes the dead. Returns (live, gone)."""
        with _guarded():
            async with self._redis.pipeline(transaction=False) as pipe:
                for server_id, _ in members:
                    pipe.hmget(self._server(server_id), ["record", "last_used_at"])
                rows = await pipe.execute()
        live: list[ServerRecord] = []
        stale: list[tuple[str, str]] = []
        expired: list[str] = []
        for (server_id, account), (raw, last_used) in zip(members, rows, strict=True):
            record = self._record(raw, last_used)
            if record is None and raw is not None:
                expired.append(server_id)  # unreadable: revoked, keys and all
            elif record is None:
                stale.append((server_id, account))
            elif record.expired():
                expired.append(record.id)
            else:
                live.append(record)
        if stale:
            with _guarded():
                async with self._redis.pipeline(transaction=True) as pipe:
                    for server_id, account in stale:
                        pipe.hdel(self._index(), server_id)
                        pipe.srem(self._account(account), server_id)
                    await pipe.execute()
        for server_id in expired:
            await self.delete_server(server_id)
        return live, len(stale) + len(expired)

    # --- servers ---

    async def create_server(self, record: ServerRecord, token_hash: str) -> None:
        server_key, token_key = self._server(record.id), self._token(token_hash)

        async def body(pipe: Pipeline) -> None:
            if await pipe.exists(server_key, token_key):
                raise ValueError("a server with this id or token already exists")
            fields: dict[str, Any] = {
                "record": orjson.dumps(record.model_dump(mode="json", exclude={"last_used_at"})),
                "token": token_hash,
            }
            if record.last_used_at is not None:
                fields["last_used_at"] = record.last_used_at.isoformat()
            pipe.multi()
            pipe.hset(server_key, mapping=fields)
            pipe.set(token_key, record.id)
            pipe.hset(self._index(), record.id, record.account)
            pipe.sadd(self._account(record.account), record.id)
            if record.expires_at is not None:
                self._expire(pipe, [server_key, token_key], record.expires_at)
            await pipe.execute()

        await self._transact([server_key, token_key], body)

    async def resolve(self, token_hash: str) -> ServerRecord | None:
        if self._cache_seconds > 0:
            self._start_listener()
            hit = self._cache.get(token_hash)
            if hit is not None and self._listening:
                fetched, record = hit
                if time.monotonic() - fetched < self._cache_seconds:
                    if record.expired():
                        self._cache.pop(token_hash, None)
                        await self.delete_server(record.id)
                        return None
                    return record
        with _guarded():
            server_id = await self._redis.get(self._token(token_hash))
        if server_id is None:
            return None
        record = await self.get_server(server_id.decode())
        if record is not None and self._cache_seconds > 0 and self._listening:
            self._cache[token_hash] = (time.monotonic(), record)
        return record

    def _start_listener(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        """Drop cached tokens when any instance revokes or changes their server."""
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self._listening = True
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message["type"] == "message":
                        data = message["data"].decode()
                        if data.startswith(_ACCOUNT_MESSAGE):
                            self._accounts.pop(data.removeprefix(_ACCOUNT_MESSAGE), None)
                        else:
                            self._cache.pop(data, None)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away: serve uncached until we are back
                pass
            finally:
                self._listening = False
                self._cache.clear()
                self._accounts.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(0.5)

    async def _invalidate(self, token_hash: bytes | None) -> None:
        if token_hash is None:
            return
        self._cache.pop(token_hash.decode(), None)
        with _guarded():
            await self._redis.publish(self._channel, token_hash)

    async def get_server(self, server_id: str) -> ServerRecord | None:
        with _guarded():
            raw, last_used = await self._redis.hmget(
                self._server(server_id), ["record", "last_used_at"]
            )
        record = self._record(raw, last_used)
        if record is None and raw is not None:
            await self.delete_server(server_id)
        return await self._live(record)

    async def list_servers(self, account: str | None = None) -> list[ServerRecord]:
        with _guarded():
            if account is None:
                index = await self._redis.hgetall(self._index())
                members = [(k.decode(), v.decode()) for k, v in index.items()]
            else:
                ids = await self._redis.smembers(self._account(account))
                members = [(i.decode(), account) for i in ids]
        live, _ = await self._collect(members)
        return sorted(live, key=lambda r: (r.created_at, r.id))

    async def update_server(self, record: ServerRecord) -> bool:
        server_key, tokens_key = self._server(record.id), self._server_apitokens(record.id)

        async def body(pipe: Pipeline) -> bool:
            raw, token_hash, last_used = await pipe.hmget(
                server_key, ["record", "token", "last_used_at"]
            )
            current = self._record(raw, last_used)
            if current is None or current.expired() or token_hash is None:
                return False
            api_tokens = await pipe.hvals(tokens_key)
            # Same fields as the SQLite store may change; id, account, created_at stay.
            updated = current.model_copy(
                update={
                    "name": record.name,
                    "config": record.config,
                    "expires_at": record.expires_at,
                    "require_api_token_auth": record.require_api_token_auth,
                }
            )
            keys = [server_key, self._token(token_hash.decode()), tokens_key]
            keys += [self._apitoken(orjson.loads(v)["hash"]) for v in api_tokens]
            pipe.multi()
            pipe.hset(
                server_key,
                "record",
                orjson.dumps(updated.model_dump(mode="json", exclude={"last_used_at"})),
            )
            self._expire(pipe, keys, updated.expires_at)
            await pipe.execute()
            changed.append(token_hash)
            return True

        changed: list[bytes] = []
        done = await self._transact([server_key, tokens_key], body)
        for token_hash in changed:
            await self._invalidate(token_hash)
        return done

    async def delete_server(self, server_id: str) -> bool:
        server_key, tokens_key = self._server(server_id), self._server_apitokens(server_id)

        async def body(pipe: Pipeline) -> bool:
            raw, token_hash = await pipe.hmget(server_key, ["record", "token"])
            if raw is None:
                return False
            try:
                account = orjson.loads(raw).get("account")
            except (orjson.JSONDecodeError, AttributeError):
                account = None
            api_tokens = await pipe.hvals(tokens_key)
            approvals = await pipe.zrange(self._server_approvals(server_id), 0, -1)
            pipe.multi()
            pipe.delete(server_key, tokens_key, self._server_approvals(server_id))
            for approval_id in approvals:
                pipe.delete(self._approval(approval_id.decode()))
                pipe.zrem(self._approvals(), approval_id)
            if token_hash is not None:
                pipe.delete(self._token(token_hash.decode()))
            for value in api_tokens:
                pipe.delete(self._apitoken(orjson.loads(value)["hash"]))
            pipe.hdel(self._index(), server_id)
            if isinstance(account, str):
                pipe.srem(self._account(account), server_id)
            await pipe.execute()
            revoked.append(token_hash)
            return True

        revoked: list[bytes | None] = []
        done = await self._transact([server_key, tokens_key], body)
        for token_hash in revoked:
            await self._invalidate(token_hash)
        return done

    async def touch(self, server_id: str, when: datetime) -> None:
        with _guarded():
            await self._touch(keys=[self._server(server_id)], args=[when.isoformat()])

    # --- API tokens (for servers with require_api_token_auth) ---

    async def create_api_token(self, info: ApiTokenInfo, token_hash: str) -> None:
        server_key, tokens_key = (
            self._server(info.server_id),
            self._server_apitokens(info.server_id),
        )
        token_key = self._apitoken(token_hash)

        async def body(pipe: Pipeline) -> None:
            raw, last_used = await pipe.hmget(server_key, ["record", "last_used_at"])
            server = self._record(raw, last_used)
            if server is None or server.expired():
                raise LookupError(f"no server {info.server_id}")
            if await pipe.exists(token_key) or await pipe.hexists(tokens_key, info.id):
                raise ValueError("an API token with this id or hash already exists")
            pipe.multi()
            pipe.set(token_key, orjson.dumps({"server": info.server_id, "id": info.id}))
            pipe.hset(
                tokens_key,
                info.id,
                orjson.dumps({"hash": token_hash, "created_at": info.created_at.isoformat()}),
            )
            # The token lives exactly as long as its server.
            if server.expires_at is not None:
                self._expire(pipe, [token_key, tokens_key], server.expires_at)
            await pipe.execute()

        await self._transact([server_key, tokens_key, token_key], body)

    async def check_api_token(self, server_id: str, token_hash: str) -> bool:
        with _guarded():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._apitoken(token_hash))
                pipe.hmget(self._server(server_id), ["record", "last_used_at"])
                value, (raw, last_used) = await pipe.execute()
        if value is None or orjson.loads(value)["server"] != server_id:
            return False
        return await self._live(self._record(raw, last_used)) is not None

    async def list_api_tokens(self, server_id: str) -> list[ApiTokenInfo]:
        with _guarded():
            values = await self._redis.hgetall(self._server_apitokens(server_id))
        tokens = [
            ApiTokenInfo(
                id=token_id.decode(),
                server_id=server_id,
                created_at=orjson.loads(value)["created_at"],
            )
            for token_id, value in values.items()
        ]
        return sorted(tokens, key=lambda t: (t.created_at, t.id))

    async def delete_api_token(self, server_id: str, token_id: str) -> bool:
        tokens_key = self._server_apitokens(server_id)

        async def body(pipe: Pipeline) -> bool:
            value = await pipe.hget(tokens_key, token_id)
            if value is None:
                return False
            pipe.multi()
            pipe.delete(self._apitoken(orjson.loads(value)["hash"]))
            pipe.hdel(tokens_key, token_id)
            await pipe.execute()
            return True

        return await self._transact([tokens_key], body)

    async def api_token_id(self, server_id: str, token_hash: str) -> str | None:
        with _guarded():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._apitoken(token_hash))
                pipe.hmget(self._server(server_id), ["record", "last_used_at"])
                value, (raw, last_used) = await pipe.execute()
        if value is None:
            return None
        found = orjson.loads(value)
        if found["server"] != server_id or await self._live(self._record(raw, last_used)) is None:
            return None
        return found["id"]

    async def api_token_alive(self, server_id: str, token_id: str) -> bool:
        with _guarded():
            return bool(await self._redis.hexists(self._server_apitokens(server_id), token_id))

    # --- OAuth records: plain keys with Redis's own expiry ---
    # A grant names its API token and is refused once that token is gone (`api_token_alive`),
    # so a revocation ends it on every instance at once; the key itself goes at its TTL.

    def _oauth(self, kind: str, key: str) -> str:
        return f"{self.prefix}oauth:{kind}:{key}"

    async def put_oauth(
        self,
        kind: str,
        key: str,
        data: dict[str, Any],
        expires_at: datetime,
        api_token_id: str | None = None,
    ) -> None:
        with _guarded():
            await self._redis.set(self._oauth(kind, key), orjson.dumps(data), pxat=_ms(expires_at))

    async def get_oauth(self, kind: str, key: str) -> dict[str, Any] | None:
        with _guarded():
            raw = await self._redis.get(self._oauth(kind, key))
        return orjson.loads(raw) if raw is not None else None

    async def take_oauth(self, kind: str, key: str) -> dict[str, Any] | None:
        with _guarded():
            raw = await self._redis.getdel(self._oauth(kind, key))
        return orjson.loads(raw) if raw is not None else None

    async def delete_oauth(self, kind: str, key: str) -> bool:
        with _guarded():
            return bool(await self._redis.delete(self._oauth(kind, key)))

    # --- approvals: one JSON key each, indexed newest first per server and overall ---

    def _approval(self, approval_id: str) -> str:
        return f"{self.prefix}approval:{approval_id}"

    def _server_approvals(self, server_id: str) -> str:
        return f"{self.prefix}server-approvals:{server_id}"

    def _approvals(self) -> str:
        return f"{self.prefix}approvals"

    async def create_approval(self, record: ApprovalRecord) -> None:
        score = record.created_at.timestamp()
        until = _ms(record.expires_at) + APPROVAL_RETENTION_SECONDS * 1000
        with _guarded():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._approval(record.id), record.model_dump_json(), pxat=until)
                pipe.zadd(self._server_approvals(record.server_id), {record.id: score})
                pipe.zadd(self._approvals(), {record.id: score})
                await pipe.execute()

    async def get_approval(self, approval_id: str) -> ApprovalRecord | None:
        with _guarded():
            raw = await self._redis.get(self._approval(approval_id))
        return ApprovalRecord.model_validate_json(raw).current() if raw is not None else None

    async def _approvals_in(self, index: str) -> list[ApprovalRecord]:
        with _guarded():
            ids = await self._redis.zrevrange(index, 0, -1)
            raws = await self._redis.mget([self._approval(i.decode()) for i in ids]) if ids else []
            gone = [i for i, raw in zip(ids, raws, strict=True) if raw is None]
            if gone:  # expired by Redis: drop them from the index too
                await self._redis.zrem(index, *gone)
        return [ApprovalRecord.model_validate_json(raw).current() for raw in raws if raw]

    async def list_approvals(self, server_id: str | None = None) -> list[ApprovalRecord]:
        index = self._server_approvals(server_id) if server_id else self._approvals()
        return await self._approvals_in(index)

    async def find_approval(self, server_id: str, arguments_hash: str) -> ApprovalRecord | None:
        for record in await self._approvals_in(self._server_approvals(server_id)):
            if record.arguments_hash == arguments_hash and record.status != "done":
                return record
        return None

    async def set_approval(
        self, approval_id: str, expected: tuple[str, ...], **changes: Any
    ) -> ApprovalRecord | None:
        key = self._approval(approval_id)

        async def body(pipe: Pipeline) -> ApprovalRecord | None:
            raw = await pipe.get(key)
            if raw is None:
                return None
            record = ApprovalRecord.model_validate_json(raw).current()
            if record.status not in expected:
                return None
            updated = record.model_copy(update=changes)
            pipe.multi()
            pipe.set(key, updated.model_dump_json(), keepttl=True)
            await pipe.execute()
            return updated

        return await self._transact([key], body)

    # --- integrated accounts (created through the admin API) ---

    @staticmethod
    def _account_record(raw: bytes | None) -> AccountRecord | None:
        if raw is None:
            return None
        try:
            return AccountRecord.model_validate_json(raw)
        except ValidationError:
            log.warning("an account record in Redis is unreadable; it is treated as absent")
            return None

    async def _invalidate_account(self, account_id: str) -> None:
        self._accounts.pop(account_id, None)
        with _guarded():
            await self._redis.publish(self._channel, f"{_ACCOUNT_MESSAGE}{account_id}")

    async def create_account(self, record: AccountRecord) -> None:
        key = self._integrated(record.id)

        async def body(pipe: Pipeline) -> None:
            if await pipe.exists(key):
                raise AccountExists(f"an account {record.id!r} already exists")
            pipe.multi()
            pipe.set(key, record.model_dump_json())
            pipe.sadd(self._integrated_index(), record.id)
            await pipe.execute()

        await self._transact([key], body)
        # Nothing can have cached it, but an instance may hold a deleted namesake.
        await self._invalidate_account(record.id)

    async def get_account(self, account_id: str) -> AccountRecord | None:
        caching = self._cache_seconds > 0
        if caching:
            self._start_listener()
            hit = self._accounts.get(account_id)
            if hit is not None and self._listening:
                fetched, cached = hit
                if time.monotonic() - fetched < self._cache_seconds:
                    return cached.model_copy(deep=True)
        with _guarded():
            raw = await self._redis.get(self._integrated(account_id))
        record = self._account_record(raw)
        if record is not None and caching and self._listening:
            self._accounts[account_id] = (time.monotonic(), record.model_copy(deep=True))
        return record

    async def list_accounts(self) -> list[AccountRecord]:
        with _guarded():
            ids = sorted(i.decode() for i in await self._redis.smembers(self._integrated_index()))
            raws = await self._redis.mget([self._integrated(i) for i in ids]) if ids else []
        records = [r for r in map(self._account_record, raws) if r is not None]
        return sorted(records, key=lambda r: (r.created_at, r.id))

    async def update_account(self, record: AccountRecord) -> bool:
        key = self._integrated(record.id)

        async def body(pipe: Pipeline) -> bool:
            current = self._account_record(await pipe.get(key))
            if current is None:
                return False
            updated = record.model_copy(update={"created_at": current.created_at})
            pipe.multi()
            pipe.set(key, updated.model_dump_json())
            await pipe.execute()
            return True

        done = await self._transact([key], body)
        if done:
            await self._invalidate_account(record.id)
        return done

    async def delete_account(self, account_id: str) -> bool:
        """One MULTI/EXEC takes the account, its servers, their tokens and API tokens, and
        the index entries; WATCH retries it if a server of the account changes meanwhile."""
        key, servers_key = self._integrated(account_id), self._account(account_id)

        async def body(pipe: Pipeline) -> bool:
            if not await pipe.exists(key):
                return False
            server_ids = sorted(s.decode() for s in await pipe.smembers(servers_key))
            per_server = [(self._server(s), self._server_apitokens(s)) for s in server_ids]
            if per_server:
                await pipe.watch(*(k for pair in per_server for k in pair))
            doomed: list[str] = [key, servers_key]
            hashes: list[bytes] = []
            approvals: list[bytes] = []
            for server_id in server_ids:
                approvals += await pipe.zrange(self._server_approvals(server_id), 0, -1)
                doomed.append(self._server_approvals(server_id))
            doomed += [self._approval(a.decode()) for a in approvals]
            for server_key, tokens_key in per_server:
                token_hash = await pipe.hget(server_key, "token")
                doomed += [server_key, tokens_key]
                if token_hash is not None:
                    hashes.append(token_hash)
                    doomed.append(self._token(token_hash.decode()))
                for value in await pipe.hvals(tokens_key):
                    doomed.append(self._apitoken(orjson.loads(value)["hash"]))
            pipe.multi()
            pipe.delete(*doomed)
            if approvals:
                pipe.zrem(self._approvals(), *approvals)
            pipe.srem(self._integrated_index(), account_id)
            if server_ids:
                pipe.hdel(self._index(), *server_ids)
            await pipe.execute()
            revoked.extend(hashes)
            return True

        revoked: list[bytes] = []
        done = await self._transact([key, servers_key], body)
        if done:
            await self._invalidate_account(account_id)
            for token_hash in revoked:
                await self._invalidate(token_hash)
        return done

    # --- admin tokens ---

    async def create_admin_token(self, token_id: str, token_hash: str) -> None:
        hash_key, id_key = self._admintoken(token_hash), self._admintoken_id(token_id)

        async def body(pipe: Pipeline) -> None:
            # Overwriting an id would leave the old hash valid with nothing pointing at it.
            if await pipe.exists(hash_key, id_key):
                raise ValueError("an admin token with this id or hash already exists")
            pipe.multi()
            pipe.set(hash_key, token_id)
            pipe.set(id_key, orjson.dumps({"hash": token_hash, "created_at": utcnow().isoformat()}))
            await pipe.execute()

        await self._transact([hash_key, id_key], body)

    async def check_admin_token(self, token_hash: str) -> bool:
        with _guarded():
            return bool(await self._redis.exists(self._admintoken(token_hash)))

    async def delete_admin_token(self, token_id: str) -> bool:
        id_key = self._admintoken_id(token_id)

        async def body(pipe: Pipeline) -> bool:
            value = await pipe.get(id_key)
            if value is None:
                return False
            pipe.multi()
            pipe.delete(id_key, self._admintoken(orjson.loads(value)["hash"]))
            await pipe.execute()
            return True

        return await self._transact([id_key], body)

    # --- housekeeping ---

    async def sweep(self) -> int:
        """Prune index entries of servers Redis already expired, delete skew-expired ones."""
        members: list[tuple[str, str]] = []
        with _guarded():
            async for server_id, account in self._redis.hscan_iter(self._index()):
                members.append((server_id.decode(), account.decode()))
        _, gone = await self._collect(members)
        return gone

    async def ping(self) -> None:
        with _guarded():
            await self._redis.ping()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()
