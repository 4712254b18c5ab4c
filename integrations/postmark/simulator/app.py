"""The simulator as an ASGI app: the route table, and the door every request goes through
(route, token, media types, JSON) before its handler runs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import (
    bounces,
    bulk,
    data_removals,
    domains,
    inbound_rules,
    messages,
    senders,
    sending,
    servers,
    stats,
    streams,
    suppressions,
    templates,
    webhooks,
)
from .call import ApiError, Call, Query
from .records import TEST_TOKEN
from .routing import Route, match
from .state import seed_state

ROUTES: tuple[Route, ...] = (
    *sending.ROUTES,
    *bulk.ROUTES,
    *bounces.ROUTES,
    *templates.ROUTES,
    *streams.ROUTES,
    *suppressions.ROUTES,
    *webhooks.ROUTES,
    *messages.ROUTES,
    *stats.ROUTES,
    *servers.ROUTES,
    *domains.ROUTES,
    *senders.ROUTES,
    *data_removals.ROUTES,
    *inbound_rules.ROUTES,
)

# What `yamcp serve --sandbox` gives the sandbox account: the manifest's credential secret
# names and the values this simulator accepts. They open nothing but this simulator.
CREDENTIALS = {
    "server_token": "sandbox-server-token",
    "account_token": "sandbox-account-token",
}


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(payload, status_code=status, headers=headers)


def _same_token(supplied: str | None, expected: str) -> bool:
    """Postmark's comparison: the whole value, ignoring only letter case."""
    return supplied is not None and supplied.lower() == expected.lower()


def _media_types(header: str) -> list[tuple[str, float]]:
    """`type/subtype` (lower case) and its q of each range in an Accept-style header."""
    ranges = []
    for item in header.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if kind:
            ranges.append((kind.lower(), q))
    return ranges


def _media_type_problem(headers: dict[str, str], body: bytes) -> str | None:
    """Why Postmark would answer 415 to these headers, or None."""
    accept = headers.get("accept")
    if accept is not None:
        json_ok = any(
            q > 0 and kind in ("application/json", "application/*", "*/*")
            for kind, q in _media_types(accept)
        )
        if not json_ok:
            return f"Unsupported Media Type: Accept {accept!r} rules out application/json."
    if body:
        content_type = headers.get("content-type")
        kinds = _media_types(content_type or "")
        if len(kinds) != 1 or kinds[0][0] != "application/json":
            return (
                f"Unsupported Media Type: a request body must be sent as application/json, "
                f"not {content_type or 'without a Content-Type'}."
            )
    return None


def dispatch(
    sim: PostmarkSimulator,
    method: str,
    path: str,
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: bytes,
) -> Response:
    """Route, authenticate, check media types, parse JSON and run the handler, in that order."""
    found = match(ROUTES, method, path)
    if isinstance(found, list):
        if not found:
            return json_response(
                404, {"ErrorCode": 12, "Message": f"Resource not found: {method} {path}"}
            )
        return json_response(
            405,
            {
                "ErrorCode": 12,
                "Message": f"The requested resource does not support http method '{method}'.",
            },
            {"Allow": ", ".join(sorted(set(found)))},
        )
    route, params = found
    account = route.token == "account"
    supplied = headers.get("x-postmark-account-token" if account else "x-postmark-server-token")
    expected = sim.account_token if account else sim.server_token
    test_mode = route.sending and _same_token(supplied, TEST_TOKEN)
    if not test_mode and not _same_token(supplied, expected):
        kind = "Account" if account else "Server"
        return json_response(
            401, {"ErrorCode": 10, "Message": f"Request does not contain a valid {kind} token."}
        )
    unsupported = _media_type_problem(headers, body)
    if unsupported:
        return json_response(415, {"ErrorCode": 409, "Message": unsupported})
    parsed: Any = None
    if method in ("POST", "PUT", "PATCH") and body.strip():
        try:
            parsed = json.loads(body)
        except ValueError:
            return json_response(422, {"ErrorCode": 402, "Message": "Received invalid JSON input."})
    call = Call(sim, sim.state, params, Query(query), parsed, test_mode)
    try:
        return json_response(200, route.handler(call))
    except ApiError as exc:
        return json_response(exc.status, {"ErrorCode": exc.code, "Message": exc.message})


class PostmarkSimulator:
    """Postmark as an ASGI app: seeded, in memory, stateful.

    `server_token` and `account_token` are the tokens it accepts (any letter case), `state`
    its data (PostmarkState, mutable), `server_delete_enabled` False makes
    DELETE /servers/{id} answer ErrorCode 604. `reset()` restores the seeded data.
    """

    def __init__(
        self, server_token: str = "server-token-test", account_token: str = "account-token-test"
    ) -> None:
        self.server_token = server_token
        self.account_token = account_token
        self.server_delete_enabled = True
        self.state = seed_state(server_token)

    def reset(self) -> None:
        """Forget every change: back to the seeded data."""
        self.state = seed_state(self.server_token)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        method, path, query, headers = request_parts(scope, request)
        response = dispatch(self, method, path, query, headers, body)
        await response(scope, receive, send)


def request_parts(
    scope: dict[str, Any], request: Request
) -> tuple[str, str, dict[str, list[str]], dict[str, str]]:
    """Method, path as sent (not percent-decoded), query and headers (names lower-cased,
    repeated ones joined with ", "), as `dispatch` takes them."""
    method = scope["method"].upper()
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return method, path, query, headers


def sandbox_app() -> PostmarkSimulator:
    """A fresh simulator that accepts `CREDENTIALS`: what `yamcp serve --sandbox` serves."""
    return PostmarkSimulator(CREDENTIALS["server_token"], CREDENTIALS["account_token"])
