"""Starlette wiring: the MCP endpoint, health checks, and the lifespan that loads everything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import admin, mcp
from .accounts import Account, load_accounts
from .errors import ConfigError
from .forward import CallOutcome, error_outcome, forward
from .logs import log_call
from .mcp import Reply, ServerView
from .metrics import MCP_REQUESTS, exposition, record_call
from .policy import Effective, PolicySet, check_arguments, decide, load_policies, rules_for
from .registry import Registry, load_registry
from .settings import Settings
from .store import ServerRecord, Store, StoreUnavailable, open_store, utcnow
from .tokens import hash_token
from .upstream import Upstream, make_upstream

log = logging.getLogger("yamcp")

NOT_FOUND = Response(
    orjson.dumps({"error": "not_found", "message": "No MCP server at this URL."}),
    404,
    media_type="application/json",
)
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
TOOLS_PAGE_SIZE = 500


@dataclass(slots=True, eq=False)
class Served:
    view: ServerView
    effective: Effective
    rules: dict[str, tuple]


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
        self.policies: PolicySet = load_policies(settings.policies_dir)
        self.store: Store = store or open_store(settings)
        self.upstream: Upstream | None = None
        self._served: dict[tuple[str, bytes, bool], Served] = {}
        self._touched: dict[str, float] = {}
        public = urlsplit(settings.public_base_url)
        self.allowed_hosts = {h.lower() for h in (*LOOPBACK_HOSTS, *settings.allowed_hosts)}
        if public.hostname:
            self.allowed_hosts.add(public.hostname.lower())
        self.allowed_origins = {o.rstrip("/").lower() for o in settings.allowed_origins}

    async def start(self) -> None:
        self.upstream = make_upstream(self.settings)

    async def stop(self) -> None:
        if self.upstream is not None:
            await self.upstream.aclose()
        await self.store.close()

    def reload(self) -> None:
        """Re-read the policies folder; requests in flight finish under the old set."""
        policies = load_policies(self.settings.policies_dir)
        self.policies, self._served = policies, {}
        log.info("policies reloaded: %d named", len(policies.named))

    def served(self, record: ServerRecord) -> Served | None:
        """The server's tools under its effective policy, decided once per config."""
        key = (
            record.account,
            orjson.dumps(record.config.model_dump()),
            record.require_api_token_auth,
        )
        served = self._served.get(key)
        if served is None:
            account = self.accounts.get(record.account)
            if account is None:
                log.warning("server %s names unknown account %s", record.id, record.account)
                return None
            try:
                effective = self.policies.effective(record.config, record)
            except KeyError:
                log.warning("server %s names unknown policy %s", record.id, record.config.policy)
                return None
            integration = self.registry.integrations[account.integration]
            tools = {
                name: tool
                for name, tool in integration.tools.items()
                if decide(self.policies, effective, tool).allowed
            }
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
                modern_pages=mcp.encode_list_pages(
                    [t.definition for t in tools.values()], TOOLS_PAGE_SIZE, modern=True
                ),
            )
            rules = {name: rules_for(self.policies, effective, t) for name, t in tools.items()}
            served = Served(view, effective, rules)
            self._served[key] = served
        return served

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
    response = await _mcp(request)
    MCP_REQUESTS.labels(str(response.status_code)).inc()
    return response


async def _mcp(request: Request) -> Response:
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
        served = gw.served(record) if record is not None else None
        if served is None:
            return NOT_FOUND
        expires = gw.policies.expiry(record)
        if expires is not None and expires <= utcnow():
            return NOT_FOUND
        if served.effective.require_api_token_auth and not await _api_token_ok(gw, request, record):
            return _plain_error(
                401,
                "This MCP server needs Authorization: Bearer <API token>",
                {"www-authenticate": 'Bearer realm="yamcp", error="invalid_token"'},
            )
    except StoreUnavailable:
        return _plain_error(503, "The MCP server store is unavailable; try again shortly")
    view = served.view

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
        outcome = await _call(gw, record, served, tool, arguments)
        return outcome.result, outcome.headers

    reply = await mcp.handle(message, view, request.headers, call_tool)
    return _reply(reply)


