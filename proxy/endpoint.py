"""`/mcp/{token}`: the MCP endpoint, as a plain ASGI app on the hot path.

It sits in front of Starlette's router: every tool call passes here, so it reads the
ASGI scope directly instead of building request objects and middleware frames.
The order of checks is DESIGN.md's: Host (checked by the app for every path, before
this is reached), method, Origin, token, API token, content type, size, JSON; then
`mcp.handle` and, for a call, policy and `forward`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import TYPE_CHECKING, Any

import orjson

from . import approvals, mcp
from .accounts import Account, with_defaults
from .discovery import SCHEMA, SEARCH, MetaTool
from .forward import CallOutcome, Hold, error_outcome, forward, tool_result
from .logs import log_call
from .mcp import Reply, ServerView
from .metrics import record_call, record_mcp_status
from .oauth.grants import access_token_ok
from .oauth.metadata import challenge
from .policy import check_arguments
from .secrets import SecretKeyError
from .store import ServerRecord, StoreUnavailable, utcnow
from .tokens import hash_token

if TYPE_CHECKING:
    from .gateway import Gateway, Served

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


def is_mcp_path(scope: dict) -> bool:
    """Whether a request is for the MCP endpoint, however its path is spelled."""
    return scope["path"].lower().startswith(PREFIX)


async def asgi(gw: Gateway, scope: dict, receive: Any, send: Any) -> None:
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
    gw: Gateway, method: str, token: str, headers: dict[str, str], receive: Any
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
            return await _meta(gw, record, account, served, tool, arguments)
        outcome = await call(gw, record, account, served, tool, arguments)
        return outcome.result, outcome.headers

    return await mcp.handle(message, served.view, headers, call_tool)


def _unknown(name: object) -> dict:
    """A tool the policy hides reads exactly as one that does not exist."""
    text = str(name)[:100]
    return error_outcome("unknown_tool", f"Unknown tool: {text}. search_tools finds tools.").result


async def _meta(
    gw: Gateway,
    record: ServerRecord,
    account: Account,
    served: Served,
    tool: MetaTool,
    arguments: dict[str, Any],
) -> tuple[dict, dict[str, str]]:
    """Discovery mode's three tools, over the server's decided tools only."""
    assert served.discovery is not None
    if tool.name == SEARCH:
        query, limit = arguments.get("query"), arguments.get("limit", 5)
        if not isinstance(query, str) or not query.strip():
            message = "Invalid arguments for search_tools:\n- query: a non-empty string"
            return error_outcome("invalid_arguments", message).result, {}
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 20:
            message = "Invalid arguments for search_tools:\n- limit: an integer from 1 to 20"
            return error_outcome("invalid_arguments", message).result, {}
        found = served.discovery.index.search(query, limit)
        return tool_result({"tools": found}), {}
    name = arguments.get("name")
    definition = served.discovery.definitions.get(name) if isinstance(name, str) else None
    if definition is None or not isinstance(name, str):
        return _unknown(name), {}
    if tool.name == SCHEMA:
        return tool_result(definition), {}
    inner = arguments.get("arguments", {})
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        message = "Invalid arguments for call_tool:\n- arguments: an object"
        return error_outcome("invalid_arguments", message).result, {}
    outcome = await call(gw, record, account, served, served.tools[name], inner)
    return outcome.result, outcome.headers


async def _read_body(receive: Any, headers: dict[str, str], limit: int) -> bytes | None:
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


async def call(
    gw: Gateway,
    record: ServerRecord,
    account: Account,
    served: Served,
    tool: Any,
    arguments: dict[str, Any],
) -> CallOutcome:
    """One tool call: policy constraints, then forward; audited and counted either way."""
    started = time.perf_counter()
    integration = gw.registry.integrations[account.integration]
    assert gw.upstream is not None
    await _touch(gw, record)
    if account.defaults:  # before the policy: a constraint holds for a default too
        arguments = with_defaults(arguments, account.defaults, tool.input_schema, tool.like)
    rules = served.rules[tool.name]
    denied = check_arguments(rules, arguments)
    try:
        if denied:
            message = "Refused by policy, nothing was sent:\n- " + "\n- ".join(denied)
            outcome = error_outcome("policy_denied", message, rules=denied)
        else:
            deadline = gw.settings.call_deadline

            async def run(hold: Hold | None) -> CallOutcome:
                assert gw.upstream is not None
                return await forward(
                    gw.upstream,
                    integration,
                    account,
                    tool,
                    arguments,
                    max_body_bytes=gw.settings.max_upstream_bytes,
                    rules=rules,
                    hold=hold,
                )

            window = served.approvals.get(tool.name)
            try:
                # However slowly the answer trickles in, a call ends: read timeouts only
                # bound the gaps between bytes. Lookups made by checks count too.
                async with asyncio.timeout(deadline):
                    if window is None:
                        outcome = await run(None)
                    else:
                        outcome = await approvals.gate(
                            gw, record, account, tool, arguments, window, run
                        )
            except TimeoutError:
                outcome = error_outcome(
                    "unreachable",
                    f"yamcp gave up on {integration.title} after {deadline:g} seconds, the "
                    "deadline for a whole call. The request may have taken effect: check "
                    "before repeating a write.",
                    reason="CallDeadline",
                )
    except Exception:  # a bug of ours must not take the connection down with it
        log.exception("tool call failed inside yamcp (server=%s tool=%s)", record.id, tool.name)
        outcome = error_outcome(
            "internal_error",
            "yamcp failed to handle this call (a bug; see its log). If it got as far as "
            "the upstream, the request may have taken effect: check before repeating a write.",
        )
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
