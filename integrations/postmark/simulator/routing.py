"""Routes: a method and a path template, the token kind they need, and the handler.

Each area's module lists its routes in a `ROUTES` tuple; app.py puts them together in one
table, in order. Order matters where two templates match one path: a literal segment
(`/bounces/tags`) comes before a `{param}` one (`/bounces/{bounceid}`). Paths match
case-insensitively, as Postmark's do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .call import Call

Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    token: str  # "server" or "account"
    handler: Handler
    sending: bool  # a send: the POSTMARK_API_TEST token checks it without sending


def route(
    method: str, template: str, handler: Handler, *, token: str = "server", sending: bool = False
) -> Route:
    parts = re.split(r"(\{\w+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    pattern = re.compile(f"^{regex}/?$", re.IGNORECASE)
    return Route(method, template, pattern, token, handler, sending)


def match(
    routes: Iterable[Route], method: str, path: str
) -> tuple[Route, dict[str, str]] | list[str]:
    """The route for this request and its path parameters, or the methods the path allows
    (empty: unknown path)."""
    allowed: list[str] = []
    for candidate in routes:
        found = candidate.pattern.match(path)
        if found is None:
            continue
        if candidate.method == method:
            return candidate, {k: unquote(v) for k, v in found.groupdict().items()}
        allowed.append(candidate.method)
    return allowed
