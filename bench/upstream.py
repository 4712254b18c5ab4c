"""The benchmark's fake Postmark: `GET /bounces` answered with Postmark's shape.

A small Starlette service on uvicorn, the same one for the direct run and behind both
proxies. Run: python bench/upstream.py PORT [DELAY_MS [WORKERS]]

With DELAY_MS each answer waits that long first (an asyncio sleep, so waiting costs no
CPU and any number of requests wait at once), the way a real API's latency does.
WORKERS processes share the listening socket, so that at 1,000 connections the fake is
not what limits the upstream called directly. `GET /stats` says how many `/bounces`
requests arrived and the most that were in flight at once, so the benchmark can check
that every call it timed reached the upstream.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import socket
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BOUNCE = {
    "RecordType": "Bounce",
    "ID": 692560173,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Tag": "welcome",
    "MessageID": "d12c2f1c-60f3-4258-b163-d17052546ae4",
    "ServerID": 23,
    "MessageStream": "outbound",
    "Description": "The server was unable to deliver your message (ex: unknown user).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "jim@example.com",
    "From": "sender@example.com",
    "BouncedAt": "2024-01-15T16:09:19.6421112-05:00",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Hello from our app!",
}
BODY = json.dumps({"TotalCount": 253, "Bounces": [BOUNCE, BOUNCE]}).encode()
UNAUTHORIZED = b'{"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied."}'


# Shared by the worker processes (forked after it is made): requests, in flight, most in flight.
seen = multiprocessing.Array("q", 3)
DELAY = 0.0


async def bounces(request: Request) -> Response:
    if not DELAY:
        seen[0] += 1  # one worker: no other writer
        if request.headers.get("x-postmark-server-token") is None:
            return Response(UNAUTHORIZED, 401, media_type="application/json")
        return Response(BODY, media_type="application/json")
    with seen.get_lock():
        seen[0] += 1
        seen[1] += 1
        seen[2] = max(seen[2], seen[1])
    try:
        if request.headers.get("x-postmark-server-token") is None:
            return Response(UNAUTHORIZED, 401, media_type="application/json")
        await asyncio.sleep(DELAY)
        return Response(BODY, media_type="application/json")
    finally:
        with seen.get_lock():
            seen[1] -= 1


async def stats(request: Request) -> Response:
    if request.method == "POST":  # start counting the most in flight afresh
        with seen.get_lock():
            seen[2] = seen[1]
    requests, in_flight, most = seen[:]
    body = {"requests": requests, "in_flight": in_flight, "max_in_flight": most}
    return Response(json.dumps(body), media_type="application/json")


app = Starlette(
    routes=[Route("/bounces", bounces), Route("/stats", stats, methods=["GET", "POST"])]
)


def serve(sock: socket.socket) -> None:
    config = uvicorn.Config(app, access_log=False, log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def main() -> None:
    global DELAY
    port = int(sys.argv[1])
    DELAY = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)  # 1,000 connections may arrive at once; none may wait to be accepted
    if workers == 1:
        serve(sock)
        return
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            serve(sock)
            os._exit(0)
        children.append(pid)

    def stop(*_: object) -> None:
        for child in children:
            os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        os.waitpid(child, 0)


if __name__ == "__main__":
    main()
