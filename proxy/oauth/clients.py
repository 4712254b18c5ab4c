"""Who a `client_id` is, the three ways clients tell us (MCP authorization, 2026-07-28):

* configured: `oauth-clients.yaml`, reviewed in git like the policies, for a client an
  operator sets up by hand (claude.ai's "client id and secret", an in-house agent);
* a Client ID Metadata Document: the `client_id` is an https URL whose JSON names the
  client and its redirect URIs; fetched with the guards of `fetch_metadata`;
* Dynamic Client Registration (RFC 7591), what ChatGPT and Claude do today: the client
  posts its metadata and gets an id (and, if it asked for one, a secret kept hashed).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import re
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pyreqwest.client import ClientBuilder

from ..config_files import read_yaml, validate_model
from ..errors import ClientError, ConfigError
from ..settings import Settings
from ..store import Store, utcnow
from ..tokens import hash_token, new_token

AuthMethod = Literal["none", "client_secret_post", "client_secret_basic"]
REGISTERED_DAYS = 365  # a registration unused for a year is forgotten; the client registers anew
METADATA_MAX_BYTES = 16 * 1024
METADATA_TIMEOUT = 5.0
METADATA_CACHE_SECONDS = 300.0
# Schemes a browser must never be sent to with a code in hand.
_FORBIDDEN_SCHEMES = {"javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss"}
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_HOST = re.compile(r"([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:.]+\])(:[0-9]{1,5})?")


def redirect_uri_problem(uri: str) -> str | None:
    """Why a redirect URI cannot be registered (RFC 9700 2.1, OAuth 2.1 2.3.1), or None:
    https anywhere, http only to loopback, or a native app's private-use scheme."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "is not a URI"
    scheme = parts.scheme.lower()
    if not scheme or parts.fragment or "#" in uri:
        return "must be an absolute URI without a fragment"
    if any(c.isspace() or ord(c) < 0x20 for c in uri):
        return "must not contain spaces or control characters"
    if scheme in _FORBIDDEN_SCHEMES:
        return f"must not use the {scheme}: scheme"
    if scheme in ("http", "https") and not _HOST.fullmatch(parts.netloc):
        return "must name a plain host (and port)"
    if scheme == "http" and parts.hostname not in _LOOPBACK:
        return "must use https (http only to localhost, 127.0.0.1 or [::1])"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user or password"
    return None


class Client(BaseModel):
    """A client as yamcp knows it, however it registered."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    client_id: str
    client_name: str | None = None
    redirect_uris: list[str] = Field(min_length=1)
    token_endpoint_auth_method: AuthMethod = "none"
    client_secret_sha256: str | None = Field(None, repr=False)
    accounts: list[str] = Field(
        default_factory=list,
        description="Configured clients only: servers of these accounts; empty: any.",
    )
    source: Literal["configured", "metadata", "registered"] = "registered"

    @field_validator("redirect_uris")
    @classmethod
    def _safe_uris(cls, uris: list[str]) -> list[str]:
        for uri in uris:
            problem = redirect_uri_problem(uri)
            if problem:
                raise ValueError(f"redirect URI {uri[:200]!r} {problem}")
        return uris

    @property
    def label(self) -> str:
        return self.client_name or self.client_id

    def secret_ok(self, secret: str | None) -> bool:
        if self.token_endpoint_auth_method == "none":
            return True
        if not secret or not self.client_secret_sha256:
            return False
        return hmac.compare_digest(hash_token(secret), self.client_secret_sha256)


class ConfiguredClient(Client):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_secret_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 (hex) of the client's secret."
    )


class ClientsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    clients: list[ConfiguredClient] = Field(default_factory=list)


def load_clients(file: Path) -> dict[str, Client]:
    """The configured clients; a missing file means none."""
    if not file.exists():
        return {}
    parsed: ClientsFile = validate_model(ClientsFile, read_yaml(file) or {}, str(file))
    clients: dict[str, Client] = {}
    for index, client in enumerate(parsed.clients):
        if client.client_id in clients:
            raise ConfigError(str(file), f"clients[{index}].client_id", "is listed twice")
        if client.token_endpoint_auth_method != "none" and not client.client_secret_sha256:
            raise ConfigError(
                str(file), f"clients[{index}]", "a client_secret method needs client_secret_sha256"
            )
        if is_metadata_url(client.client_id):
            raise ConfigError(
                str(file), f"clients[{index}].client_id", "an https URL is a metadata document id"
            )
        clients[client.client_id] = Client(**{**client.model_dump(), "source": "configured"})
    return clients


class Registration(BaseModel):
    """RFC 7591 client metadata, as far as yamcp uses it; the rest is ignored."""

    model_config = ConfigDict(extra="ignore")

    redirect_uris: list[str] = Field(min_length=1, max_length=20)
    client_name: str | None = Field(None, max_length=200)
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"
    grant_types: list[str] = Field(default_factory=lambda: ["authorization_code"])
    response_types: list[str] = Field(default_factory=lambda: ["code"])
    scope: str | None = None


async def register(store: Store, body: bytes) -> dict[str, object]:
    """RFC 7591 3.2: the client's id (and secret, shown this once), with its metadata."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ClientError("invalid_client_metadata", "The body is not JSON.") from None
    if not isinstance(data, dict):
        raise ClientError("invalid_client_metadata", "The body must be a JSON object.")
    try:
        request = Registration.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ClientError("invalid_client_metadata", f"{where}: {err['msg']}") from None
    for uri in request.redirect_uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise ClientError("invalid_redirect_uri", f"redirect URI {uri[:200]!r} {problem}")
    unsupported = set(request.grant_types) - {"authorization_code", "refresh_token"}
    if unsupported or "authorization_code" not in request.grant_types:
        raise ClientError(
            "invalid_client_metadata",
            "grant_types: yamcp issues authorization_code (and refresh_token) grants only",
        )
    if request.response_types != ["code"]:
        raise ClientError("invalid_client_metadata", 'response_types: only ["code"]')
    secret = None if request.token_endpoint_auth_method == "none" else new_token()
    client = Client(
        client_id=f"yamcp-{new_token()[:22]}",
        client_name=request.client_name,
        redirect_uris=request.redirect_uris,
        token_endpoint_auth_method=request.token_endpoint_auth_method,
        client_secret_sha256=hash_token(secret) if secret else None,
    )
    now = utcnow()
    until = now + timedelta(days=REGISTERED_DAYS)
    await store.put_oauth("client", client.client_id, client.model_dump(), until)
    answer: dict[str, object] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(now.timestamp()),
        "redirect_uris": client.redirect_uris,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "grant_types": request.grant_types,
        "response_types": ["code"],
    }
    if client.client_name:
        answer["client_name"] = client.client_name
    if secret:
        answer |= {"client_secret": secret, "client_secret_expires_at": 0}
    return answer


