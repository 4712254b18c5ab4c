"""Redis records that stand alone beside the servers: OAuth state, approvals and admin
tokens (see proxy/store/redis.py for the key layout)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from redis.asyncio.client import Pipeline

from .base import (
    APPROVAL_RETENTION_SECONDS,
    ApprovalRecord,
    utcnow,
)
from .redis_core import RedisCore, guarded, ms


class RedisRecords(RedisCore):
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
        with guarded():
            await self._redis.set(self._oauth(kind, key), orjson.dumps(data), pxat=ms(expires_at))

    async def get_oauth(self, kind: str, key: str) -> dict[str, Any] | None:
        with guarded():
            raw = await self._redis.get(self._oauth(kind, key))
        return orjson.loads(raw) if raw is not None else None

    async def take_oauth(self, kind: str, key: str) -> dict[str, Any] | None:
        with guarded():
            raw = await self._redis.getdel(self._oauth(kind, key))
        return orjson.loads(raw) if raw is not None else None

    async def delete_oauth(self, kind: str, key: str) -> bool:
        with guarded():
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
        until = ms(record.expires_at) + APPROVAL_RETENTION_SECONDS * 1000
        with guarded():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._approval(record.id), record.model_dump_json(), pxat=until)
                pipe.zadd(self._server_approvals(record.server_id), {record.id: score})
                pipe.zadd(self._approvals(), {record.id: score})
                await pipe.execute()

    async def get_approval(self, approval_id: str) -> ApprovalRecord | None:
        with guarded():
            raw = await self._redis.get(self._approval(approval_id))
        return ApprovalRecord.model_validate_json(raw).current() if raw is not None else None

    async def _approvals_in(self, index: str) -> list[ApprovalRecord]:
        with guarded():
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
        with guarded():
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
