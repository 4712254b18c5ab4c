"""The MCP Servers page at `/admin`: static HTML, CSS and one JS module from the package.

Served only with `YAMCP_ADMIN_UI=true`. The page calls the admin API with
`Authorization: Bearer` (the admin token lives in the tab's sessionStorage), so it needs
no server-side session, no cookie and no template. Every answer under `/admin` carries
a strict Content-Security-Policy: no inline script or style, nothing from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).resolve().parent / "static"
PREFIX = "/admin"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


class SecurityHeaders:
    """ASGI wrapper adding the page's security headers to every response it sends."""

    def __init__(self, app: ASGIApp, extra: dict[str, str] | None = None) -> None:
        self.app = app
        headers = {**SECURITY_HEADERS, **(extra or {})}
        self.raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.names = {k for k, _ in self.raw}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                kept = [(k, v) for k, v in headers if k.lower() not in self.names]
                message = {**message, "headers": [*kept, *self.raw]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _page(request: Request) -> Response:
    headers = {**SECURITY_HEADERS, "cache-control": "no-store"}
    return FileResponse(STATIC_DIR / "index.html", headers=headers, media_type="text/html")


def routes() -> list[BaseRoute]:
    """`/admin` (the page) and `/admin/static/*` (its CSS and JS), all with the headers."""
    static = SecurityHeaders(StaticFiles(directory=STATIC_DIR), {"cache-control": "no-cache"})
    return [
        Route(PREFIX, _page, methods=["GET"]),
        Route(f"{PREFIX}/", _page, methods=["GET"]),
        Mount(f"{PREFIX}/static", app=static),
    ]
