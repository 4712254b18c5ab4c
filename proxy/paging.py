"""Uniform paging for list tools: `limit` and an opaque `next_cursor`, whatever the upstream.

Offset and page-number paging keep a position in the cursor. The other styles keep what
the upstream said comes next: its cursor (style `cursor`) or the path and query of its
next URL (`next_url`, `link_header`), sealed with an HMAC so an agent can neither forge
a URL nor carry a cursor to another tool or account.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit

import orjson

from .errors import NextPageRefused, ToolArgumentError
from .tools import Paging

# Styles whose cursor is the upstream's own state rather than a position yamcp counts.
CURSOR_STYLES = frozenset({"cursor", "next_url", "link_header"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


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
        # yamcp pages the one answer itself: it ends where the answer does, whatever total
        # the body claims (a count across pages the upstream did not send would otherwise
        # be a run of empty pages, each with a cursor).
        answered = len(items)
        total = answered if not isinstance(total, int) else total
        items = items[offset : offset + limit]
        end = offset + len(items)
        more = end < answered
    else:
        end = offset + len(items)
        if isinstance(total, int):
            more = end < total
        else:
            more = len(items) >= page_size(paging, limit, offset)
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


@dataclass(frozen=True, slots=True)
class PageAsk:
    """One page as the agent asked for it, its cursor decoded."""

    limit: int
    offset: int = 0  # styles offset, page, none
    cursor: str | None = None  # style cursor: the upstream's own
    url: str | None = None  # next_url, link_header: path and query on the account's origin


@dataclass(frozen=True, slots=True)
class CursorSeal:
    """Seals the cursors of one tool for one account.

    The key is derived from the tool, the account and its credentials, which every yamcp
    instance shares and no agent sees: a cursor made by one instance opens on another, a
    forged or edited one does not open, nor does one from another tool or account. The
    credential values are kept to strip them from a next URL that echoes one, so a cursor
    handed to the agent never carries a secret.
    """

    key: bytes
    secrets: frozenset[str]

    @classmethod
    def for_call(cls, tool: str, account: str, secrets: Iterable[str]) -> CursorSeal:
        values = sorted(s for s in secrets if s)
        key = hashlib.sha256(
            b"\0".join(
                [
                    b"yamcp next_cursor",
                    tool.encode(),
                    account.encode(),
                    *(v.encode() for v in values),
                ]
            )
        ).digest()
        return cls(key, frozenset(v for v in values if len(v) >= 4))

    def _mac(self, kind: str, value: str) -> str:
        digest = hmac.new(self.key, f"{kind}\0{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")

    def seal(self, kind: str, value: str) -> str:
        data = orjson.dumps([kind, value, self._mac(kind, value)])
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    def open(self, cursor: str) -> tuple[str, str]:
        try:
            kind, value, mac = orjson.loads(
                base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            )
            ok = isinstance(kind, str) and isinstance(value, str) and isinstance(mac, str)
        except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
            ok = False
        if not ok or not hmac.compare_digest(mac, self._mac(kind, value)):
            raise ToolArgumentError(
                "next_cursor: not a cursor this tool returned for this account (altered, or "
                "from another tool); pass the previous page's next_cursor unchanged, or omit "
                "it to start from the first page"
            )
        return kind, value


def read_ask(paging: Paging, arguments: Mapping[str, Any], seal: CursorSeal | None) -> PageAsk:
    """The page the arguments ask for; a cursor this tool cannot have made is refused.
    `seal` is needed by the styles in CURSOR_STYLES only."""
    limit = arguments.get("limit", paging.default_limit)
    cursor = arguments.get("next_cursor")
    if paging.style not in CURSOR_STYLES:
        return PageAsk(limit, offset=decode_cursor(cursor) if cursor else 0)
    if not cursor:
        return PageAsk(limit)
    assert seal is not None
    kind, value = seal.open(cursor)
    if kind == "c" and paging.style == "cursor":
        return PageAsk(limit, cursor=value)
    # Sealed by this tool, so a path on the account's origin; checked again all the same.
    if (
        kind == "u"
        and paging.style != "cursor"
        and value.startswith("/")
        and not value.startswith("//")
    ):
        return PageAsk(limit, url=value)
    raise ToolArgumentError("next_cursor: not a cursor this tool returned")


def ask_params(paging: Paging, ask: PageAsk) -> dict[str, Any]:
    """The upstream's paging parameters for a page that is not a next URL."""
    if paging.style not in CURSOR_STYLES:
        return upstream_params(paging, ask.limit, ask.offset)
    params: dict[str, Any] = {paging.limit_param: ask.limit}
    if ask.cursor is not None and paging.cursor_param is not None:
        params[paging.cursor_param] = ask.cursor
    return params


