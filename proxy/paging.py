"""Uniform paging for list tools: `limit` and an opaque `next_cursor`, whatever the upstream."""

from __future__ import annotations

import base64
import binascii
import math
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


def page_size(paging: Paging, limit: int, offset: int) -> int:
    """The page to ask the upstream for: `limit`, shrunk so it ends at the upstream's window.

    A window (`max_window`) is how deep the upstream's own paging reaches. The last page
    before it is shrunk instead of refused, so an agent paging along reads every item the
    upstream serves. With page-number paging the page must start on a multiple of its size,
    so the shrunk size also divides the offset.
    """
    window = paging.max_window
    if window is None or offset + limit <= window:
        return limit
    if offset >= window:
        raise ToolArgumentError(
            f"next_cursor: this list can be read at most {window} items deep upstream and "
            "this cursor starts past that; narrow the list with filters instead"
        )
    size = window - offset
    return math.gcd(offset, size) if paging.style == "page" else size


def upstream_params(paging: Paging, limit: int, offset: int) -> dict[str, Any]:
    """The upstream's own paging parameters for one page."""
    limit = page_size(paging, limit, offset)
    if paging.style == "offset":
        return {paging.limit_param: limit, paging.offset_param: offset}
    if paging.style == "page":
        return {paging.limit_param: limit, paging.page_param: offset // limit + paging.first_page}
    return {}


def page_result(paging: Paging, body: Any, limit: int, offset: int) -> dict[str, Any]:
    """`{"result": [...], "next_cursor": ..., "total": ...}` from one upstream answer.

    At the upstream's window the cursor ends (null) and a `note` says why and what to do.
    """
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
        more = paging.style != "none" and len(items) >= page_size(paging, limit, offset)
    note = None
    if more and paging.max_window is not None and end >= paging.max_window:
        more = False
        left = f" ({total - end} more match)" if isinstance(total, int) else ""
        note = (
            f"No next page: the upstream API serves this list at most {paging.max_window} "
            f"items deep{left}. To read further, narrow the list with this tool's filters "
            "(a shorter date range, say) and page through that from the start."
        )
    page: dict[str, Any] = {"result": items, "next_cursor": encode_cursor(end) if more else None}
    if isinstance(total, int):
        page["total"] = total
    if note is not None:
        page["note"] = note
    return page
