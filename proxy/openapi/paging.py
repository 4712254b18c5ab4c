"""Whether a GET answers a collection, where its items are, and how it pages.

A collection is judged by its answer (an array, or an object holding the items array)
and by its request (paging parameters). The paging style, in order of the evidence:

* cursor: a cursor parameter (`after`, `starting_after`, `cursor`, `page_token`, ...) and
  an answer with the next cursor (`next_cursor: <JMESPath>`) or a `has_more` flag (the
  cursor is then the last item's `id`);
* next_url: the answer holds the next page's URL (`next`, `next_page_uri`,
  `links.pages.next`, `_links.next.href`);
* link_header: the answer declares a `Link` header;
* offset: limit and offset parameters; page: a page number (with a page size);
* none: nothing pages; yamcp pages the whole answer itself.

What is inferred from one side only (parameters without an answer that confirms them) is
marked `guessed`, for the review list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .schema import is_array, object_view
from .text import jmespath_key

_OFFSET = ("offset", "skip", "start", "startindex")
_LIMIT = ("limit", "count", "perpage", "pagesize", "size", "maxresults", "pagelimit", "top")
_PAGE = ("page", "pagenumber", "pageno", "pagenum")
_CURSOR = (
    "after", "startingafter", "cursor", "pagetoken", "nextpagetoken", "nexttoken",
    "continuationtoken", "continuation", "marker", "startafter", "pagecursor", "nextcursor",
)  # fmt: skip
# (`token` is no cursor: it is how Slack and others name the credential itself.)
_NEXT_CURSOR = (
    "nextcursor", "cursor", "nextpagetoken", "nexttoken", "continuationtoken", "nextmarker",
)  # fmt: skip
_NEXT_URL = (
    "next",
    "nextpageuri",
    "nextpageurl",
    "nexturl",
    "nexturi",
    "nextlink",
    "odatanextlink",
)
_HAS_MORE = ("hasmore", "more", "hasnextpage", "hasnext")
_ITEM_NAMES = ("data", "items", "results", "records", "entries", "values", "list", "elements")
_META = re.compile(
    r"total|count|offset|page|limit|size|next|prev|cursor|more|links?$|meta|paging|pagination"
    r"|skip|start|end|^object$|^type$|^kind$|^ur[il]$|first|last|before|after",
    re.IGNORECASE,
)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class Listing:
    """A collection's items and paging, and which query parameters the paging takes over."""

    pagination: dict[str, Any]
    consumed: list[str] = field(default_factory=list)
    guessed: str | None = None
    fixed: dict[str, Any] = field(default_factory=dict)  # query every page sends as given


def items_of(schema: dict[str, Any], collection: set[str], paged: bool) -> tuple[str, str] | None:
    """(JMESPath to the items, the array property's name) when the answer is a collection.

    `collection` holds the path's own nouns: an array named after one of them
    (`/user/webhooks/settings/all` answering `webhooks`) is the items, whatever sits beside.
    """
    if is_array(schema):
        return "@", ""
    properties = _properties(schema)  # a oneOf of answers sharing one items array (Box)
    arrays = [k for k, v in properties.items() if is_array(v)]
    nouns = {_norm(c) for c in collection}
    if not arrays:
        return _nested_items(properties, nouns)
    named = [k for k in arrays if _norm(k) in _ITEM_NAMES or _norm(k) in nouns]
    if len(arrays) > 1 and len(named) != 1:
        return None
    key = named[0] if len(arrays) > 1 else arrays[0]
    others = [k for k in properties if k != key]
    if not named and any(_main_object(k, properties[k]) for k in others):
        return None  # one object with a side array (Slack's files.info: file + comments)
    if not (named or paged or all(_META.search(k) for k in others)):
        return None  # a summary with one array in it (stats by day), not a list
    return jmespath_key(key), key


def _nested_items(properties: dict[str, Any], nouns: set[str]) -> tuple[str, str] | None:
    """Items one level down, under a `data`-like object, in an array named for the path's
    own collection: Opsgenie's GET /v2/heartbeats answers `data.heartbeats`."""
    for key, prop in properties.items():
        if _norm(key) not in _ITEM_NAMES or not isinstance(prop, dict):
            continue
        inner = [k for k, v in _properties(prop).items() if is_array(v) and _norm(k) in nouns]
        if len(inner) == 1:
            return f"{jmespath_key(key)}.{jmespath_key(inner[0])}", inner[0]
    return None


def _main_object(name: str, schema: dict[str, Any]) -> bool:
    """An object property that is content, not paging or links metadata."""
    return not _META.search(name) and bool(object_view(schema)[0]) and not is_array(schema)


