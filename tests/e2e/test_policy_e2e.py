"""Each policy feature through the official MCP client against a running yamcp."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

SEND = {"From": "sender@example.com", "To": "a@example.com", "TextBody": "hi"}


async def test_read_only_server_cannot_send_email(yamcp: Yamcp, postmark: FakePostmark) -> None:
    url = await yamcp.mint(config={"policy": "bounce-triage"})
    async with mcp_client(url) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "list_all_postmark_bounces" in names
        assert not any(name.startswith(("create_", "update_", "delete_")) for name in names)
        with pytest.raises(MCPError) as info:
            await client.call_tool("create_a_postmark_email", SEND)
        assert info.value.error.code == -32602
        ok = await client.call_tool("list_all_postmark_bounces", {"limit": 2})
        assert not ok.is_error
    assert [r.path for r in postmark.requests] == ["/bounces"]


async def test_constraint_breach_is_a_tool_error_naming_the_rule_and_sends_nothing(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    url = await yamcp.mint(config={"policy": "transactional-sender"})
    async with mcp_client(url) as client:
        wrong_stream = await client.call_tool(
            "create_a_postmark_email", SEND | {"MessageStream": "broadcasts"}
        )
        assert wrong_stream.is_error
        assert (
            "MessageStream 'broadcasts' is not one of ['outbound']" in wrong_stream.content[0].text
        )
        assert "transactional-sender" in wrong_stream.content[0].text
        wrong_domain = await client.call_tool(
            "create_a_postmark_email", SEND | {"To": "a@example.com, b@elsewhere.org"}
        )
        assert wrong_domain.is_error and "b@elsewhere.org" in wrong_domain.content[0].text
        assert postmark.requests == []
        allowed = await client.call_tool(
            "create_a_postmark_email", SEND | {"MessageStream": "outbound"}
        )
        assert not allowed.is_error, allowed.content[0].text
    # The allowed send may first look its stream up (cached per account); it is sent once.
    assert [r.path for r in postmark.requests if r.method == "POST"] == ["/email"]


async def test_inline_constraints_on_a_server(yamcp: Yamcp, postmark: FakePostmark) -> None:
    url = await yamcp.mint(
        config={
            "tags": ["sending"],
            "constraints": {"create_a_postmark_email": {"Tag": {"enum": ["receipts"]}}},
        }
    )
    async with mcp_client(url) as client:
        refused = await client.call_tool("create_a_postmark_email", SEND | {"Tag": "promo"})
        assert refused.is_error and "server config: Tag 'promo'" in refused.content[0].text
    assert postmark.requests == []


async def test_a_refusal_shows_the_pattern_as_the_policy_file_writes_it(
    postmark: FakePostmark, tmp_path: Path
) -> None:
    """The rule a model reads is the one a reviewer wrote: `@example\\.com>?$`, not its
    Python repr with every backslash doubled."""
    written = r"@example\.com>?$"
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "guardrails.yaml").write_text((ROOT / "policies" / "guardrails.yaml").read_text())
    (policies / "ours.yaml").write_text(
        "methods: [create]\ntags: [sending]\n"
        f"constraints:\n  create_a_postmark_email:\n    To: {{pattern: '{written}'}}\n"
    )
    write_workdir(tmp_path, postmark.url)
    server = start_yamcp(tmp_path, {"YAMCP_POLICIES_DIR": str(policies)})
    try:
        server.settings.policies_dir = policies
        url = await server.mint(config={"policy": "ours"})
        async with mcp_client(url) as client:
            refused = await client.call_tool("create_a_postmark_email", SEND | {"To": "a@evil.org"})
    finally:
        stop_yamcp(server)
    assert refused.is_error
    text = refused.content[0].text
    assert f"To 'a@evil.org' does not match pattern {written}" in text, text
    assert "\\\\" not in text
    assert refused.structured_content["error"]["rules"] == [
        f"policy 'ours': To 'a@evil.org' does not match pattern {written}"
    ]
    assert postmark.requests == []


async def test_api_token_required_for_every_method(yamcp: Yamcp, postmark: FakePostmark) -> None:
    record = json.loads(
        yamcp.cli("mint", "--account", "acme", "--json", "--require-api-token-auth").stdout
    )
    url = record["url"]
    # The official client without a token: what reaches it on the wire is the 401.
    answers: list[httpx2.Response] = []

    async def on_response(response: httpx2.Response) -> None:
        await response.aread()
        answers.append(response)

    async with httpx2.AsyncClient(event_hooks={"response": [on_response]}, timeout=30) as http:
        with pytest.raises(Exception):  # noqa: B017 - the SDK wraps the 401; checked below
            async with Client(streamable_http_client(url, http_client=http), mode="legacy"):
                pass
    assert answers, "the client sent nothing"
    assert json.loads(answers[0].request.content)["method"] == "initialize"
    for answer in answers:
        assert answer.status_code == 401
        token = url.rsplit("/", 1)[1]
        metadata = url.replace("/mcp/", "/.well-known/oauth-protected-resource/mcp/")
        assert answer.headers["www-authenticate"] == (
            f'Bearer realm="yamcp", error="invalid_token", resource_metadata="{metadata}", '
            'scope="mcp"'
        )
        assert token in metadata

    calls = [
        ("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}}),
        ("ping", {}),
        ("tools/list", {}),
        ("tools/call", {"name": "list_all_postmark_bounces", "arguments": {"limit": 1}}),
    ]
    wrong = {"authorization": "Bearer " + "A" * 43}
    for headers in ({}, wrong, {"authorization": "Basic " + "A" * 43}):
        for method, params in calls:
            response = httpx.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                headers=headers,
                timeout=10,
            )
            assert response.status_code == 401, (method, headers)
            assert response.headers["www-authenticate"].startswith("Bearer "), method
    assert postmark.requests == []

    token = yamcp.cli("api-token", "create", "--server", record["id"]).stdout.strip()
    async with mcp_client(url, headers={"authorization": f"Bearer {token}"}) as client:
        assert (await client.list_tools()).tools
        assert not (await client.call_tool("list_all_postmark_bounces", {"limit": 1})).is_error
    assert [r.path for r in postmark.requests] == ["/bounces"]


async def test_guardrail_tags_need_api_token_auth(yamcp: Yamcp) -> None:
    plain = await yamcp.mint()
    async with mcp_client(plain) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert "list_all_postmark_domains" not in names
    assert "create_a_postmark_data_removal" not in names


async def test_a_bare_mint_serves_what_it_says_the_guardrails_left(yamcp: Yamcp) -> None:
    """`yamcp mint` with no methods, tags or policy: "every tool" the guardrails allow. The
    count it prints is what `tools/list` serves; an API-token server gets the tagged ones."""
    for extra in ((), ("--require-api-token-auth",)):
        minted = yamcp.cli("mint", "--account", "acme", *extra)
        url = minted.stdout.strip()
        said = minted.stderr.split(": ", 1)[1]
        headers = None
        if extra:
            server = minted.stderr.split(":", 1)[0]
            token = yamcp.cli("api-token", "create", "--server", server).stdout.strip()
            headers = {"authorization": f"Bearer {token}"}
        async with mcp_client(url, headers=headers) as client:
            served = {t.name for t in (await client.list_tools()).tools}
        assert said.startswith(f"{len(served)} of 93 tools; "), said
        assert "create_a_postmark_data_removal" not in served
        assert ("list_all_postmark_domains" in served) == bool(extra)
        assert ("need API-token auth" in said) != bool(extra)


async def test_expired_server_is_404_like_unknown(yamcp: Yamcp) -> None:
    # Long enough that a loaded machine still answers the first ping before it passes.
    soon = datetime.now(UTC) + timedelta(seconds=3)
    url = await yamcp.mint(expires_at=soon.isoformat())
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert httpx.post(url, json=ping).status_code == 200
    await asyncio.sleep((soon - datetime.now(UTC)).total_seconds() + 0.3)
    expired = httpx.post(url, json=ping)
    unknown = httpx.post(url[:-3] + "xyz", json=ping)
    assert expired.status_code == unknown.status_code == 404
    assert expired.content == unknown.content


async def test_revoked_server_is_404(yamcp: Yamcp) -> None:
    out = yamcp.cli("mint", "--account", "acme", "--json").stdout
    created = json.loads(out)
    async with mcp_client(created["url"]) as client:
        await client.list_tools()
    assert yamcp.cli("servers", "revoke", created["id"]).returncode == 0
    response = httpx.post(created["url"], json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert response.status_code == 404
