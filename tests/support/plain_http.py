"""A running yamcp over plain httpx, nothing smoothed over: its admin API with a fresh admin
token, and JSON-RPC messages posted as they are (initialize, any message, a tool call)."""

from __future__ import annotations

import httpx

from tests.support.serving import Yamcp

EMAIL = {
    "From": "sender@example.com",
    "To": "receiver@example.com",
    "Subject": "Hello",
    "TextBody": "Hi",
}


def admin_client(server: Yamcp) -> httpx.Client:
    token = server.cli("admin-token", "create").stdout.strip()
    return httpx.Client(
        base_url=server.base, headers={"authorization": f"Bearer {token}"}, timeout=10
    )


def create(admin: httpx.Client, **body: object) -> dict:
    body.setdefault("name", "plain-http")
    response = admin.post("/integrated-account/acme/mcp", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def initialize(url: str) -> httpx.Response:
    return httpx.post(
        url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}},
        },
        timeout=10,
    )


def rpc(url: str, message: dict, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(url, json=message, headers=headers or {}, timeout=30)


def tool_call(url: str, name: str, arguments: dict) -> tuple[httpx.Response, dict]:
    response = rpc(
        url,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        },
    )
    assert response.status_code == 200, response.text
    return response, response.json()["result"]
