"""Creating MCP servers: one code path for the CLI and the admin API."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .accounts import load_accounts
from .errors import YamcpError
from .policy import Policy
from .settings import Settings
from .store import ServerRecord, Store, open_store, utcnow
from .tokens import hash_token, new_id, new_token


class UnknownAccount(YamcpError):
    pass


class InvalidServer(YamcpError):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class ServerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    config: Policy = Policy()
    expires_at: datetime | None = None
    require_api_token_auth: bool = False

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-12-31T00:00:00Z")
        return value.astimezone(UTC) if value is not None else None


class CreatedServer(BaseModel):
    """The answer to a creation: the only time the URL is ever shown."""

    id: str
    name: str
    config: Policy
    expires_at: datetime | None
    url: str


async def create_server(
    store: Store, settings: Settings, account: str, request: ServerRequest
) -> CreatedServer:
    if request.expires_at is not None and request.expires_at <= utcnow():
        raise InvalidServer("expires_at", "is in the past")
    token = new_token()
    record = ServerRecord(
        id=new_id("srv"),
        name=request.name,
        account=account,
        config=request.config,
        expires_at=request.expires_at,
        require_api_token_auth=request.require_api_token_auth,
        created_at=utcnow(),
    )
    await store.create_server(record, hash_token(token))
    return CreatedServer(
        id=record.id,
        name=record.name,
        config=record.config,
        expires_at=record.expires_at,
        url=f"{settings.public_base_url.rstrip('/')}/mcp/{token}",
    )


async def mint(settings: Settings, account: str, request: ServerRequest) -> CreatedServer:
    """Create a server from the command line, against the configured store."""
    accounts = load_accounts(settings.accounts_file, resolve=False)
    if account not in accounts:
        known = ", ".join(sorted(accounts)) or "none"
        raise UnknownAccount(f"no account {account!r} in {settings.accounts_file} (have: {known})")
    store = open_store(settings)
    try:
        return await create_server(store, settings, account, request)
    finally:
        await store.close()
