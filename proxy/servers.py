"""The MCP server lifecycle: create, update, revoke, API tokens. One code path for the
CLI and the admin API, so both refuse the same things with the same words."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
)

from .errors import ConfigError, YamcpError
from .policy import PolicySet, compile_rules, plan
from .settings import Settings
from .store import ApiTokenInfo, ServerConfig, ServerRecord, Store, utcnow
from .tokens import hash_token, new_id, new_token
from .tools import Tool

CHATGPT_NOTE = (
    "ChatGPT and claude.ai connect with OAuth: pick OAuth in the connector and sign in "
    "with this token; mcp-remote, agent frameworks and the SDKs send it as "
    "Authorization: Bearer."
)


class UnknownAccount(YamcpError):
    pass


class InvalidServer(YamcpError):
    """A request the lifecycle refuses; `field` names what to fix."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2026-12-31T00:00:00Z")
    return value.astimezone(UTC) if value is not None else None


class ServerRequest(BaseModel):
    """`{"name","config":{"methods","tags"},"expires_at","require_api_token_auth"}`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    config: ServerConfig = ServerConfig()
    expires_at: datetime | None = None
    require_api_token_auth: bool = False

    @field_validator("expires_at")
    @classmethod
    def _expires_aware(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class ServerPatch(BaseModel):
    """A partial update; absent fields stay as they are. Only `expires_at` may be null
    (no expiry of its own); a null anywhere else is refused, not stored."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    config: ServerConfig | None = None
    expires_at: datetime | None = None
    require_api_token_auth: bool | None = None

    @field_validator("expires_at")
    @classmethod
    def _expires_aware(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    @field_validator("name", "config", "require_api_token_auth", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep it")
        return value


class CreatedServer(BaseModel):
    """The answer to a creation: the only time the URL is ever shown."""

    id: str
    name: str
    config: ServerConfig
    expires_at: datetime | None
    require_api_token_auth: bool = False
    url: str

    @field_serializer("config")
    def _config(self, config: ServerConfig) -> dict[str, Any]:
        return config.public()


class ServerInfo(BaseModel):
    """A server as listed: everything but its URL, which is never shown again."""

    id: str
    name: str
    account: str
    config: ServerConfig
    expires_at: datetime | None
    require_api_token_auth: bool
    created_at: datetime
    last_used_at: datetime | None

    @field_serializer("config")
    def _config(self, config: ServerConfig) -> dict[str, Any]:
        return config.public()

    @classmethod
    def of(cls, record: ServerRecord, policies: PolicySet) -> ServerInfo:
        """The server as it really runs: `expires_at` is the earliest of its own expiry,
        its named policy's and the guardrail's lifetime."""
        return cls.model_validate({**record.model_dump(), "expires_at": policies.expiry(record)})


def _check(
    policies: PolicySet,
    config: ServerConfig,
    expires_at: datetime | None,
    now: datetime,
    created_at: datetime | None = None,
) -> datetime | None:
    """Refuse what the guardrails refuse, and constraints that cannot compile; return
    the expiry to store."""
    if config.policy is not None:
        named = policies.named.get(config.policy)
        if named is None:
            known = ", ".join(sorted(policies.named)) or "none"
            raise InvalidServer("config.policy", f"no policy {config.policy!r} (have: {known})")
        if named.expires_at is not None and named.expires_at <= now:
            raise InvalidServer(
                "config.policy",
                f"policy {config.policy!r} expired at {named.expires_at.isoformat()}",
            )
    check_constraints(config)
    if expires_at is not None and expires_at <= now:
        raise InvalidServer("expires_at", "is in the past")
    days = policies.guardrails.max_lifetime_days
    if days is not None:
        latest = (created_at or now) + timedelta(days=days)
        if expires_at is None:
            return latest
        if expires_at > latest:
            raise InvalidServer(
                "expires_at",
                f"is beyond the guardrail's longest lifetime of {days:g} days "
                f"(latest allowed: {latest.isoformat()})",
            )
    return expires_at


async def create_server(
    store: Store,
    settings: Settings,
    policies: PolicySet,
    account: str,
    request: ServerRequest,
) -> CreatedServer:
    now = utcnow()
    expires_at = _check(policies, request.config, request.expires_at, now)
    token = new_token()
    record = ServerRecord(
        id=new_id("srv"),
        name=request.name,
        account=account,
        config=request.config,
        expires_at=expires_at,
        require_api_token_auth=request.require_api_token_auth,
        created_at=now,
    )
    await store.create_server(record, hash_token(token))
    return CreatedServer(
        id=record.id,
        name=record.name,
        config=record.config,
        expires_at=policies.expiry(record),
        require_api_token_auth=record.require_api_token_auth,
        url=f"{settings.public_url}/mcp/{token}",
    )


def preview_server(
    policies: PolicySet,
    tools: Iterable[Tool],
    account: str,
    config: ServerConfig,
    require_api_token_auth: bool,
) -> dict[str, Any]:
    """What a server with this config would expose of `tools` (its account's integration),
    and why each other tool is left out: `plan`'s answer, guardrails applied."""
    record = ServerRecord(
        id="preview",
        name="preview",
        account=account,
        config=config,
        require_api_token_auth=require_api_token_auth,
        created_at=utcnow(),
    )
    return plan(policies, policies.effective(config, record), tools)


def check_constraints(config: ServerConfig) -> None:
    """Compile a config's constraints now, so that a rule no request could run under is a
    422 naming it, never a server whose every request fails."""
    try:
        compile_rules(config.constraints, "server config", "config")
    except ConfigError as exc:
        raise InvalidServer(f"config.{exc.path}", exc.reason) from None


async def update_server(
    store: Store, policies: PolicySet, record: ServerRecord, patch: ServerPatch
) -> ServerRecord:
    changes = patch.model_dump(exclude_unset=True)
    config = patch.config if patch.config is not None else record.config
    expires_at = changes.get("expires_at", record.expires_at)
    if "expires_at" in changes or patch.config is not None:
        expires_at = _check(policies, config, expires_at, utcnow(), record.created_at)
    # The merged record is validated as a whole before any store sees it: model_copy
    # alone would carry a bad value straight into the store.
    try:
        updated = ServerRecord.model_validate(
            {
                **record.model_dump(),
                **{k: v for k, v in changes.items() if k != "config"},
                "config": config,
                "expires_at": expires_at,
            }
        )
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        raise InvalidServer(".".join(map(str, error["loc"])), error["msg"]) from None
    if not await store.update_server(updated):
        raise InvalidServer("id", "no such server (revoked or expired)")
    return updated


async def create_api_token(store: Store, server_id: str) -> tuple[ApiTokenInfo, str]:
    """A new bearer token for a server with API-token auth; the plaintext is shown once."""
    token = new_token()
    info = ApiTokenInfo(id=new_id("tok"), server_id=server_id, created_at=utcnow())
    await store.create_api_token(info, hash_token(token))
    return info, token


async def create_admin_token(store: Store) -> tuple[str, str]:
    token = new_token()
    token_id = new_id("adm")
    await store.create_admin_token(token_id, hash_token(token))
    return token_id, token
