"""`/mcp/{token}`: the MCP endpoint, as a plain ASGI app on the hot path.

It sits in front of Starlette's router: every tool call passes here, so it reads the
ASGI scope directly instead of building request objects and middleware frames.
The order of checks is DESIGN.md's: Host (checked by the app for every path, before
this is reached), method, Origin, token, API token, content type, size, JSON; then
`mcp.handle`, and for a call `proxy.calls`, which starts and ends every tool call.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import orjson
from starlette.types import Receive, Scope, Send

from . import mcp
from .calls import call, call_meta
from .discovery import MetaTool
from .mcp import Reply, ServerView
from .metrics import record_mcp_status
from .oauth.grants import access_token_ok
from .oauth.metadata import challenge
from .secrets import SecretKeyError
from .store import ServerRecord, StoreUnavailable
from .tokens import hash_token

if TYPE_CHECKING:
    from .gateway import Gateway

log = logging.getLogger("yamcp")

PREFIX = "/mcp/"
JSON = "application/json"
NOT_FOUND = Reply(
    404,
    orjson.dumps({"error": "not_found", "message": "No MCP server at this URL."}),
    {"content-type": JSON},
)
INTERNAL_ERROR = Reply(
    500,
    mcp.error_body(None, mcp.INTERNAL_ERROR, "Internal error in yamcp; it has been logged"),
    {"content-type": JSON},
)
# The one form of an MCP URL yamcp serves, matched on the raw (undecoded) path: tokens
# are URL-safe base64, so any other spelling that decodes to the same path (`/%6Dcp/`,
# `/mcp%2F`, `/MCP/`) is a 404, and nothing but the canonical form can work.
CANONICAL = re.compile(rb"/mcp/([A-Za-z0-9_-]{1,128})")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = mcp.error_body(None, mcp.INVALID_REQUEST, message)
    return Reply(status, body, {"content-type": JSON, **(headers or {})})


def is_mcp_path(scope: Scope) -> bool:
    """Whether a request is for the MCP endpoint, however its path is spelled."""
    return scope["path"].lower().startswith(PREFIX)


async def asgi(gw: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    canonical = CANONICAL.fullmatch(scope.get("raw_path") or scope["path"].encode())
    token = canonical.group(1).decode() if canonical else ""
    try:
        reply = await serve(gw, scope["method"], token, headers, receive)
    except Exception:  # a bug of ours: one logged trace and a JSON 500, counted
        log.exception("MCP request failed inside yamcp")
        reply = INTERNAL_ERROR
    record_mcp_status(reply.status)
    body = reply.body or b""
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def serve(
    gw: Gateway, method: str, token: str, headers: dict[str, str], receive: Receive
) -> Reply:
    if method != "POST":
        return _error(405, "Use POST for MCP messages", {"allow": "POST"})
    origin = headers.get("origin")
    if origin is not None and not gw.origin_allowed(origin):
        return _error(403, "Origin not allowed")
    if not token:
        return NOT_FOUND

    record: ServerRecord | None = None
    try:
        live = await gw.live(token)
        if live is None:
            return NOT_FOUND
        record, account, served = live.record, live.account, live.served
        if served.effective.require_api_token_auth and not await _authorized(
            gw, headers, record, token
        ):
            return _error(
                401,
                "This MCP server needs Authorization: Bearer <API token or OAuth access token>",
                {"www-authenticate": challenge(gw.settings.public_url, token)},
            )
    except StoreUnavailable:
        return _error(503, "The MCP server store is unavailable; try again shortly")
    except SecretKeyError:
        log.error(
            "the credentials of account %s do not open with this instance's secret key "
            "(YAMCP_SECRET_KEY differs between instances, or was changed)",
            record.account if record is not None else "?",
        )
        return _error(503, "This MCP server's account cannot be used on this instance now")

    if headers.get("content-type", "").split(";")[0].strip().lower() != JSON:
        return _error(415, "Content-Type must be application/json")
    try:
        async with asyncio.timeout(gw.settings.request_body_timeout):
            body = await _read_body(receive, headers, gw.settings.max_request_bytes)
    except TimeoutError:
        return _error(
            408,
            f"The request body did not arrive within {gw.settings.request_body_timeout:g} s",
            {"connection": "close"},
        )
    if body is None:
        return _error(413, f"Request body is larger than {gw.settings.max_request_bytes} bytes")
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return mcp.error_reply(400, None, mcp.PARSE_ERROR, "Parse error: body is not JSON")

    async def call_tool(
        view: ServerView, tool: Any, arguments: dict[str, Any]
    ) -> tuple[dict, dict[str, str]]:
        if isinstance(tool, MetaTool):
            return await call_meta(gw, record, account, served, tool, arguments)
        outcome = await call(gw, record, account, served, tool, arguments)
        return outcome.result, outcome.headers

    return await mcp.handle(message, served.view, headers, call_tool)


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes | None:
    """The request body, or None past `limit` bytes (without reading the rest)."""
    length = headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _authorized(
    gw: Gateway, headers: dict[str, str], record: ServerRecord, url_token: str
) -> bool:
    """The bearer is one of the server's API tokens, or an OAuth access token issued for
    exactly this server URL (proxy.oauth.grants)."""
    scheme, _, bearer = headers.get("authorization", "").partition(" ")
    bearer = bearer.strip()
    if scheme.lower() != "bearer" or not bearer:
        return False
    if await gw.store.check_api_token(record.id, hash_token(bearer)):
        return True
    return await access_token_ok(gw.store, bearer, record.id, gw.settings.public_url, url_token)
