"""MCP over JSON-RPC: parse one message, dispatch it, and encode the answer.

Stateless Streamable HTTP with JSON responses: no sessions, one message per POST.
This module knows the protocol; `app` knows HTTP and `forward` knows upstreams.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import __version__

LEGACY_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
LATEST_LEGACY = LEGACY_VERSIONS[0]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

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
    list_pages: list[bytes]  # encoded `tools/list` results, one per page


CallTool = Callable[[ServerView, Any, dict[str, Any]], Awaitable[tuple[dict, dict[str, str]]]]


def encode_list_pages(definitions: list[dict], page_size: int) -> list[bytes]:
    pages = []
    chunks = [definitions[i : i + page_size] for i in range(0, len(definitions), page_size)] or [[]]
    for index, chunk in enumerate(chunks):
        result: dict[str, Any] = {"tools": chunk}
        if index + 1 < len(chunks):
            result["nextCursor"] = str(index + 1)
        pages.append(orjson.dumps(result))
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
    encoded = result if isinstance(result, bytes) else orjson.dumps(result)
    body = b'{"jsonrpc":"2.0","id":' + orjson.dumps(id_) + b',"result":' + encoded + b"}"
    return Reply(200, body, {**JSON_HEADERS, **headers})


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


async def handle(
    message: Any,
    view: ServerView,
    protocol_header: str | None,
    call_tool: CallTool,
) -> Reply:
    """Answer one decoded JSON-RPC message for one MCP server."""
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
    params = message.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return error_reply(
            400, id_ if has_id else None, INVALID_REQUEST, "`params` must be an object"
        )

    if protocol_header is not None and protocol_header not in LEGACY_VERSIONS:
        return error_reply(
            400,
            id_ if has_id else None,
            INVALID_REQUEST,
            f"Unsupported MCP-Protocol-Version {protocol_header!r}; "
            f"supported: {', '.join(LEGACY_VERSIONS)}",
        )
    if not has_id:
        return Reply(202)  # notifications/initialized, notifications/cancelled, ...

    if method == "tools/call":
        return await _call(id_, params, view, call_tool)
    if method == "tools/list":
        return _list(id_, params, view)
    if method == "initialize":
        return result_reply(id_, _initialize(params, view))
    if method == "ping":
        return result_reply(id_, {})
    return error_reply(200, id_, METHOD_NOT_FOUND, f"Method not found: {method}")


def _initialize(params: dict, view: ServerView) -> dict:
    requested = params.get("protocolVersion")
    version = requested if requested in LEGACY_VERSIONS else LATEST_LEGACY
    return {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": "yamcp", "title": view.name, "version": __version__},
        "instructions": view.instructions,
    }


def _list(id_: Any, params: dict, view: ServerView) -> Reply:
    cursor = params.get("cursor")
    page = 0
    if cursor is not None:
        if not (
            isinstance(cursor, str) and cursor.isdigit() and 0 < int(cursor) < len(view.list_pages)
        ):
            return error_reply(200, id_, INVALID_PARAMS, "Invalid cursor")
        page = int(cursor)
    return result_reply(id_, view.list_pages[page])


async def _call(id_: Any, params: dict, view: ServerView, call_tool: CallTool) -> Reply:
    name = params.get("name")
    if not isinstance(name, str):
        return error_reply(200, id_, INVALID_PARAMS, "tools/call needs `name`, a string")
    tool = view.tools.get(name)
    if tool is None:
        return error_reply(200, id_, INVALID_PARAMS, f"Unknown tool: {name}")
    arguments = params.get("arguments", {})
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return error_reply(200, id_, INVALID_PARAMS, "`arguments` must be an object")
    result, headers = await call_tool(view, tool, arguments)
    return result_reply(id_, result, headers)
