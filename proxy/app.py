"""The application: its routes, its lifespan and the ASGI entry point in front of them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from . import admin, admin_ui, approval_api, approval_page, endpoint, pages
from .accounts import Account
from .errors import ConfigError
from .gateway import Gateway
from .metrics import exposition
from .oauth.routes import routes as oauth_routes
from .settings import Settings
from .store import Store, StoreUnavailable

log = logging.getLogger("yamcp")


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


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    accounts: dict[str, Account] | None = None,
) -> YamcpApp:
    """Build the app; loading manifests and accounts fails here, before serving anything.
    `accounts` are served beside the accounts file's, and stay through reloads."""
    gateway = Gateway(settings or Settings(), store, accounts)

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
            *oauth_routes(),
            *approval_api.routes(),
            *approval_page.routes(),
            Route("/pages.css", pages.stylesheet, methods=["GET"]),
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
    """SIGHUP: a broken accounts or policy file is logged, and what runs stays in force."""
    try:
        gateway.reload()
    except ConfigError as exc:
        log.error("nothing reloaded, the running accounts and policies stay in force: %s", exc)


async def _sweep(gateway: Gateway, every: float = 60.0) -> None:
    """Free expired records; lookups refuse them on their own, this only reclaims space."""
    sweep = getattr(gateway.store, "sweep", None)
    if sweep is None:
        return
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):
            await sweep()
