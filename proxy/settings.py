"""Settings, read from `YAMCP_*` environment variables (and a `.env` file if present)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Listen addresses that mean "every interface": no client can connect to them as such.
_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"}


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YAMCP_", env_file=".env", extra="ignore")

    integrations_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [Path("integrations")],
        description="Comma-separated folders holding `<integration>/manifest.yaml`.",
    )
    accounts_file: Path = Field(Path("accounts.yaml"), description="The integrated accounts.")
    policies_dir: Path = Field(Path("policies"), description="Guardrails and named policies.")
    data_dir: Path = Field(Path("data"), description="Where the SQLite store lives.")
    store_url: str | None = Field(
        None, description="`redis://host:port/db` to share MCP servers between instances."
    )
    store_prefix: str = Field("yamcp:", description="Prefix of every Redis key yamcp writes.")
    token_cache_seconds: float = Field(
        2.0,
        ge=0,
        description="Redis only: cache token lookups in the process for at most this long "
        "(revocations still reach every instance at once through pub/sub); 0 turns it off.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Seals the credentials of accounts created through the admin API: "
        "base64url of 32 random bytes; comma-separated, the first seals and all open "
        "(rotation). Unset, with no key file: one is generated into the data folder.",
    )
    secret_key_file: Path | None = Field(
        None, description="A file of such keys, one a line, the first primary."
    )
    public_base_url: str | None = Field(
        None,
        description="Base of the MCP server URLs handed to users. Unset: `http://{host}:{port}`, "
        "where `yamcp serve` listens (127.0.0.1 for a wildcard host such as 0.0.0.0 or ::, "
        "which only this machine reaches); clients elsewhere need it set.",
    )
    host: str = Field("127.0.0.1", description="Where `yamcp serve` listens.")
    port: int = Field(8000, description="The port `yamcp serve` listens on.")
    workers: int = Field(1, ge=1, description="uvicorn worker processes for `yamcp serve`.")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names accepted in `Host` besides the public URL's and loopback.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Browser origins allowed to call the MCP endpoint."
    )
    max_request_bytes: int = Field(64 * 1024 * 1024, description="Largest MCP request body.")
    request_body_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds a client may take to send its request body (408 after). "
        "Slow headers are the front proxy's to bound (docs: deploying).",
    )
    call_deadline: float = Field(
        60.0,
        gt=0,
        description="Seconds one tool call may spend upstream in all, lookups included, "
        "however the bytes trickle in.",
    )
    max_upstream_bytes: int = Field(
        16 * 1024 * 1024, description="Largest upstream response body read."
    )
    connect_timeout: float = Field(5.0, description="Seconds to connect to an upstream.")
    read_timeout: float = Field(30.0, description="Seconds to wait for upstream bytes.")
    max_connections: int = Field(
        1000,
        ge=1,
        description="Upstream connection pool size, per worker: the most upstream requests "
        "in flight at once.",
    )
    pool_timeout: float = Field(
        5.0,
        gt=0,
        description="Seconds a call may wait for a pooled connection when all are busy; "
        "past that it fails as not sent.",
    )
    shutdown_grace_seconds: float = Field(
        30.0, description="On SIGTERM, how long in-flight calls may take to finish."
    )
    admin_ui: bool = Field(
        False, description="Serve the MCP Servers admin page at /admin (404 when off)."
    )
    oauth_clients_file: Path = Field(
        Path("oauth-clients.yaml"),
        description="OAuth clients an operator registers by hand (optional; docs: security).",
    )
    oauth_access_token_seconds: int = Field(
        3600, ge=1, description="Lifetime of an OAuth access token; a client refreshes it."
    )
    oauth_refresh_token_seconds: int = Field(
        30 * 86400,
        ge=60,
        description="Lifetime of an OAuth sign-in (its refresh tokens), never past the "
        "server's own expiry.",
    )
    oauth_metadata_allow_private: bool = Field(
        False,
        description="Fetch Client ID Metadata Documents from private and loopback addresses "
        "too (for tests; never in production).",
    )
    oauth_metadata_ca_file: Path | None = Field(
        None, description="Extra CA (PEM) trusted when fetching Client ID Metadata Documents."
    )
    approval_webhook: str | None = Field(
        None,
        description="Receives a JSON POST (Slack `text` included) for each new approval "
        "request: ids, tool, a one-line summary and the link, never a secret or a body.",
    )
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"

    @property
    def public_url(self) -> str:
        """The base of minted URLs: `public_base_url`, or else where `yamcp serve` listens
        (the CLI reads the same `YAMCP_HOST` / `YAMCP_PORT`, so both mint the same URL)."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = self.host.strip("[]")
        if host in _WILDCARD_HOSTS:
            host = "127.0.0.1"  # a wildcard is no address to connect to; loopback is
        if ":" in host:
            host = f"[{host}]"  # an IPv6 literal
        return f"http://{host}:{self.port}"

    @field_validator("integrations_dirs", "allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return _split(value)
