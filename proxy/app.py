"""Starlette wiring: the MCP endpoint, health checks, and the lifespan that loads everything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import mcp
from .accounts import Account, load_accounts
from .errors import ConfigError
from .forward import CallOutcome, error_outcome, forward
from .logs import log_call
from .mcp import Reply, ServerView
from .policy import allows
from .registry import Registry, load_registry
from .settings import Settings
from .store import ServerRecord, Store, StoreUnavailable, open_store
from .tokens import hash_token
from .upstream import make_client

log = logging.getLogger("yamcp")

NOT_FOUND = Response(
    orjson.dumps({"error": "not_found", "message": "No MCP server at this URL."}),
    404,
    media_type="application/json",
)
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
TOOLS_PAGE_SIZE = 500


class Gateway:
    """Everything a request needs, loaded once: manifests, accounts, store, HTTP client."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.registry: Registry = load_registry(settings.integrations_dirs)
        self.accounts: dict[str, Account] = load_accounts(settings.accounts_file)
        for account in self.accounts.values():
            if account.integration not in self.registry.integrations:
                raise ConfigError(
                    str(settings.accounts_file),
                    f"accounts.{account.id}.integration",
                    f"no integration {account.integration!r} is loaded "
                    f"(have: {', '.join(sorted(self.registry.integrations)) or 'none'})",
                )
        self.store: Store = store or open_store(settings)
        self.client: httpx.AsyncClient | None = None
        self._views: dict[tuple[str, bytes], ServerView] = {}
        public = urlsplit(settings.public_base_url)
        self.allowed_hosts = {h.lower() for h in (*LOOPBACK_HOSTS, *settings.allowed_hosts)}
        if public.hostname:
            self.allowed_hosts.add(public.hostname.lower())
        self.allowed_origins = {o.rstrip("/").lower() for o in settings.allowed_origins}

    async def start(self) -> None:
        self.client = make_client(self.settings)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        await self.store.close()

    def view(self, record: ServerRecord) -> ServerView | None:
        """The server's tools under its policy, built once per account and policy."""
        key = (record.account, orjson.dumps(record.config.model_dump()))
        view = self._views.get(key)
        if view is None:
            account = self.accounts.get(record.account)
            if account is None:
                return None
            integration = self.registry.integrations[account.integration]
            tools = {n: t for n, t in integration.tools.items() if allows(record.config, t)}
            view = ServerView(
                name=f"{integration.title} ({account.id})",
                instructions=(
                    f"Tools for the {integration.title} account {account.id!r}. "
                    "List tools page with limit and next_cursor."
                ),
                tools=tools,
                list_pages=mcp.encode_list_pages(
                    [t.definition for t in tools.values()], TOOLS_PAGE_SIZE
                ),
            )
            self._views[key] = view
        return view

    def host_allowed(self, host: str | None) -> bool:
        if not host:
            return False
        name = host.lower()
        if name.startswith("["):
            name = name.split("]")[0] + "]"
        else:
            name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        return name in self.allowed_hosts

    def origin_allowed(self, origin: str) -> bool:
        if origin.rstrip("/").lower() in self.allowed_origins:
            return True
        return self.host_allowed(urlsplit(origin).netloc)


def _reply(reply: Reply) -> Response:
    return Response(reply.body, reply.status, headers=reply.headers)


def _plain_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = mcp.error_body(None, mcp.INVALID_REQUEST, message)
    return Response(body, status, headers=headers, media_type="application/json")


async def mcp_endpoint(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    if request.method != "POST":
        return _plain_error(405, "Use POST for MCP messages", {"allow": "POST"})
    if not gw.host_allowed(request.headers.get("host")):
        return _plain_error(421, "Host not allowed")
    origin = request.headers.get("origin")
    if origin is not None and not gw.origin_allowed(origin):
        return _plain_error(403, "Origin not allowed")

    try:
        record = await gw.store.resolve(hash_token(request.path_params["token"]))
    except StoreUnavailable:
        return _plain_error(503, "The MCP server store is unavailable; try again shortly")
    view = gw.view(record) if record is not None else None
    if view is None:
        return NOT_FOUND

    ctype = request.headers.get("content-type", "")
    if ctype.split(";")[0].strip().lower() != "application/json":
        return _plain_error(415, "Content-Type must be application/json")
    body = await _read_limited(request, gw.settings.max_request_bytes)
    if body is None:
        return _plain_error(
            413, f"Request body is larger than {gw.settings.max_request_bytes} bytes"
        )
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _reply(mcp.error_reply(400, None, mcp.PARSE_ERROR, "Parse error: body is not JSON"))

    async def call_tool(
        view: ServerView, tool: Any, arguments: dict[str, Any]
    ) -> tuple[dict, dict[str, str]]:
        outcome = await _call(gw, record, tool, arguments)
        return outcome.result, outcome.headers

    reply = await mcp.handle(message, view, request.headers.get("mcp-protocol-version"), call_tool)
    return _reply(reply)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _call(
    gw: Gateway, record: ServerRecord, tool: Any, arguments: dict[str, Any]
) -> CallOutcome:
    started = time.perf_counter()
    account = gw.accounts[record.account]
    integration = gw.registry.integrations[account.integration]
    assert gw.client is not None
    try:
        outcome = await forward(
            gw.client,
            integration,
            account,
            tool,
            arguments,
            max_body_bytes=gw.settings.max_upstream_bytes,
        )
    except Exception:  # a bug of ours must not take the connection down with it
        log.exception("tool call failed inside yamcp (server=%s tool=%s)", record.id, tool.name)
        outcome = error_outcome("internal_error", "yamcp failed to handle this call; see its log.")
    log_call(
        server=record.id,
        account=record.account,
        tool=tool.name,
        status=outcome.upstream_status,
        outcome=outcome.outcome,
        ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return outcome


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def not_found(request: Request) -> Response:
    return Response(status_code=404)


def create_app(settings: Settings | None = None, store: Store | None = None) -> Starlette:
    """Build the app; loading manifests and accounts fails here, before serving anything."""
    gateway = Gateway(settings or Settings(), store)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        sweeper = asyncio.create_task(_sweep(gateway))
        try:
            yield
        finally:
            sweeper.cancel()
            await gateway.stop()

    app = Starlette(
        routes=[
            Route("/mcp/{token}", mcp_endpoint, methods=["GET", "POST", "DELETE", "PUT", "PATCH"]),
            Route("/healthz", healthz),
            Route("/.well-known/{rest:path}", not_found),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app


async def _sweep(gateway: Gateway, every: float = 60.0) -> None:
    """Free expired records; lookups refuse them on their own, this only reclaims space."""
    sweep = getattr(gateway.store, "sweep", None)
    if sweep is None:
        return
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):
            await sweep()