def is_metadata_url(client_id: str) -> bool:
    """A Client ID Metadata Document id: an https URL with a path."""
    parts = urlsplit(client_id)
    return parts.scheme == "https" and bool(parts.hostname) and parts.path not in ("", "/")


class ClientDirectory:
    """Finds clients: configured first, then metadata documents, then registrations."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.configured = load_clients(settings.oauth_clients_file)
        self._documents: dict[str, tuple[float, Client]] = {}

    def reload(self) -> None:
        self.configured = load_clients(self.settings.oauth_clients_file)

    async def find(self, client_id: str) -> Client | None:
        """The client, or None when nobody by that id is known. ClientError when its
        metadata document cannot be fetched or is wrong (the text says how)."""
        if not client_id or len(client_id) > 2048:
            return None
        known = self.configured.get(client_id)
        if known is not None:
            return known
        if is_metadata_url(client_id):
            cached = self._documents.get(client_id)
            if cached is not None and time.monotonic() - cached[0] < METADATA_CACHE_SECONDS:
                return cached[1]
            client = await fetch_metadata(client_id, self.settings)
            if len(self._documents) > 1000:
                self._documents.clear()
            self._documents[client_id] = (time.monotonic(), client)
            return client
        data = await self.store.get_oauth("client", client_id)
        return Client.model_validate(data) if data is not None else None


def _address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return None if ip.is_global else "resolves to a private, loopback or reserved address"


async def fetch_metadata(url: str, settings: Settings) -> Client:
    """Fetch and check a Client ID Metadata Document.

    It is a URL anyone can name, fetched from inside the operator's network, so: https
    only, every address the host resolves to must be public (unless
    `YAMCP_OAUTH_METADATA_ALLOW_PRIVATE`, for tests), the connection goes to the address
    checked (no second lookup to rebind), no redirects, 5 s and 16 KiB at most."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    if parts.username is not None or parts.fragment:
        raise ClientError("invalid_client", "The client_id URL must not carry a user or fragment.")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise ClientError("invalid_client", "The client_id URL's host does not resolve.") from None
    addresses = sorted({str(info[4][0]) for info in infos})
    if not settings.oauth_metadata_allow_private:
        for address in addresses:
            problem = _address_problem(address)
            if problem:
                raise ClientError("invalid_client", f"The client_id URL's host {problem}.")
    builder = (
        ClientBuilder()
        .https_only(True)
        .follow_redirects(False)
        .timeout(timedelta(seconds=METADATA_TIMEOUT))
        .no_proxy()
        .resolve(host, addresses[0], port)
    )
    if settings.oauth_metadata_ca_file is not None:
        builder = builder.add_root_certificate_pem(settings.oauth_metadata_ca_file.read_bytes())
    client = builder.build()
    try:
        request = client.get(url).header("accept", "application/json")
        async with request.build_streamed() as response:
            if response.status != 200:
                raise ClientError(
                    "invalid_client", f"The client metadata document answered {response.status}."
                )
            reader, parts_read, size = response.body_reader, [], 0
            while (chunk := await reader.read_chunk()) is not None:
                size += len(chunk)
                if size > METADATA_MAX_BYTES:
                    raise ClientError(
                        "invalid_client",
                        f"The client metadata document is over {METADATA_MAX_BYTES} bytes.",
                    )
                parts_read.append(chunk)
    except ClientError:
        raise
    except Exception as exc:  # TLS, refused, timeout: say which kind, never the URL's query
        raise ClientError(
            "invalid_client",
            f"The client metadata document could not be fetched ({type(exc).__name__}).",
        ) from None
    finally:
        await client.close()
    return _document_client(url, b"".join(parts_read))


def _document_client(url: str, body: bytes) -> Client:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ClientError("invalid_client", "The client metadata document is not JSON.") from None
    if not isinstance(data, dict):
        raise ClientError("invalid_client", "The client metadata document is not a JSON object.")
    if data.get("client_id") != url:
        raise ClientError(
            "invalid_client", "The client metadata document's client_id is not its own URL."
        )
    method = data.get("token_endpoint_auth_method", "none")
    if method != "none" or "client_secret" in data:
        # A document is public: a shared secret in it would be no secret.
        raise ClientError(
            "invalid_client", 'A metadata document client authenticates with "none" only.'
        )
    try:
        return Client(
            client_id=url,
            client_name=name if isinstance(name := data.get("client_name"), str) else None,
            redirect_uris=data.get("redirect_uris") or [],
            source="metadata",
        )
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ClientError(
            "invalid_client", f"The client metadata document's {err['loc'][0]}: {err['msg']}"
        ) from None
