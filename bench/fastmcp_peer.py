"""The peer: FastMCP's OpenAPI proxy over the same fake upstream, stateless JSON mode.

Runs in its own virtualenv (bench/.peer, made by bench/run.py) so FastMCP's
dependencies never touch yamcp's. Run: python bench/fastmcp_peer.py PORT UPSTREAM_URL
"""

from __future__ import annotations

import sys

import httpx2
import uvicorn
from fastmcp import FastMCP

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Postmark bounces", "version": "1.0"},
    "servers": [{"url": "http://127.0.0.1"}],
    "paths": {
        "/bounces": {
            "get": {
                "operationId": "list_all_postmark_bounces",
                "summary": "Search bounces.",
                "parameters": [
                    {
                        "name": "count",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {
                        "name": "offset",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {"name": "emailFilter", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "Bounces",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    },
}


def main(port: int, upstream: str) -> None:
    client = httpx2.AsyncClient(
        base_url=upstream, headers={"X-Postmark-Server-Token": "bench-token"}, timeout=30
    )
    server = FastMCP.from_openapi(openapi_spec=SPEC, client=client, name="postmark")
    app = server.http_app(path="/mcp", stateless_http=True, json_response=True)
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
