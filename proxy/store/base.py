"""What a store keeps: MCP server records, keyed by the hash of their token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from ..policy import Policy


class StoreUnavailable(Exception):
    """The store cannot be reached; callers answer 503 and try again later."""


class ServerRecord(BaseModel):
    """An MCP server: one account, one policy. Its token is never part of it."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    account: str
    config: Policy
    expires_at: datetime | None = None
    require_api_token_auth: bool = False
    created_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store(Protocol):
    async def create_server(self, record: ServerRecord, token_hash: str) -> None: ...

    async def resolve(self, token_hash: str) -> ServerRecord | None:
        """The live server for a token hash; None when unknown, revoked or expired."""
        ...

    async def get_server(self, server_id: str) -> ServerRecord | None: ...

    async def list_servers(self, account: str | None = None) -> list[ServerRecord]: ...

    async def delete_server(self, server_id: str) -> bool: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
