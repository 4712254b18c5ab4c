"""The tests' fake Postmark: the sandbox's simulator, served over real HTTP on loopback, plus
a test harness.

The Postmark itself (seeded state, routes, template rendering, the ASGI app) lives in
`integrations/postmark/simulator/`, the simulator `yamcp serve --sandbox` serves: one fake,
not two. This file adds what only tests need: a uvicorn server in a daemon thread on
127.0.0.1 with an ephemeral port, a record of every request, and injected faults (error
statuses, non-JSON and truncated bodies, stalls, resets, drips).

Why a real server and not a mocked transport: the proxy's failure handling (timeouts,
connection resets, truncated or oversized bodies) happens in the HTTP client and in
`proxy.forward`, and only a real socket exercises it.

Usage:

    with FakePostmark() as fake:
        httpx.get(fake.url + "/bounces", params={"count": 10, "offset": 0},
                  headers={"X-Postmark-Server-Token": fake.server_token})
        fake.fail_next("status", status=429, headers={"Retry-After": "3"})
        fake.last("GET", "/bounces").query

The simulator's names (seed data such as SEED_TEMPLATES and SERVER_ID, `_template`,
`PostmarkState`, ...) are re-exported here for the tests that import them from this module;
`simulator` is the package itself, imported as a module of the Postmark integration
(proxy/integration_package.py), so that it shares mustachio.py with the hooks.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import uvicorn
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

from proxy.integration_package import load_module
from tests.support.paths import ROOT

POSTMARK = ROOT / "integrations" / "postmark"
simulator = load_module("postmark", POSTMARK, "simulator")

# The simulator's names, for the tests that import them from here.
BOUNCE_TYPES = simulator.BOUNCE_TYPES
BULK_ID = simulator.BULK_ID
INBOUND_BLOCKED_ID = simulator.INBOUND_BLOCKED_ID
INBOUND_FAILED_ID = simulator.INBOUND_FAILED_ID
INBOUND_PROCESSED_ID = simulator.INBOUND_PROCESSED_ID
NEWSLETTER_MESSAGE_ID = simulator.NEWSLETTER_MESSAGE_ID
RECEIPT_MESSAGE_ID = simulator.RECEIPT_MESSAGE_ID
RESET_MESSAGE_ID = simulator.RESET_MESSAGE_ID
SEED_BOUNCES = simulator.SEED_BOUNCES
SEED_OUTBOUND = simulator.SEED_OUTBOUND
SEED_STREAMS = simulator.SEED_STREAMS
SEED_TEMPLATES = simulator.SEED_TEMPLATES
SERVER_ID = simulator.SERVER_ID
TEST_TOKEN = simulator.TEST_TOKEN
WELCOME_MESSAGE_ID = simulator.WELCOME_MESSAGE_ID
ApiError = simulator.ApiError
PostmarkSimulator = simulator.PostmarkSimulator
PostmarkState = simulator.PostmarkState
dispatch = simulator.dispatch
seed_state = simulator.seed_state
_bounce = simulator.records.bounce
_outbound = simulator.records.outbound
_template = simulator.records.template
_json_response = simulator.json_response

FAULT_KINDS = ("status", "non_json", "truncated", "huge", "stall", "reset", "drip")


@dataclass
class Recorded:
    """One request as it reached the fake (recorded before auth, faults and routing)."""

    method: str
    path: str  # as sent on the wire: not percent-decoded, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes
    json: Any | None  # the parsed body, or None when empty or not JSON
    target: str = ""  # the request target as sent: raw path, and `?query` when there is one


@dataclass
class _Fault:
    kind: str
    path: str | re.Pattern[str] | None
    method: str | None
    options: dict[str, Any]
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path is None:
            return True
        if isinstance(self.path, re.Pattern):
            return self.path.search(path) is not None
        return _same_path(self.path, path)


def _same_path(a: str, b: str) -> bool:
    return unquote(a).rstrip("/").lower() == unquote(b).rstrip("/").lower()


# ======================================================================== faults


def _default_status_body(status: int) -> dict[str, Any]:
    if status == 429:
        return {"ErrorCode": 429, "Message": "Rate limit exceeded."}
    if status == 503:
        return {"ErrorCode": 100, "Message": "The Postmark API is offline for maintenance."}
    if status >= 500:
        return {
            "ErrorCode": 101,
            "Message": "Unexpected error. Error ID: a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        }
    return {"ErrorCode": status, "Message": f"Injected HTTP {status}."}


def _as_bytes(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def _raw_head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_TRUNCATED_DEFAULT = {"TotalCount": 2, "Bounces": SEED_BOUNCES[:2]}


def _tracking_protocol(registry: dict[tuple[str, int], _TrackedProtocol]) -> type[_TrackedProtocol]:
    """uvicorn's h11 protocol, remembering each connection by client address, so a fault can
    reach the raw transport (uvicorn puts the client address, not the transport, in scope)."""

    class _Bound(_TrackedProtocol):
        pass

    _Bound.registry = registry
    return _Bound


class _TrackedProtocol(H11Protocol):
    registry: dict[tuple[str, int], _TrackedProtocol]
    lost: asyncio.Event

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[arg-type]
        self.lost = asyncio.Event()
        if self.client:
            self.registry[(self.client[0], self.client[1])] = self

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.lost.set()
        if self.client and self.registry.get((self.client[0], self.client[1])) is self:
            del self.registry[(self.client[0], self.client[1])]


# ======================================================================== the fake


class FakePostmark(PostmarkSimulator):
    """The simulator on http://127.0.0.1:<ephemeral port>, with records and faults.

    Attributes tests use: `url`, `server_token`, `account_token`, `requests` (list of
    Recorded), `counts` (Counter of (METHOD, path)), `state` (PostmarkState, mutable),
    `server_delete_enabled` (False makes DELETE /servers/{id} answer ErrorCode 604).
    The default tokens are also class attributes, for code that needs them before an
    instance exists (e.g. the environment of a proxy started for the session).
    """

    server_token: str = "server-token-test"
    account_token: str = "account-token-test"

    def __init__(
        self, server_token: str = "server-token-test", account_token: str = "account-token-test"
    ) -> None:
        super().__init__(server_token, account_token)
        self.url = ""
        self.requests: list[Recorded] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._stalled: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._stopping = False
        self._connections: dict[tuple[str, int], _TrackedProtocol] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakePostmark:
        """Serve on 127.0.0.1 (port 0: the OS picks one) in a daemon thread; wait until up."""
        if self._thread is not None:
            raise RuntimeError("FakePostmark is already running")
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it uvicorn's separate header and body writes meet delayed ACKs (40 ms each).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._asgi,
            http=_tracking_protocol(self._connections),
            loop="asyncio",
            interface="asgi3",
            proxy_headers=False,
            lifespan="off",
            ws="none",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        self._stopping = False
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"fake-postmark-{port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the fake Postmark server did not start")
            time.sleep(0.005)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        """Release stalled requests (they then answer normally) and shut the server down."""
        self._stopping = True
        self.release()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakePostmark:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget recorded requests and queued faults; restore the seeded state."""
        with self._lock:
            self.requests.clear()
            self.counts.clear()
            self._faults.clear()
        self.release()
        super().reset()

    # ---------------------------------------------------------------- inspection

    def last(self, method: str | None = None, path: str | None = None) -> Recorded:
        """The most recent request matching method and path (case-insensitive)."""
        for rec in reversed(self.requests):
            if (method is None or rec.method == method.upper()) and (
                path is None or _same_path(path, rec.path)
            ):
                return rec
        seen = ", ".join(f"{r.method} {r.path}" for r in self.requests) or "none"
        raise AssertionError(
            f"no recorded request matches {method or '*'} {path or '*'}; seen: {seen}"
        )

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests reached the fake for this method and path (case-insensitive)."""
        return sum(
            n
            for (m, p), n in self.counts.items()
            if (method is None or m == method.upper()) and (path is None or _same_path(path, p))
        )

    # ---------------------------------------------------------------- faults

    def fail_next(
        self,
        kind: str,
        *,
        path: str | re.Pattern[str] | None = None,
        method: str | None = None,
        times: int = 1,
        **options: Any,
    ) -> None:
        """Make the next matching request fail.

        kind and options:
          "status":    status=500, body=<JSON, str or bytes; default a Postmark error>,
                       headers={...}, e.g. 429 with Retry-After / X-RateLimit-* headers.
          "non_json":  status=200, body="<html>...", content_type="text/html; charset=utf-8".
          "truncated": status=200, body=<JSON>, sent=<bytes actually sent; default half>;
                       Content-Length is the full size, then the connection is closed.
          "huge":      size=<exact byte length of a valid JSON body>, status=200.
          "stall":     accepts and reads the request, answers nothing until release()/stop(),
                       then answers normally. Other requests are served meanwhile.
          "reset":     partial=<bytes sent first; default the status line and half a header>,
                       then the TCP connection is aborted with RST.
          "drip":      status=200 and its headers at once, then one byte of body every
                       every=<seconds; default 0.2> until the client hangs up or the fake
                       stops: no read timeout ever fires.
        Every kind takes headers={...}; path= (str: exact, case-insensitive; or a compiled
        regex) and method= narrow which request fails; times= repeats the fault.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS}")
        if kind == "huge" and int(options.get("size", 0)) < 14:
            raise ValueError("a 'huge' fault needs size= of at least 14 bytes")
        with self._lock:
            self._faults.append(_Fault(kind, path, method, options, times))

    def release(self) -> int:
        """Let every stalled request continue; returns how many were stalled."""
        with self._lock:
            stalled, self._stalled = self._stalled, []
        for loop, event in stalled:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)
        return len(stalled)

    @property
    def stalled(self) -> int:
        """How many requests are waiting on a stall fault right now."""
        with self._lock:
            return len(self._stalled)

    def wait_stalled(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until `count` requests are stalled, so release() has something to release."""
        deadline = time.monotonic() + timeout
        while self.stalled < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.stalled} of {count} requests stalled after {timeout}s")
            time.sleep(0.005)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ---------------------------------------------------------------- ASGI

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        method, path, query, headers = simulator.request_parts(scope, request)
        raw_query = scope["query_string"].decode("latin-1")
        target = f"{path}?{raw_query}" if raw_query else path
        try:
            parsed = json.loads(body) if body.strip() else None
        except ValueError:
            parsed = None
        with self._lock:
            self.requests.append(Recorded(method, path, query, headers, body, parsed, target))
            self.counts[(method, path)] += 1
        fault = self._take_fault(method, path)
        response: Response | None = None
        if fault is not None:
            if fault.kind in ("truncated", "reset"):
                await self._raw_fault(fault, scope)
                return
            if fault.kind == "stall":
                if not await self._stall(receive):
                    return
            elif fault.kind == "drip":
                response = self._drip(fault)
            else:
                response = self._fault_response(fault)
        if response is None:
            response = dispatch(self, method, path, query, headers, body)
        await response(scope, receive, send)

    def _fault_response(self, fault: _Fault) -> Response:
        opts = fault.options
        headers = dict(opts.get("headers") or {})
        if fault.kind == "status":
            status = int(opts.get("status", 500))
            body = opts.get("body", _default_status_body(status))
            if isinstance(body, bytes | str):
                return Response(
                    _as_bytes(body),
                    status,
                    headers,
                    media_type=opts.get("content_type", "application/json"),
                )
            return _json_response(status, body, headers)
        if fault.kind == "non_json":
            page = opts.get(
                "body",
                "<html><head><title>502 Bad Gateway</title></head><body>"
                "<h1>502 Bad Gateway</h1></body></html>",
            )
            return Response(
                _as_bytes(page),
                int(opts.get("status", 200)),
                headers,
                media_type=opts.get("content_type", "text/html; charset=utf-8"),
            )
        size = int(opts["size"])
        payload = b'{"Padding":"' + b"x" * (size - 14) + b'"}'
        return Response(
            payload, int(opts.get("status", 200)), headers, media_type="application/json"
        )

    def _drip(self, fault: _Fault) -> Response:
        every = float(fault.options.get("every", 0.2))

        async def body() -> AsyncIterator[bytes]:
            yield b"{"
            while not self._stopping:
                await asyncio.sleep(every)
                yield b" "

        headers = dict(fault.options.get("headers") or {})
        return StreamingResponse(
            body(), int(fault.options.get("status", 200)), headers, media_type="application/json"
        )

    async def _stall(self, receive: Any) -> bool:
        """Wait for release()/stop() (True) or for the client to hang up (False)."""
        if self._stopping:
            return True
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._stalled.append(entry)

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        waiters = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(disconnected())}
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            with self._lock:
                if entry in self._stalled:
                    self._stalled.remove(entry)
        return event.is_set()

    async def _raw_fault(self, fault: _Fault, scope: dict[str, Any]) -> None:
        """Write bytes on the raw transport, then close (truncated) or abort with RST (reset)."""
        client = scope.get("client")
        protocol = self._connections.get((client[0], client[1])) if client else None
        if protocol is None:
            raise RuntimeError("the connection's transport is not known to the fake")
        transport = protocol.transport
        opts = fault.options
        headers = {str(k): str(v) for k, v in (opts.get("headers") or {}).items()}
        if fault.kind == "truncated":
            body = _as_bytes(opts.get("body", _TRUNCATED_DEFAULT))
            sent = int(opts.get("sent", len(body) // 2))
            head = {"content-type": "application/json", "content-length": str(len(body)), **headers}
            transport.write(_raw_head(int(opts.get("status", 200)), head) + body[:sent])
            transport.close()
        else:
            partial = opts.get("partial", b"HTTP/1.1 200 OK\r\nContent-Type: applic")
            transport.write(_as_bytes(partial))
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        # Wait until uvicorn has seen the connection go, so it does not answer a 500 itself.
        try:
            await asyncio.wait_for(protocol.lost.wait(), timeout=5)
        except TimeoutError:
            transport.abort()