async def _api_token_ok(gw: Gateway, request: Request, record: ServerRecord) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    return await gw.store.check_api_token(record.id, hash_token(token.strip()))


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
    gw: Gateway, record: ServerRecord, served: Served, tool: Any, arguments: dict[str, Any]
) -> CallOutcome:
    started = time.perf_counter()
    account = gw.accounts[record.account]
    integration = gw.registry.integrations[account.integration]
    assert gw.upstream is not None
    await _touch(gw, record)
    denied = check_arguments(served.rules[tool.name], arguments)
    try:
        if denied:
            message = "Refused by policy, nothing was sent:\n- " + "\n- ".join(denied)
            outcome = error_outcome("policy_denied", message, rules=denied)
        else:
            outcome = await forward(
                gw.upstream,
                integration,
                account,
                tool,
                arguments,
                max_body_bytes=gw.settings.max_upstream_bytes,
            )
    except Exception:  # a bug of ours must not take the connection down with it
        log.exception("tool call failed inside yamcp (server=%s tool=%s)", record.id, tool.name)
        outcome = error_outcome("internal_error", "yamcp failed to handle this call; see its log.")
    record_call(tool.integration, tool.name, outcome.outcome, outcome.upstream_seconds)
    log_call(
        server=record.id,
        account=record.account,
        tool=tool.name,
        status=outcome.upstream_status,
        outcome=outcome.outcome,
        ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return outcome


async def _touch(gw: Gateway, record: ServerRecord, every: float = 60.0) -> None:
    """Record last use at most once a minute per server: a write per call would cost more."""
    now = time.monotonic()
    if now - gw._touched.get(record.id, -every) >= every:
        gw._touched[record.id] = now
        with contextlib.suppress(StoreUnavailable):
            await gw.store.touch(record.id, utcnow())


async def healthz(request: Request) -> Response:
    """The process is up and serving."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready for traffic: manifests loaded and the store answering."""
    gw: Gateway = request.app.state.gateway
    try:
        await gw.store.ping()
    except StoreUnavailable:
        return JSONResponse({"status": "unavailable", "store": "unreachable"}, 503)
    return JSONResponse(
        {
            "status": "ready",
            "integrations": sorted(gw.registry.integrations),
            "tools": len(gw.registry.tools),
            "accounts": len(gw.accounts),
        }
    )


async def metrics(request: Request) -> Response:
    body, content_type = exposition()
    return Response(body, headers={"content-type": content_type})


async def not_found(request: Request) -> Response:
    return Response(status_code=404)


def create_app(settings: Settings | None = None, store: Store | None = None) -> Starlette:
    """Build the app; loading manifests and accounts fails here, before serving anything."""
    gateway = Gateway(settings or Settings(), store)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        sweeper = asyncio.create_task(_sweep(gateway))
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, _reload_safely, gateway)
        try:
            yield
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGHUP)
            sweeper.cancel()
            await gateway.stop()

    app = Starlette(
        routes=[
            Route("/mcp/{token}", mcp_endpoint, methods=["GET", "POST", "DELETE", "PUT", "PATCH"]),
            *admin.routes,
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/.well-known/{rest:path}", not_found),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app


def _reload_safely(gateway: Gateway) -> None:
    """SIGHUP: a broken policy file is logged and the running policies stay in force."""
    try:
        gateway.reload()
    except ConfigError as exc:
        log.error("policies not reloaded: %s", exc)


async def _sweep(gateway: Gateway, every: float = 60.0) -> None:
    """Free expired records; lookups refuse them on their own, this only reclaims space."""
    sweep = getattr(gateway.store, "sweep", None)
    if sweep is None:
        return
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):
            await sweep()
