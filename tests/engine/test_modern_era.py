"""MCP 2026-07-28 beside the legacy era on the same endpoint."""

from __future__ import annotations

import base64

import httpx
import pytest
from mcp import Client

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import SchemaChecker, mcp_client
from tests.support.serving import Yamcp

V = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": V,
    "io.modelcontextprotocol/clientCapabilities": {},
}


@pytest.fixture
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


def modern(
    url: str,
    method: str,
    params: dict | None = None,
    *,
    headers: dict[str, str] | None = None,
    meta: dict | None = None,
    id_: int | str = 1,
) -> httpx.Response:
    params = {**(params or {}), "_meta": META if meta is None else meta}
    sent = {"content-type": "application/json", "mcp-protocol-version": V, "mcp-method": method}
    if method == "tools/call":
        sent["mcp-name"] = params.get("name", "")
    sent.update(headers or {})
    body = {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}
    return httpx.post(url, json=body, headers={k: v for k, v in sent.items() if v is not None})


async def test_sdk_auto_mode_lands_on_the_modern_era(
    url: str, postmark: FakePostmark, schema_checker: SchemaChecker
) -> None:
    before = schema_checker.checked
    async with mcp_client(url, schema_checker, mode="auto") as client:
        assert client.protocol_version == V
        tools = await client.list_tools()
        assert "list_all_postmark_bounces" in {t.name for t in tools.tools}
        result = await client.call_tool("list_all_postmark_bounces", {"limit": 2})
        assert not result.is_error
        assert len(result.structured_content["result"]) == 2
    assert schema_checker.checked >= before + 3
    assert postmark.last("GET", "/bounces").query["count"] == ["2"]


async def test_sdk_legacy_mode_lands_on_2025_11_25(url: str, schema_checker: SchemaChecker) -> None:
    async with mcp_client(url, schema_checker, mode="legacy") as client:
        assert client.protocol_version == "2025-11-25"
        assert (await client.list_tools()).tools


async def test_sdk_plain_client_url(url: str) -> None:
    async with Client(url, cache=None) as client:
        assert client.protocol_version == V


def test_discover(url: str, schema_checker: SchemaChecker) -> None:
    response = modern(url, "server/discover", id_="openai-mcp-discover")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    schema_checker.check("server/discover", body, V)
    result = body["result"]
    assert result["resultType"] == "complete"
    assert result["supportedVersions"][0] == V and "2025-11-25" in result["supportedVersions"]
    assert "tools" in result["capabilities"]
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "yamcp"
    assert result["cacheScope"] == "private" and result["ttlMs"] >= 0


def test_tools_list_has_ttl_and_private_cache_scope(
    url: str, schema_checker: SchemaChecker
) -> None:
    body = modern(url, "tools/list").json()
    schema_checker.check("tools/list", body, V)
    result = body["result"]
    assert result["resultType"] == "complete"
    assert result["cacheScope"] == "private" and isinstance(result["ttlMs"], int)
    assert modern(url, "tools/list", {"cursor": "nope"}).status_code == 400


def test_missing_meta_fields_are_400_32602(url: str) -> None:
    for meta in ({"io.modelcontextprotocol/protocolVersion": V}, {}):
        response = modern(url, "tools/list", meta=meta)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == -32602
        assert response.json()["id"] == 1


def test_header_and_meta_version_mismatch_is_32020(url: str, schema_checker: SchemaChecker) -> None:
    response = modern(url, "tools/list", headers={"mcp-protocol-version": "2025-11-25"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32020
    schema_checker.check("", response.json(), V)


def test_unsupported_version_is_32022_with_supported_list(url: str) -> None:
    meta = {**META, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
    response = modern(url, "tools/list", meta=meta, headers={"mcp-protocol-version": "2099-01-01"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32022
    assert error["data"]["requested"] == "2099-01-01" and V in error["data"]["supported"]


@pytest.mark.parametrize(
    ("headers", "method", "params"),
    [
        ({"mcp-method": None}, "tools/list", None),
        ({"mcp-method": "tools/call"}, "tools/list", None),
        ({"mcp-name": None}, "tools/call", {"name": "list_all_postmark_bounces"}),
        ({"mcp-name": "other_tool"}, "tools/call", {"name": "list_all_postmark_bounces"}),
        (
            {"mcp-name": "LIST_ALL_POSTMARK_BOUNCES"},
            "tools/call",
            {"name": "list_all_postmark_bounces"},
        ),
    ],
)
def test_mcp_method_and_name_headers_must_match(
    url: str, postmark: FakePostmark, headers: dict, method: str, params: dict | None
) -> None:
    response = modern(url, method, params, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32020
    assert postmark.requests == []


def test_base64_encoded_mcp_name_is_decoded(url: str, schema_checker: SchemaChecker) -> None:
    name = "get_single_postmark_delivery_stat_by_id"
    encoded = "=?base64?" + base64.b64encode(name.encode()).decode() + "?="
    response = modern(
        url, "tools/call", {"name": name, "arguments": {}}, headers={"mcp-name": encoded}
    )
    assert response.status_code == 200
    body = response.json()
    schema_checker.check("tools/call", body, V)
    assert body["result"]["resultType"] == "complete" and body["result"]["isError"] is False


@pytest.mark.parametrize("method", ["initialize", "ping", "logging/setLevel", "resources/list"])
def test_unknown_and_removed_methods_are_404(url: str, method: str) -> None:
    response = modern(url, method)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == -32601


def test_notifications_are_202(url: str) -> None:
    body = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"_meta": META}}
    response = httpx.post(
        url, json=body, headers={"mcp-protocol-version": V, "mcp-method": "notifications/cancelled"}
    )
    assert response.status_code == 202 and response.content == b""


def test_unknown_tool_is_200_with_32602(url: str) -> None:
    response = modern(url, "tools/call", {"name": "nope", "arguments": {}})
    assert response.status_code == 200 and response.json()["error"]["code"] == -32602
