"""The MCP endpoint's HTTP and JSON-RPC edges, sent raw so nothing is smoothed over."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from proxy.store import SQLiteStore, utcnow
from proxy.tokens import new_token
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import SchemaChecker
from tests.support.serving import Yamcp

JSON = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


@pytest.fixture
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


def post(url: str, body: bytes | str, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.post(url, content=content, headers={**JSON, **(headers or {})}, timeout=10)


def rpc(
    url: str, method: str, params: dict | None = None, id_: int | str | None = 1, **kw
) -> httpx.Response:
    message: dict = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if id_ is not None:
        message["id"] = id_
    return post(url, json.dumps(message), **kw)


async def test_unknown_revoked_expired_and_malformed_tokens_get_the_same_404(
    yamcp: Yamcp,
) -> None:
    revoked = json.loads(yamcp.cli("mint", "--account", "acme", "--json").stdout)
    expired = json.loads(yamcp.cli("mint", "--account", "acme", "--json").stdout)
    for created in (revoked, expired):
        assert rpc(created["url"], "ping").status_code == 200
    assert yamcp.cli("servers", "revoke", revoked["id"]).returncode == 0
    store = SQLiteStore(yamcp.settings.data_dir)
    try:  # its expiry moved into the past, as if the time had come
        record = await store.get_server(expired["id"])
        assert record is not None
        past = record.model_copy(update={"expires_at": utcnow() - timedelta(seconds=1)})
        assert await store.update_server(past)
    finally:
        await store.close()

    urls = {
        "unknown": f"{yamcp.base}/mcp/{new_token()}",
        "revoked": revoked["url"],
        "expired": expired["url"],
        "short": f"{yamcp.base}/mcp/x",
        "too long": f"{yamcp.base}/mcp/{'a' * 300}",
    }
    for message in (
        '{"jsonrpc":"2.0","id":1,"method":"ping"}',
        '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_all_postmark_bounces"}}',
        "{}",
    ):
        answers = {what: post(url, message) for what, url in urls.items()}
        assert {what: r.status_code for what, r in answers.items()} == dict.fromkeys(urls, 404)
        assert {r.content for r in answers.values()} == {answers["unknown"].content}
        assert {r.headers["content-type"] for r in answers.values()} == {"application/json"}
    assert json.loads(answers["unknown"].content)["error"] == "not_found"


def test_get_and_delete_are_405_with_allow_post(url: str) -> None:
    for method in ("GET", "DELETE"):
        response = httpx.request(method, url, timeout=5)
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"


def test_parse_error_is_400_with_32700(url: str, schema_checker: SchemaChecker) -> None:
    response = post(url, "{not json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == -32700 and "id" not in body
    schema_checker.check("", body)


@pytest.mark.parametrize(
    "body",
    [
        '[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
        '{"jsonrpc":"1.0","id":1,"method":"ping"}',
        '{"id":1,"method":"ping"}',
        '{"jsonrpc":"2.0","id":1,"method":7}',
        '{"jsonrpc":"2.0","id":true,"method":"ping"}',
        '{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}',
        '"just a string"',
    ],
)
def test_invalid_requests_are_400_with_32600(
    url: str, body: str, schema_checker: SchemaChecker
) -> None:
    response = post(url, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32600
    schema_checker.check("", response.json())


def test_notifications_and_client_responses_are_202_without_body(url: str) -> None:
    response = rpc(url, "notifications/initialized", id_=None)
    assert response.status_code == 202 and response.content == b""
    response = post(url, '{"jsonrpc":"2.0","id":5,"result":{}}')
    assert response.status_code == 202 and response.content == b""


def test_ping_and_unknown_method(url: str, schema_checker: SchemaChecker) -> None:
    ping = rpc(url, "ping", id_="p1")
    assert ping.status_code == 200 and ping.json() == {"jsonrpc": "2.0", "id": "p1", "result": {}}
    schema_checker.check("ping", ping.json())
    unknown = rpc(url, "resources/list", id_=2)
    assert unknown.json()["error"]["code"] == -32601
    schema_checker.check("", unknown.json())


def test_modern_discover_probe_gets_a_legacy_error_so_clients_fall_back(url: str) -> None:
    response = rpc(url, "server/discover", {}, id_="openai-mcp-discover")
    body = response.json()
    assert response.headers["content-type"] == "application/json"
    assert body["id"] == "openai-mcp-discover"
    assert body["error"]["code"] not in (-32020, -32021, -32022)


def test_initialize_counter_offers_latest_for_unknown_versions(
    url: str, schema_checker: SchemaChecker
) -> None:
    for asked, got in (
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("1999-01-01", "2025-11-25"),
    ):
        response = rpc(
            url,
            "initialize",
            {
                "protocolVersion": asked,
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        )
        assert response.json()["result"]["protocolVersion"] == got
        schema_checker.check("initialize", response.json())
    assert "mcp-session-id" not in response.headers


def test_unsupported_protocol_version_header_is_400(url: str) -> None:
    response = rpc(url, "ping", headers={"mcp-protocol-version": "2024-01-01"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32600
    assert rpc(url, "ping", headers={"mcp-protocol-version": "2025-06-18"}).status_code == 200


def test_tools_list_invalid_cursor_is_32602(url: str) -> None:
    response = rpc(url, "tools/list", {"cursor": "bogus"})
    assert response.json()["error"]["code"] == -32602


def test_tools_call_with_non_object_arguments_is_32602(url: str, postmark: FakePostmark) -> None:
    response = rpc(url, "tools/call", {"name": "list_all_postmark_bounces", "arguments": [1]})
    assert response.json()["error"]["code"] == -32602
    assert postmark.requests == []


def test_wrong_content_type_is_415(url: str) -> None:
    response = post(url, '{"jsonrpc":"2.0","id":1,"method":"ping"}', {"content-type": "text/plain"})
    assert response.status_code == 415


def test_foreign_origin_is_403_and_local_origin_is_fine(url: str) -> None:
    assert rpc(url, "ping", headers={"origin": "https://evil.example.com"}).status_code == 403
    assert rpc(url, "ping", headers={"origin": "http://localhost:3000"}).status_code == 200


def test_foreign_host_is_421_misdirected(url: str) -> None:
    for host in ("evil.example.com", "evil.example.com:8000", "127.0.0.1.evil.example.com"):
        response = rpc(url, "ping", headers={"host": host})
        assert response.status_code == 421, host
        assert response.json()["message"] == "Host not allowed"


def test_oversized_body_is_413(url: str) -> None:
    response = post(
        url,
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"'
        + b"a" * (65 * 1024 * 1024)  # over the default 64 MiB
        + b'"}}',
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]["message"]


def test_health_and_oauth_probes(yamcp: Yamcp) -> None:
    assert httpx.get(f"{yamcp.base}/healthz").status_code == 200
    probe = httpx.get(f"{yamcp.base}/.well-known/oauth-protected-resource/mcp/abc")
    assert probe.status_code == 404
