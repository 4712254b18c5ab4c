"""A reference point, not a product: the least a Python proxy on this stack can do.

One Starlette route that forwards a POST's call to `GET /bounces` with pyreqwest (the
client yamcp uses by default) and returns the body: no JSON-RPC, no token lookup, no
policy, no validation, no mapping. yamcp's cost over it is the price of everything
yamcp does. Run: python bench/minimal_proxy.py PORT UPSTREAM_URL
"""

from __future__ import annotations

import sys

import uvicorn
from pyreqwest.client import Client, ClientBuilder
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

UPSTREAM = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:8001"
client: Client | None = None


async def forward(request: Request) -> Response:
    global client
    if client is None:
        client = ClientBuilder().build()
    await request.body()
    upstream = (
        await client.get(f"{UPSTREAM}/bounces?count=2&offset=0")
        .headers({"X-Postmark-Server-Token": "bench"})
        .build()
        .send()
    )
    body = bytes(await upstream.bytes())
    return Response(body, upstream.status, media_type="application/json")


app = Starlette(routes=[Route("/mcp", forward, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=False, log_level="warning")
