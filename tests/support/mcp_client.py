"""The official MCP SDK client over Streamable HTTP, with every answer checked against the
official JSON Schema of its protocol era."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from referencing import Registry, Resource

from tests.support.paths import DATA


def _schema_validator(version: str, definition: str) -> Draft202012Validator:
    schema = json.loads((DATA / f"{version}.json").read_text())
    sid = f"urn:mcp:{version}"
    registry = Registry().with_resource(sid, Resource.from_contents({**schema, "$id": sid}))
    return Draft202012Validator({"$ref": f"{sid}#/$defs/{definition}"}, registry=registry)


RESULTS = {
    "2025-11-25": {
        "initialize": "InitializeResult",
        "tools/list": "ListToolsResult",
        "tools/call": "CallToolResult",
        "ping": "EmptyResult",
    },
    "2026-07-28": {
        "server/discover": "DiscoverResult",
        "tools/list": "ListToolsResult",
        "tools/call": "CallToolResult",
    },
}


class SchemaChecker:
    """Validates each JSON-RPC response against the official schema of its era."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Draft202012Validator] = {}
        self.checked = 0

    def validator(self, version: str, definition: str) -> Draft202012Validator:
        key = (version, definition)
        if key not in self._cache:
            self._cache[key] = _schema_validator(version, definition)
        return self._cache[key]

    def check(self, method: str, response: dict[str, Any], version: str = "2025-11-25") -> None:
        if "error" in response:
            self.validator(version, "JSONRPCErrorResponse").validate(response)
        else:
            self.validator(version, "JSONRPCResultResponse").validate(response)
            definition = RESULTS[version].get(method)
            if definition:
                self.validator(version, definition).validate(response["result"])
        self.checked += 1


@contextlib.asynccontextmanager
async def mcp_client(
    url: str,
    checker: SchemaChecker | None = None,
    *,
    mode: str = "legacy",
    headers: dict[str, str] | None = None,
) -> AsyncIterator[Client]:
    """The official SDK client over Streamable HTTP; every answer is schema-checked."""
    sent: dict[str, str] = {}

    async def on_request(request: httpx2.Request) -> None:
        with contextlib.suppress(ValueError):
            message = json.loads(request.content)
            if "id" in message:
                sent[json.dumps(message["id"])] = message["method"]

    async def on_response(response: httpx2.Response) -> None:
        if checker is None or response.status_code == 202:
            return
        await response.aread()
        body = response.json()
        method = sent.get(json.dumps(body.get("id")), "")
        version = response.request.headers.get("mcp-protocol-version", "2025-11-25")
        checker.check(method, body, "2026-07-28" if version == "2026-07-28" else "2025-11-25")

    hooks = {"request": [on_request], "response": [on_response]}
    async with (
        httpx2.AsyncClient(headers=headers or {}, event_hooks=hooks, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode, cache=None) as client,
    ):
        yield client
