"""MCP over JSON-RPC: parse one message, dispatch it, and encode the answer.

Stateless Streamable HTTP with JSON responses: no sessions, one message per POST.
This module knows the protocol; `app` knows HTTP and `forward` knows upstreams.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import __version__
from .json_text import dumps

LEGACY_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
LATEST_LEGACY = LEGACY_VERSIONS[0]
MODERN_VERSIONS = ("2026-07-28",)
SUPPORTED_VERSIONS = MODERN_VERSIONS + LEGACY_VERSIONS
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
SERVER_INFO = {"name": "yamcp", "version": __version__}
MODERN_META = {META_SERVER_INFO: SERVER_INFO}
TOOLS_TTL_MS = 60_000  # tools change only when a policy or the server's config does

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HEADER_MISMATCH = -32020
UNSUPPORTED_VERSION = -32022

JSON_HEADERS = {"content-type": "application/json"}


@dataclass(slots=True)
class Reply:
    """What goes back on the HTTP response."""

    status: int
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class ServerView:
    """One MCP server as a client sees it: its tools under its policy, encoded once."""

    name: str
    instructions: str
    tools: dict[str, Any]  # name -> Tool, in listing order
    list_pages: list[bytes]  # encoded legacy `tools/list` results, one per page
    modern_pages: list[bytes]  # the same with resultType, ttlMs, cacheScope and _meta


CallTool = Callable[[ServerView, Any, dict[str, Any]], Awaitable[tuple[dict, dict[str, str]]]]


def encode_list_pages(
    definitions: list[dict], page_size: int, *, modern: bool = False
) -> list[bytes]:
    """`tools/list` results, encoded once per server view: listing is then a copy."""
    pages = []
    chunks = [definitions[i : i + page_size] for i in range(0, len(definitions), page_size)] or [[]]
    for index, chunk in enumerate(chunks):
        result: dict[str, Any] = {"tools": chunk}
        if index + 1 < len(chunks):
            result["nextCursor"] = str(index + 1)
        if modern:
            result |= {
                "resultType": "complete",
                "ttlMs": TOOLS_TTL_MS,
                "cacheScope": "private",  # the list depends on the URL's secret
                "_meta": MODERN_META,
            }
        pages.append(dumps(result))
    return pages


def error_body(id_: Any, code: int, message: str, data: Any = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    # MCP's schema wants no `id` (rather than null) when the request's id is unknown.
    if id_ is None:
        return orjson.dumps({"jsonrpc": "2.0", "error": error})
    return orjson.dumps({"jsonrpc": "2.0", "id": id_, "error": error})


def error_reply(status: int, id_: Any, code: int, message: str, data: Any = None) -> Reply:
    return Reply(status, error_body(id_, code, message, data), JSON_HEADERS)


def result_reply(id_: Any, result: dict | bytes, headers: Mapping[str, str] = {}) -> Reply:
    encoded = result if isinstance(result, bytes) else dumps(result)
    body = b'{"jsonrpc":"2.0","id":' + orjson.dumps(id_) + b',"result":' + encoded + b"}"
    return Reply(200, body, {**JSON_HEADERS, **headers})


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


async def handle(
    message: Any,
    view: ServerView,
    headers: Mapping[str, str],
    call_tool: CallTool,
) -> Reply:
    """Answer one decoded JSON-RPC message for one MCP server, in either protocol era."""
    if isinstance(message, list):
        return error_reply(
            400, None, INVALID_REQUEST, "Batched JSON-RPC messages are not supported"
        )
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return error_reply(
            400, None, INVALID_REQUEST, 'Not a JSON-RPC 2.0 message ("jsonrpc": "2.0")'
        )
    method = message.get("method")
    has_id = "id" in message
    id_ = message.get("id")
    if method is None:
        # A client's JSON-RPC response (to a request we never send): accept and ignore.
        if has_id and ("result" in message or "error" in message):
            return Reply(202)
        return error_reply(400, None, INVALID_REQUEST, "A request needs a string `method`")
    if not isinstance(method, str) or (has_id and not _valid_id(id_)):
        return error_reply(
            400, None, INVALID_REQUEST, "`method` must be a string and `id` a string or integer"
        )
    rid = id_ if has_id else None
    params = message.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return error_reply(400, rid, INVALID_REQUEST, "`params` must be an object")

    version_header = headers.get("mcp-protocol-version")
    meta = params.get("_meta")
    if version_header in MODERN_VERSIONS or (isinstance(meta, dict) and META_VERSION in meta):
        return await _modern(rid, method, params, meta, headers, view, call_tool)

    if version_header is not None and version_header not in LEGACY_VERSIONS:
        # A non-modern error code, so dual-era clients fall back instead of giving up.
        return error_reply(
            400,
            rid,
            INVALID_REQUEST,
            f"Unsupported MCP-Protocol-Version {version_header!r}; "
            f"supported: {', '.join(SUPPORTED_VERSIONS)}",
        )
    if rid is None:
        return Reply(202)  # notifications/initialized, notifications/cancelled, ...
    if method == "tools/call":
        return await _call(rid, params, view, call_tool, modern=False)
    if method == "tools/list":
        return _list(rid, params, view.list_pages, 200)
    if method == "initialize":
        return result_reply(rid, _initialize(params, view))
    if method == "ping":
        return result_reply(rid, {})
    return error_reply(200, rid, METHOD_NOT_FOUND, f"Method not found: {method[:100]}")


async def _modern(
    rid: Any,
    method: str,
    params: dict,
    meta: Any,
    headers: Mapping[str, str],
    view: ServerView,
    call_tool: CallTool,
) -> Reply:
    """2026-07-28: every request carries its version and capabilities, checked in order."""
    if rid is None:
        return Reply(202)
    if not isinstance(meta, dict) or META_VERSION not in meta or META_CAPABILITIES not in meta:
        return error_reply(
            400,
            rid,
            INVALID_PARAMS,
            f"params._meta needs {META_VERSION} and {META_CAPABILITIES}",
        )
    version = meta[META_VERSION]
    if not isinstance(version, str):
        return error_reply(
            400, rid, INVALID_PARAMS, f"{META_VERSION} must be a string, not {_shown(version)}"
        )
    header = headers.get("mcp-protocol-version")
    if header != version:
        return error_reply(
            400,
            rid,
            HEADER_MISMATCH,
            f"MCP-Protocol-Version header {_shown(header)} does not match _meta version "
            f"{_shown(version)}",
        )
    if version not in MODERN_VERSIONS:
        return error_reply(
            400,
            rid,
            UNSUPPORTED_VERSION,
            f"Unsupported protocol version {_shown(version)}",
            {"supported": list(SUPPORTED_VERSIONS), "requested": version},
        )
    mcp_method = headers.get("mcp-method")
    if mcp_method is None or mcp_method.strip() != method:
        return error_reply(
            400,
            rid,
            HEADER_MISMATCH,
            f"Mcp-Method header {_shown(mcp_method)} does not match {_shown(method)}",
        )
    if method == "tools/call":
        name = _decoded(headers.get("mcp-name"))
        if name is None or name != params.get("name"):
            return error_reply(
                400, rid, HEADER_MISMATCH, "Mcp-Name header does not match params.name"
            )
    if method == "tools/call":
        return await _call(rid, params, view, call_tool, modern=True)
    if method == "tools/list":
        return _list(rid, params, view.modern_pages, 400)
    if method == "server/discover":
        return result_reply(rid, _discover(view))
    return error_reply(404, rid, METHOD_NOT_FOUND, f"Method not found: {method[:100]}")


def _decoded(value: str | None) -> str | None:
    """An `Mcp-Name` value, with the `=?base64?...?=` form decoded."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("=?base64?") and value.endswith("?="):
        try:
            return base64.b64decode(value[9:-2], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
    return value


def _discover(view: ServerView) -> dict:
    return {
        "resultType": "complete",
        "supportedVersions": list(SUPPORTED_VERSIONS),
        "capabilities": {"tools": {"listChanged": False}},
        "instructions": view.instructions,
        "ttlMs": TOOLS_TTL_MS,
        "cacheScope": "private",
        "_meta": MODERN_META,
    }


def _initialize(params: dict, view: ServerView) -> dict:
    requested = params.get("protocolVersion")
    version = requested if requested in LEGACY_VERSIONS else LATEST_LEGACY
    return {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": "yamcp", "title": view.name, "version": __version__},
        "instructions": view.instructions,
    }


def _list(id_: Any, params: dict, pages: list[bytes], bad_cursor_status: int) -> Reply:
    cursor = params.get("cursor")
    page = 0
    if cursor is not None:
        # Only the cursors we hand out: ASCII digits ("²".isdigit() is true, int() fails).
        if not (isinstance(cursor, str) and _PAGE.fullmatch(cursor)) or int(cursor) >= len(pages):
            return error_reply(bad_cursor_status, id_, INVALID_PARAMS, "Invalid cursor")
        page = int(cursor)
    return result_reply(id_, pages[page])


_PAGE = re.compile(r"[1-9][0-9]{0,5}")


def _shown(value: Any) -> str:
    """A client's value for an error message: short, and never a deep structure's repr
    (a 1,000-level object would exhaust the recursion limit of repr and JSON encoders)."""
    if isinstance(value, str):
        return repr(value[:64] + ("..." if len(value) > 64 else ""))
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    return f"a JSON {'array' if isinstance(value, list) else 'object'}"


async def _call(
    id_: Any, params: dict, view: ServerView, call_tool: CallTool, *, modern: bool
) -> Reply:
    name = params.get("name")
    if not isinstance(name, str):
        return error_reply(200, id_, INVALID_PARAMS, "tools/call needs `name`, a string")
    tool = view.tools.get(name)
    if tool is None:
        return error_reply(200, id_, INVALID_PARAMS, f"Unknown tool: {name[:100]}")
    arguments = params.get("arguments", {})
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return error_reply(200, id_, INVALID_PARAMS, "`arguments` must be an object")
    result, headers = await call_tool(view, tool, arguments)
    if modern:
        result = {**result, "resultType": "complete", "_meta": MODERN_META}
    return result_reply(id_, result, headers)