def _properties(node: dict[str, Any]) -> dict[str, Any]:
    """Properties of an object schema, with those of its allOf/anyOf/oneOf parts."""
    found, _ = object_view(node)
    for combinator in ("anyOf", "oneOf"):
        for part in node.get(combinator) or []:
            found = {**_properties(part), **found}
    return found


def _find_schema(
    schema: dict[str, Any], names: tuple[str, ...], kinds: tuple[str, ...]
) -> tuple[str, dict[str, Any]] | None:
    """(JMESPath, schema) of the first property (to depth 3) named like `names`, of `kinds`."""

    def walk(node: dict[str, Any], prefix: str, depth: int) -> tuple[str, dict] | None:
        properties = _properties(node)
        for key, prop in properties.items():
            kind = prop.get("type")
            kind = kind[0] if isinstance(kind, list) and kind else kind
            if _norm(key) in names and (kind in kinds or (kind is None and "string" in kinds)):
                return prefix + jmespath_key(key), prop
        for key, prop in properties.items():
            if depth < 3 and isinstance(prop, dict) and _properties(prop):
                found = walk(prop, f"{prefix}{jmespath_key(key)}.", depth + 1)
                if found:
                    return found
        return None

    return walk(schema, "", 1)


def _find(schema: dict[str, Any], names: tuple[str, ...], kinds: tuple[str, ...]) -> str | None:
    found = _find_schema(schema, names, kinds)
    return found[0] if found else None


def _in_example(example: Any, names: tuple[str, ...], depth: int = 1) -> str | None:
    """JMESPath to the first string field named like `names` in an example body."""
    if not isinstance(example, dict) or depth > 3:
        return None
    for key, value in example.items():
        if _norm(key) in names and isinstance(value, str):
            return jmespath_key(key)
    for key, value in example.items():
        found = _in_example(value, names, depth + 1)
        if found:
            return f"{jmespath_key(key)}.{found}"
    return None


def _total(schema: dict[str, Any], items_key: str, query: dict[str, Any]) -> str | None:
    """The total count: a `total` before a `count`, and never a `count` that answers the
    request's own page-size parameter (Slack's `paging: {count, total}`)."""
    names: tuple[str, ...] = ("total", "totalcount", "totalitems", "totalresults")
    if "count" not in {_norm(q) for q in query}:
        names += ("count",)
    for name in names:
        found = _find(schema, (name,), ("integer", "number"))
        if found and found != jmespath_key(items_key):
            return found
    return None


