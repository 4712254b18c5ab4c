"""The application: the gateway that loads everything once, its routes and its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import admin, admin_ui, endpoint, mcp
from .accounts import Account, check_accounts, load_accounts
from .errors import ConfigError
from .mcp import ServerView
from .metrics import exposition
from .policy import Effective, PolicySet, decide, load_policies, rules_for
from .registry import Registry, load_registry
from .settings import Settings
from .store import ServerRecord, Store, StoreUnavailable, open_store
from .tools import Tool, listed_definitions
from .upstream import Upstream, make_upstream

log = logging.getLogger("yamcp")

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
TOOLS_PAGE_SIZE = 500


def tools_list_bytes(tools: dict[str, Tool]) -> int:
    """The size of the first `tools/list` answer (`"id": 1`, legacy era) of a server granted
    `tools`, on an account with no defaults: what a client pays for again on every turn."""
    page = mcp.encode_list_pages(listed_definitions(tools, {}), TOOLS_PAGE_SIZE)[0]
    return len(mcp.result_reply(1, page).body)


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
        check_accounts(self.accounts, self.registry, settings.accounts_file)
        self.policies: PolicySet = load_policies(settings.policies_dir)
        self.store: Store = store or open_store(settings)
        self.upstream: Upstream | None = None
        self._served: dict[tuple[str, bytes, bool], Served] = {}
        # The store hands out the same record object while it is cached, so a server's
        # view is found by identity, without serialising its config on every call.
        self._served_by_record: dict[str, tuple[ServerRecord, Served]] = {}
        self._touched: dict[str, float] = {}
        public = urlsplit(settings.public_base_url)
        self.allowed_hosts = {h.lower() for h in (*LOOPBACK_HOSTS, *settings.allowed_hosts)}
        if public.hostname:
            self.allowed_hosts.add(public.hostname.lower())
        self.allowed_origins = {o.rstrip("/").lower() for o in settings.allowed_origins}

    async def start(self) -> None:
        self.upstream = make_upstream(self.settings)
        log.info(
            "loaded %d integration(s), %d tools, %d account(s), %d named policies",
            len(self.registry.integrations),
            len(self.registry.tools),
            len(self.accounts),
            len(self.policies.named),
        )
        if not self.accounts:
            log.warning(
                "no accounts in %s: copy accounts.example.yaml there, then `yamcp mint`",
                self.settings.accounts_file,
            )

    async def stop(self) -> None:
        if self.upstream is not None:
            await self.upstream.aclose()
        await self.store.close()

    def reload(self) -> None:
        """Re-read the policies folder; requests in flight finish under the old set."""
        policies = load_policies(self.settings.policies_dir)
        self.policies, self._served, self._served_by_record = policies, {}, {}
        log.info("policies reloaded: %d named", len(policies.named))

    def served(self, record: ServerRecord) -> Served | None:
        """The server's tools under its effective policy, decided once per config."""
        known = self._served_by_record.get(record.id)
        if known is not None and known[0] is record:
            return known[1]
        served = self._decide(record)
        if served is not None:
            if len(self._served_by_record) > 10_000:
                self._served_by_record.clear()
            self._served_by_record[record.id] = (record, served)
        return served

    def _decide(self, record: ServerRecord) -> Served | None:
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
            definitions = listed_definitions(tools, account.defaults)
            view = ServerView(
                name=f"{integration.title} ({account.id})",
                instructions=(
                    f"Tools for the {integration.title} account {account.id!r}. "
                    "List tools page with limit and next_cursor."
                ),
                tools=tools,
                list_pages=mcp.encode_list_pages(definitions, TOOLS_PAGE_SIZE),
                modern_pages=mcp.encode_list_pages(definitions, TOOLS_PAGE_SIZE, modern=True),
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
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:  # e.g. "http://[::1": not an origin anyone is allowed to be
            return False
        return self.host_allowed(netloc)


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


def create_app(settings: Settings | None = None, store: Store | None = None) -> YamcpApp:
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
            *admin.routes,
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/.well-known/{rest:path}", not_found),
            *(admin_ui.routes() if gateway.settings.admin_ui else []),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return YamcpApp(app, gateway)


class YamcpApp:
    """The ASGI app: the MCP endpoint on its own fast path, everything else via Starlette."""

    def __init__(self, app: Starlette, gateway: Gateway) -> None:
        self.starlette = app
        self.gateway = gateway
        self.state = app.state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        # DNS rebinding: every path answers only to the Host names yamcp is reached by.
        host = next((v for k, v in scope["headers"] if k == b"host"), b"")
        if not self.gateway.host_allowed(host.decode("latin-1")):
            await MISDIRECTED(scope, receive, send)
        elif endpoint.is_mcp_path(scope):
            await endpoint.asgi(self.gateway, scope, receive, send)
        else:
            await self.starlette(scope, receive, send)


MISDIRECTED = JSONResponse({"error": "misdirected", "message": "Host not allowed"}, 421)


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
