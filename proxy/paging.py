"""Uniform paging for list tools: `limit` and an opaque `next_cursor`, whatever the upstream."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from .errors import ToolArgumentError
from .tools import Paging


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset})).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = data["o"]
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise ToolArgumentError(
            "next_cursor: not a cursor this tool returned; omit it to start from the first page"
        ) from None
    if not isinstance(offset, int) or offset < 0:
        raise ToolArgumentError("next_cursor: not a cursor this tool returned")
    return offset


def upstream_params(paging: Paging, limit: int, offset: int) -> dict[str, Any]:
    """The upstream's own paging parameters for one page."""
    if paging.max_window is not None and offset + limit > paging.max_window:
        raise ToolArgumentError(
            f"this list can be read at most {paging.max_window} items deep "
            f"(limit + position {offset + limit}); narrow it with filters instead"
        )
    if paging.style == "offset":
        return {paging.limit_param: limit, paging.offset_param: offset}
    if paging.style == "page":
        return {paging.limit_param: limit, paging.page_param: offset // limit + paging.first_page}
    return {}


def page_result(paging: Paging, body: Any, limit: int, offset: int) -> dict[str, Any]:
    """`{"result": [...], "next_cursor": ..., "total": ...}` from one upstream answer."""
    items = paging.items.search(body)
    if not isinstance(items, list):
        items = []
    total = paging.total.search(body) if paging.total is not None else None
    if paging.style == "none":
        total = len(items) if not isinstance(total, int) else total
        items = items[offset : offset + limit]
    end = offset + len(items)
    if isinstance(total, int):
        more = end < total
    else:
        more = paging.style != "none" and len(items) >= limit
    if paging.max_window is not None and end >= paging.max_window:
        more = False
    page: dict[str, Any] = {"result": items, "next_cursor": encode_cursor(end) if more else None}
    if isinstance(total, int):
        page["total"] = total
    return page