def follow_url(paging: Paging, ask: PageAsk, request_url: str) -> str:
    """The absolute URL of the next page: the sealed path and query on the origin of
    `request_url` (the account's base URL). The query is the upstream's state and stays
    as it was sent; the page size is added only where the upstream left it out, because
    changing it beside a page number would skip or repeat items."""
    assert ask.url is not None
    parts = urlsplit(request_url)
    url = f"{parts.scheme}://{parts.netloc}{ask.url}"
    query = urlsplit(url).query
    keys = {unquote_plus(pair.partition("=")[0]) for pair in query.split("&") if pair}
    if paging.limit_param and paging.limit_param not in keys:
        url += f"{'&' if query else '?'}{paging.limit_param}={ask.limit}"
    return url


def cursor_page(
    paging: Paging,
    body: Any,
    headers: Mapping[str, str],
    request_url: str,
    seal: CursorSeal,
) -> dict[str, Any]:
    """`{"result": [...], "next_cursor": ..., "total": ...}` for the styles that follow
    the upstream's own cursor or next URL. Raises `NextPageRefused` for a next page that
    cannot be followed, before anything is sent for it."""
    items = paging.items.search(body)
    if not isinstance(items, list):
        items = []
    total = paging.total.search(body) if paging.total is not None else None
    note = None
    if paging.style == "cursor":
        try:
            nxt = _next_cursor(paging, body, items)
        except _NoCursorField as exc:  # this page is good; only the next cannot be asked
            nxt, note = None, str(exc)
        cursor = seal.seal("c", nxt) if nxt is not None else None
    else:
        if paging.style == "next_url":
            assert paging.next_url is not None
            raw = paging.next_url.search(body)
            if raw is not None and not isinstance(raw, str):
                raise NextPageRefused(
                    f"the upstream's next page URL ({_expr(paging.next_url)}) is a "
                    f"{type(raw).__name__}, not a URL; yamcp cannot page further"
                )
        else:
            raw = next_link(_header_values(headers, "link"))
        path = _same_origin_path(raw.strip(), request_url, seal.secrets) if raw else None
        cursor = seal.seal("u", path) if path is not None else None
    page: dict[str, Any] = {"result": items, "next_cursor": cursor}
    if isinstance(total, int) and not isinstance(total, bool):
        page["total"] = total
    if note is not None:
        page["note"] = note
    return page


class _NoCursorField(NextPageRefused):
    """has_more, and no cursor in the last item: the page stands, with a note."""


def _expr(parsed: Any) -> str:
    return str(getattr(parsed, "expression", parsed))


def _next_cursor(paging: Paging, body: Any, items: list[Any]) -> str | None:
    if paging.next_cursor is not None:
        value, source = paging.next_cursor.search(body), _expr(paging.next_cursor)
    else:
        assert paging.has_more is not None and paging.cursor_field is not None
        if paging.has_more.search(body) is not True or not items:
            return None
        value = paging.cursor_field.search(items[-1])
        source = f"the last item's {_expr(paging.cursor_field)}"
        if value is None or value == "":  # has_more, yet nothing to continue from
            raise _NoCursorField(
                f"No next page: the upstream says more items follow, but {source} is "
                "missing, so yamcp has no cursor to ask for them (the manifest's "
                "cursor_field may name the wrong field)."
            )
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise NextPageRefused(
            f"the upstream's next cursor ({source}) is a {type(value).__name__}, not a "
            "string; yamcp cannot page further"
        )
    return str(value)