def detect(
    query: dict[str, dict[str, Any]],
    response: dict[str, Any],
    headers: set[str],
    collection: set[str],
    example: Any = None,
) -> Listing | None:
    """The listing of a GET answering `response`, or None when it is not a collection."""
    by_norm = {_norm(q): q for q in query}
    limit = next((by_norm[n] for n in _LIMIT if n in by_norm), None)
    offset = next((by_norm[n] for n in _OFFSET if n in by_norm), None)
    page = next((by_norm[n] for n in _PAGE if n in by_norm), None)
    cursor = next((by_norm[n] for n in _CURSOR if n in by_norm), None)
    notes: list[str] = []
    token = bool(offset and not cursor and query[offset].get("type") == "string")
    if token:  # Asana's `offset`: an opaque token from next_page.offset, not a number
        cursor, offset = offset, None
    paged = bool(limit or offset or page or cursor)
    shape = items_of(response, collection, paged)
    if shape is None:
        return None
    items, key = shape
    body = response if not is_array(response) else {}
    own = (_norm(cursor),) if cursor else ()
    next_cursor = _find(body, (*_NEXT_CURSOR, *own), ("string",))
    if cursor and next_cursor is None:
        next_cursor = _in_example(example, _NEXT_CURSOR)
        if next_cursor is not None:
            notes.append(f"the next cursor `{next_cursor}` is in the answer's example only")
    has_more = _find(body, _HAS_MORE, ("boolean",))
    found_url = _find_schema(body, _NEXT_URL, ("string",))
    next_url = found_url[0] if found_url else None
    if token and found_url:  # Opsgenie's string offset, with the next page's URL beside it
        offset, cursor, token = cursor, None, False
    if token:
        notes.append(f"`{cursor}` is a string, so an opaque token: paged as a cursor")
    bare_next = next_url and next_url.split(".")[-1] == "next" and "link" not in next_url.lower()
    if found_url and bare_next:
        is_url = str(found_url[1].get("format", "")).startswith("ur")
        if next_cursor is None and cursor and not is_url:  # a bare `next` beside a cursor
            next_cursor, next_url = next_url, None
    pagination: dict[str, Any]
    guessed = None
    consumed: list[str] = []
    fixed: dict[str, Any] = {}
    switch = by_norm.get("use" + _norm(cursor)) if cursor else None
    if cursor and next_cursor:
        pagination = {"style": "cursor", "cursor_param": cursor, "next_cursor": next_cursor}
        consumed = [cursor]
        if switch is not None and query[switch].get("type") == "boolean":
            # Box: `marker` paging only with usemarker=true; the offset beside it is the
            # other scheme, unreliable for large offsets by Box's own docs.
            consumed.append(switch)
            fixed = {switch: True}
    elif cursor and has_more:
        pagination = {
            "style": "cursor",
            "cursor_param": cursor,
            "has_more": has_more,
            "cursor_field": "id",
        }
        consumed = [cursor]
        item = (response if is_array(response) else object_view(response)[0].get(key, {})).get(
            "items", {}
        )
        if "id" not in object_view(item)[0]:
            guessed = "cursor taken from each page's last item `id`, which the spec does not show"
    elif next_url:
        pagination = {"style": "next_url", "next_url": next_url}
        consumed = [p for p in (offset, page, cursor) if p]
    elif "link" in headers:
        pagination = {"style": "link_header"}
        consumed = [p for p in (offset, page, cursor) if p]
    elif limit and offset:
        pagination = {"style": "offset", "limit_param": limit, "offset_param": offset}
        consumed = [offset]
    elif page:
        pagination = {"style": "page", "page_param": page}
        if limit:
            pagination["limit_param"] = limit
        else:
            guessed = f"page paging by `{page}` with no page-size parameter"
        first = query[page].get("minimum", query[page].get("default"))
        if first == 0:
            pagination["first_page"] = 0
        consumed = [page]
    elif cursor:
        # The common convention (Stripe, Resend): a `has_more` flag and the last item's id.
        pagination = {
            "style": "cursor",
            "cursor_param": cursor,
            "has_more": "has_more",
            "cursor_field": "id",
        }
        consumed = [cursor]
        guessed = (
            f"cursor parameter `{cursor}` but the answer declares no next cursor or has_more; "
            "assumed has_more + the last item's id"
        )
    else:
        pagination = {"style": "none"}
        if limit:
            guessed = f"`{limit}` looks like a page size, but nothing pages; style none"
    unused = [p for p in (offset, page, cursor) if p and p not in consumed]
    if unused and pagination["style"] != "none":
        # Two schemes at once (Slack's count/page beside limit/cursor): mixing them pages
        # wrongly, so the other's parameters are no arguments.
        consumed += unused
        notes.append(
            f"declares more than one paging scheme; paged by {_scheme(pagination)}, "
            f"`{'`, `'.join(unused)}` left out"
            + (f", {switch}=true sent on every call" if fixed else "")
        )
    if limit and pagination["style"] != "none":
        pagination.setdefault("limit_param", limit)
        consumed.append(limit)
        _limits(pagination, query[limit])
    pagination["items"] = items
    total = _total(body, key, query)
    if total:
        pagination["total"] = total
    if guessed:
        notes.append(guessed)
    return Listing(_ordered(pagination), consumed, "; ".join(notes) or None, fixed)


def _scheme(pagination: dict[str, Any]) -> str:
    style = pagination["style"]
    param = pagination.get("cursor_param") or pagination.get("page_param")
    param = param or pagination.get("offset_param")
    return f"{style} `{param}`" if param else style


def _limits(pagination: dict[str, Any], schema: dict[str, Any]) -> None:
    maximum = schema.get("maximum")
    default = schema.get("default")
    if isinstance(maximum, int) and not isinstance(maximum, bool) and maximum >= 1:
        pagination["max_limit"] = maximum
        ok = isinstance(default, int) and 1 <= default <= maximum
        pagination["default_limit"] = default if ok else min(50, maximum)
    elif isinstance(default, int) and not isinstance(default, bool) and 1 <= default <= 100:
        pagination["default_limit"] = default


def _ordered(pagination: dict[str, Any]) -> dict[str, Any]:
    order = (
        "style", "limit_param", "offset_param", "page_param", "first_page", "cursor_param",
        "next_cursor", "has_more", "cursor_field", "next_url", "max_limit", "default_limit",
        "items", "total",
    )  # fmt: skip
    return {k: pagination[k] for k in order if k in pagination}
