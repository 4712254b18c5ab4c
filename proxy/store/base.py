"""What a store keeps: MCP servers keyed by the hash of their token, API and admin tokens,
and the integrated accounts created through the admin API (credentials sealed).

No store ever sees a token itself: callers hash first (`proxy.tokens.hash_token`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

METHOD_WORDS = ("read", "write", "list", "get", "create", "update", "delete")

# How many entries each in-process cache keeps (resolved servers, opened accounts, decided
# views); past it the least recently used goes, never the whole cache at once.
CACHED = 10_000


def check_methods(value: list[str]) -> list[str]:
    """The method words a policy may name, or ValueError naming the others."""
    unknown = [m for m in value if m not in METHOD_WORDS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; use {list(METHOD_WORDS)}")
    return value


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> float:
    """`90`, `30s`, `15m`, `2h` or `1d` as seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ValueError(f"{value!r} is not a duration; use e.g. 90s, 15m, 2h or 1d")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not 0 < seconds <= 7 * 86400:
        raise ValueError("a duration must be more than 0 and at most 7 days")
    return seconds


class ApprovalRule(BaseModel):
    """Which tools need a person's approval for each call: those matching any list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    methods: list[str] = Field(
        default_factory=list, description="read, write, or list/get/create/update/delete."
    )
    tags: list[str] = Field(default_factory=list, description="A tool with any of these tags.")
    tools: list[str] = Field(default_factory=list, description="Tool names or globs.")
    expires_in: float = Field(
        900.0,
        description="How long a request waits for a decision: seconds, or 30s, 15m, 2h, 1d "
        "(default 15 minutes).",
    )

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: list[str]) -> list[str]:
        return check_methods(value)

    @field_validator("expires_in", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)

    @model_validator(mode="after")
    def _matches_something(self) -> ApprovalRule:
        if not (self.methods or self.tags or self.tools):
            raise ValueError("approval needs methods, tags or tools to match")
        return self


class ServerConfig(BaseModel):
    """What a server may do: a named policy, or methods/tags/constraints inline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    methods: list[str] = Field(
        default_factory=list,
        description="read, write, or method types list/get/create/update/delete; empty: all.",
    )
    tags: list[str] = Field(
        default_factory=list, description="A tool needs one of these tags; empty: any."
    )
    policy: str | None = Field(None, description="Name of a policy file in the policies folder.")
    constraints: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="Per tool (glob), per argument: enum or pattern."
    )
    approval: ApprovalRule | None = Field(
        None, description="Tools whose every call waits for a person's approval."
    )
    tool_exposure: Literal["all", "discovery"] | None = Field(
        None,
        description="all: tools/list has every tool; discovery: three tools that search, "
        "describe and call them (default: the policy's, else all).",
    )

    def public(self) -> dict[str, Any]:
        """The config as the admin API shows it: `{methods, tags}`, plus what is set."""
        data: dict[str, Any] = {"methods": self.methods, "tags": self.tags}
        if self.policy is not None:
            data["policy"] = self.policy
        if self.constraints:
            data["constraints"] = self.constraints
        if self.approval is not None:
            data["approval"] = self.approval.model_dump()
        if self.tool_exposure is not None:
            data["tool_exposure"] = self.tool_exposure
        return data

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: list[str]) -> list[str]:
        return check_methods(value)

    @model_validator(mode="after")
    def _policy_or_inline(self) -> ServerConfig:
        if self.policy is not None and (self.methods or self.tags):
            raise ValueError("give either `policy` or `methods`/`tags`, not both")
        return self