def _header_values(headers: Mapping[str, str], name: str) -> list[str]:
    """Every value of a header the upstream may send several times."""
    getall = getattr(headers, "getall", None)
    if callable(getall):
        return [str(v) for v in getall(name)]
    value = headers.get(name)
    return [value] if value is not None else []


def _origin(parts: Any) -> tuple[str, str, int | None]:
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or _DEFAULT_PORTS.get(scheme)


def _same_origin_path(raw: str, request_url: str, secrets: frozenset[str]) -> str:
    """The path and query of `raw` (absolute, or relative to the page's own URL) if it is
    on the request's scheme, host and port; anything else is refused, never requested."""
    base = urlsplit(request_url)
    try:
        target = urlsplit(urljoin(request_url, raw))
        where = _origin(target)
    except ValueError:  # a port that is not a number, a broken IPv6 literal
        raise NextPageRefused(
            "the upstream's next page URL is not a valid URL; yamcp did not follow it"
        ) from None
    if target.username is not None or target.password is not None:
        raise NextPageRefused(
            "the upstream's next page URL carries a user name or password; yamcp sends only "
            "the account's own credential, so it sent no request for it"
        )
    if where != _origin(base):
        scheme, host, port = where
        raise NextPageRefused(
            f"the upstream's next page is on {scheme}://{host}:{port}, not on the account's "
            f"base URL ({base.scheme}://{base.hostname}:{_origin(base)[2]}); yamcp follows "
            "a next URL only on the account's own scheme, host and port, so it sent no "
            "request for it"
        )
    query = "&".join(
        pair
        for pair in target.query.split("&")
        if pair and unquote_plus(pair.partition("=")[2]) not in secrets
    )
    return (target.path or "/") + (f"?{query}" if query else "")


def next_link(values: Iterable[str]) -> str | None:
    """The target of the first `rel="next"` link in RFC 8288 `Link` header values."""
    for value in values:
        for target, params in parse_link_header(value):
            if "next" in params.get("rel", "").lower().split():
                return target
    return None


def parse_link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """RFC 8288 links: `<uri>; name=token; name="quoted, string"` separated by commas.

    A comma inside `<...>` or a quoted string does not separate links; parameter names
    are case-insensitive and the first occurrence wins (section 3.3). A link that does
    not parse ends the parsing of this value: what came before it stands.
    """
    links: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " \t,":
            i += 1
        if i >= n or value[i] != "<":
            break
        end = value.find(">", i)
        if end < 0:
            break
        target, params = value[i + 1 : end].strip(), dict[str, str]()
        i = end + 1
        while True:
            while i < n and value[i] in " \t":
                i += 1
            if i >= n or value[i] != ";":
                break
            i += 1
            while i < n and value[i] in " \t":
                i += 1
            start = i
            while i < n and value[i] not in "=;, \t":
                i += 1
            name = value[start:i].lower()
            while i < n and value[i] in " \t":
                i += 1
            param = ""
            if i < n and value[i] == "=":
                i += 1
                while i < n and value[i] in " \t":
                    i += 1
                if i < n and value[i] == '"':
                    i += 1
                    chars = []
                    while i < n and value[i] != '"':
                        if value[i] == "\\" and i + 1 < n:
                            i += 1
                        chars.append(value[i])
                        i += 1
                    i += 1  # the closing quote
                    param = "".join(chars)
                else:
                    start = i
                    while i < n and value[i] not in ";, \t":
                        i += 1
                    param = value[start:i]
            if name:
                params.setdefault(name, param)
        links.append((target, params))
        while i < n and value[i] not in ",":  # anything after the params: skip to the next link
            i += 1
    return links
