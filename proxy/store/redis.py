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
import time
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError
from redis.asyncio.client import Pipeline

from ..errors import AccountExists
from .base import (
    AccountRecord,
    ApiTokenInfo,
    ServerRecord,
)
from .redis_core import guarded, ms
from .redis_records import RedisRecords

_ACCOUNT_MESSAGE = "account:"
log = logging.getLogger("yamcp")


class RedisStore(RedisRecords):
    """Servers, API tokens and integrated accounts; RedisRecords and RedisCore hold the
    rest (records that stand alone; the connection, keys and transactions)."""

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
                pipe.pexpireat(key, ms(expires_at))

    async def _live(self, record: ServerRecord | None) -> ServerRecord | None:
        # Redis drops expired keys itself; this covers clock skew between us and Redis.
        if record is not None and record.expired():
            await self.delete_server(record.id)
            return None
        return record

    async def _collect(self, members: list[tuple[str, str]]) -> tuple[list[ServerRecord], int]:
        """Live records of (id, account) index members; prunes the dead. Returns (live, gone)."""
        with guarded():
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
            with guarded():
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
        with guarded():
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
        with guarded():
            await self._redis.publish(self._channel, token_hash)

    async def get_server(self, server_id: str) -> ServerRecord | None:
        with guarded():
            raw, last_used = await self._redis.hmget(
                self._server(server_id), ["record", "last_used_at"]
            )
        record = self._record(raw, last_used)
        if record is None and raw is not None:
            await self.delete_server(server_id)
        return await self._live(record)

    async def list_servers(self, account: str | None = None) -> list[ServerRecord]:
        with guarded():
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
        with guarded():
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
        with guarded():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._apitoken(token_hash))
                pipe.hmget(self._server(server_id), ["record", "last_used_at"])
                value, (raw, last_used) = await pipe.execute()
        if value is None or orjson.loads(value)["server"] != server_id:
            return False
        return await self._live(self._record(raw, last_used)) is not None

    async def list_api_tokens(self, server_id: str) -> list[ApiTokenInfo]:
        with guarded():
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
        with guarded():
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
        with guarded():
            return bool(await self._redis.hexists(self._server_apitokens(server_id), token_id))

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
        with guarded():
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
        with guarded():
            raw = await self._redis.get(self._integrated(account_id))
        record = self._account_record(raw)
        if record is not None and caching and self._listening:
            self._accounts[account_id] = (time.monotonic(), record.model_copy(deep=True))
        return record

    async def list_accounts(self) -> list[AccountRecord]:
        with guarded():
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

    # --- housekeeping ---

    async def sweep(self) -> int:
        """Prune index entries of servers Redis already expired, delete skew-expired ones."""
        members: list[tuple[str, str]] = []
        with guarded():
            async for server_id, account in self._redis.hscan_iter(self._index()):
                members.append((server_id.decode(), account.decode()))
        _, gone = await self._collect(members)
        return gone

    async def ping(self) -> None:
        with guarded():
            await self._redis.ping()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()