class ServerRecord(BaseModel):
    """An MCP server: one account, one policy. Its token is never part of it."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    account: str
    config: ServerConfig
    expires_at: datetime | None = None
    require_api_token_auth: bool = False
    created_at: datetime
    last_used_at: datetime | None = None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())


class ApiTokenInfo(BaseModel):
    id: str
    server_id: str
    created_at: datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


class AccountRecord(BaseModel):
    """An integrated account created at run time. Its credentials are only ever kept
    sealed (`proxy.secrets.SecretBox`, the account id bound as associated data), and even
    the sealed text stays out of `repr` and `public()`."""

    id: str
    integration: str
    base_url: str | None = None
    settings: dict[str, str] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    sealed_credentials: str = Field(repr=False)
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, Any]:
        """The account as the admin API and the page show it: never its credentials."""
        data = self.model_dump(mode="json", exclude={"sealed_credentials"})
        data["source"] = "api"
        return data


APPROVAL_RETENTION_SECONDS = 7 * 86400  # how long a request is kept after its window
ApprovalStatus = Literal["pending", "approved", "denied", "expired", "executing", "done"]


class ApprovalRecord(BaseModel):
    """One call waiting for (or past) a person's decision. It is bound to the server, the
    tool and the hash of the canonical arguments; the arguments are kept so the person
    sees exactly what will be sent, and go with the record."""

    model_config = ConfigDict(frozen=True)

    id: str
    server_id: str
    account: str
    tool: str
    arguments_hash: str
    arguments: dict[str, Any] = Field(repr=False)
    summary: str
    status: ApprovalStatus = "pending"
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None  # "admin" or "api token tok_..."
    note: str | None = None
    outcome: str | None = None  # the execution's outcome, once sent

    def current(self, now: datetime | None = None) -> ApprovalRecord:
        """The record as of now: a pending request past its time has expired."""
        if self.status == "pending" and self.expires_at <= (now or utcnow()):
            return self.model_copy(update={"status": "expired"})
        return self

    def public(self) -> dict[str, Any]:
        return self.current().model_dump(mode="json")


class Store(Protocol):
    async def create_server(self, record: ServerRecord, token_hash: str) -> None: ...

    async def resolve(self, token_hash: str) -> ServerRecord | None:
        """The live server for a token hash; None when unknown, revoked or expired."""
        ...

    async def get_server(self, server_id: str) -> ServerRecord | None: ...

    async def list_servers(self, account: str | None = None) -> list[ServerRecord]: ...

    async def update_server(self, record: ServerRecord) -> bool:
        """Replace a live server's record (same id and token); False if it is gone."""
        ...

    async def delete_server(self, server_id: str) -> bool:
        """Revoke: the server and its API tokens are gone everywhere at once."""
        ...

    async def touch(self, server_id: str, when: datetime) -> None:
        """Record that the server was used (best effort; callers throttle)."""
        ...

    async def create_api_token(self, info: ApiTokenInfo, token_hash: str) -> None: ...

    async def check_api_token(self, server_id: str, token_hash: str) -> bool: ...

    async def list_api_tokens(self, server_id: str) -> list[ApiTokenInfo]: ...

    async def delete_api_token(self, server_id: str, token_id: str) -> bool: ...

    async def api_token_id(self, server_id: str, token_hash: str) -> str | None:
        """The id of the server's live API token with this hash, or None."""
        ...

    async def api_token_alive(self, server_id: str, token_id: str) -> bool:
        """Whether the server still has this API token: OAuth grants made with it hold
        only while it does, so its revocation ends them on every instance at once."""
        ...

    async def put_oauth(
        self,
        kind: str,
        key: str,
        data: dict[str, Any],
        expires_at: datetime,
        api_token_id: str | None = None,
    ) -> None:
        """Keep an OAuth record (a client, a code, an access or refresh token) under
        `kind` and the hash `key` until `expires_at`. One made with an API token goes
        when that token, its server or its account goes."""
        ...

    async def get_oauth(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def take_oauth(self, kind: str, key: str) -> dict[str, Any] | None:
        """Get and delete in one step: of two concurrent takers only one gets it, which
        makes codes single-use and refresh tokens rotate."""
        ...

    async def delete_oauth(self, kind: str, key: str) -> bool: ...

    async def create_admin_token(self, token_id: str, token_hash: str) -> None: ...

    async def check_admin_token(self, token_hash: str) -> bool: ...

    async def delete_admin_token(self, token_id: str) -> bool: ...

    async def create_account(self, record: AccountRecord) -> None:
        """AccountExists if the id is taken."""
        ...

    async def get_account(self, account_id: str) -> AccountRecord | None: ...

    async def list_accounts(self) -> list[AccountRecord]:
        """Sorted by created_at, then id."""
        ...

    async def update_account(self, record: AccountRecord) -> bool:
        """Replace the whole record (created_at stays); False if it does not exist."""
        ...

    async def delete_account(self, account_id: str) -> bool:
        """The account, every MCP server of it and their API tokens, gone at once."""
        ...

    async def create_approval(self, record: ApprovalRecord) -> None: ...

    async def get_approval(self, approval_id: str) -> ApprovalRecord | None: ...

    async def list_approvals(self, server_id: str | None = None) -> list[ApprovalRecord]:
        """Newest first; of one server, or of all."""
        ...

    async def find_approval(self, server_id: str, arguments_hash: str) -> ApprovalRecord | None:
        """The newest request of the server for these arguments that is not done."""
        ...

    async def set_approval(
        self, approval_id: str, expected: tuple[str, ...], **changes: Any
    ) -> ApprovalRecord | None:
        """Change a request only if its status is one of `expected` (and a pending one has
        not expired), atomically: of two deciders, or of ten identical calls claiming one
        approval, exactly one wins. Returns the new record, or None."""
        ...

    async def sweep(self) -> int:
        """Delete expired records; lookups refuse them anyway. Returns how many went."""
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailable if the store cannot answer."""
        ...

    async def close(self) -> None: ...
