"""Discovery mode: three tools in `tools/list`, the server's policy behind them.

In process for the policy properties and the wire checks; through the official SDK in
both eras for the seed's workflows, comparing what reaches the fake Postmark with what the
direct tool sends.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.discovery import DEFINITIONS
from tests.support.fake_postmark import FakePostmark
from tests.support.inprocess import App
from tests.support.mcp_client import mcp_client
from tests.support.serving import Yamcp

POLICIES = [
    "bounce-triage",
    "deliverability",
    "transactional-sender",
    "transactional-sender-approved",
]


def rpc(app: App, url: str, method: str, params: dict, version: str = "2025-11-25") -> Any:
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer = app.http.post(url, json=message, headers={"mcp-protocol-version": version})
    assert answer.status_code == 200, answer.text
    return answer


def meta(app: App, url: str, name: str, arguments: dict) -> dict:
    return rpc(app, url, "tools/call", {"name": name, "arguments": arguments}).json()["result"]


def listed_names(app: App, url: str) -> set[str]:
    return {t["name"] for t in rpc(app, url, "tools/list", {}).json()["result"]["tools"]}


def test_tools_list_holds_three_tools_within_4096_bytes(app: App) -> None:
    server = app.mint(secured=False, config={"tool_exposure": "discovery"})
    answer = rpc(app, server.url, "tools/list", {})
    assert [t["name"] for t in answer.json()["result"]["tools"]] == [
        "search_tools",
        "get_tool_schema",
        "call_tool",
    ]
    assert len(answer.content) <= 4096, len(answer.content)
    init = rpc(
        app,
        server.url,
        "initialize",
        {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    ).json()["result"]
    assert "search_tools finds the tool for a task" in init["instructions"]
    assert len(answer.content) + len(init["instructions"]) <= 4096


def test_search_finds_postmark_tools_as_people_ask(app: App) -> None:
    server = app.mint(secured=False, config={"tool_exposure": "discovery"})
    for query, expected in [
        ("hard bounces", "list_all_postmark_bounces"),
        ("why did the email to jim@example.com fail", "list_all_postmark_bounces"),
        ("spam complaint rate", "get_single_postmark_spam_complaint_stat_by_id"),
        ("reactivate address", "create_a_postmark_bounce_activation"),
        ("send the password-reset template", "create_a_postmark_templated_email"),
    ]:
        found = meta(app, server.url, "search_tools", {"query": query, "limit": 3})
        names = [t["name"] for t in found["structuredContent"]["tools"]]
        assert expected in names, (query, names)
        first = found["structuredContent"]["tools"][0]
        assert set(first) == {"name", "description", "access", "needs_approval", "score"}


def test_a_hidden_tool_is_neither_found_described_nor_callable(
    app: App, postmark: FakePostmark
) -> None:
    server = app.mint(
        secured=False, config={"policy": "bounce-triage", "tool_exposure": "discovery"}
    )
    found = meta(app, server.url, "search_tools", {"query": "send email", "limit": 20})
    names = {t["name"] for t in found["structuredContent"]["tools"]}
    assert "create_a_postmark_email" not in names
    hidden = meta(app, server.url, "get_tool_schema", {"name": "create_a_postmark_email"})
    unknown = meta(app, server.url, "get_tool_schema", {"name": "create_a_postmark_emaix"})
    assert hidden["isError"] is True
    assert hidden["content"][0]["text"].replace("email", "emaix") == unknown["content"][0]["text"]
    called = meta(
        app, server.url, "call_tool", {"name": "create_a_postmark_email", "arguments": {}}
    )
    assert called["isError"] is True and "Unknown tool" in called["content"][0]["text"]
    assert postmark.requests == []


def test_get_tool_schema_is_the_definition_tools_list_would_give(app: App) -> None:
    config = {"methods": ["read", "create"], "approval": {"tools": ["create_a_postmark_email"]}}
    plain = app.mint(secured=False, config=config)
    discovery = app.mint(secured=False, config={**config, "tool_exposure": "discovery"})
    listed = {t["name"]: t for t in rpc(app, plain.url, "tools/list", {}).json()["result"]["tools"]}
    for name in ("create_a_postmark_email", "list_all_postmark_bounces"):
        schema = meta(app, discovery.url, "get_tool_schema", {"name": name})
        assert schema["structuredContent"] == listed[name]
    found = meta(app, discovery.url, "search_tools", {"query": "send a plain email", "limit": 5})
    send = next(
        t for t in found["structuredContent"]["tools"] if t["name"] == "create_a_postmark_email"
    )
    assert send["needs_approval"] is True and send["access"] == "write"


def test_get_tool_schema_gives_a_tool_whole_not_a_pointer_to_another(app: App) -> None:
    """tools/list sends a batch's items and a twin's shared arguments as pointers to the
    tool beside them; discovery reads one schema at a time, so it gets each whole."""
    plain = app.mint(secured=False, config={"methods": ["read", "create"]})
    discovery = app.mint(
        secured=False, config={"methods": ["read", "create"], "tool_exposure": "discovery"}
    )
    listed = {t["name"]: t for t in rpc(app, plain.url, "tools/list", {}).json()["result"]["tools"]}

    def schema(name: str) -> dict:
        found = meta(app, discovery.url, "get_tool_schema", {"name": name})
        return found["structuredContent"]["inputSchema"]["properties"]

    twin = "create_a_postmark_templated_broadcast_email"
    assert listed[twin]["inputSchema"]["properties"]["From"] == {"type": "string"}
    assert "sender signature" in schema(twin)["From"]["description"]
    batch = "create_a_postmark_email_batch"
    assert listed[batch]["inputSchema"]["properties"]["Messages"]["items"] == {"type": "object"}
    assert "From" in schema(batch)["Messages"]["items"]["properties"]


def _reachable(app: App, url: str, names: list[str]) -> set[str]:
    return {n for n in names if not meta(app, url, "get_tool_schema", {"name": n})["isError"]}


@pytest.mark.parametrize("policy", POLICIES)
def test_discovery_reaches_exactly_what_the_policy_lists(app: App, policy: str) -> None:
    every = sorted(app.gateway.registry.integrations["postmark"].tools)
    direct = app.mint(secured=False, config={"policy": policy})
    discovery = app.mint(secured=False, config={"policy": policy, "tool_exposure": "discovery"})
    assert _reachable(app, discovery.url, every) == listed_names(app, direct.url)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    methods=st.lists(
        st.sampled_from(["read", "write", "list", "get", "create", "delete"]), max_size=2
    ),
    tags=st.lists(
        st.sampled_from(["bounces", "sending", "templates", "stats", "webhooks"]), max_size=2
    ),
)
def test_discovery_reaches_what_any_config_lists(app: App, methods: list, tags: list) -> None:
    every = sorted(app.gateway.registry.integrations["postmark"].tools)
    config = {"methods": methods, "tags": tags}
    direct = app.mint(secured=False, config=config)
    discovery = app.mint(secured=False, config={**config, "tool_exposure": "discovery"})
    assert _reachable(app, discovery.url, every) == listed_names(app, direct.url)


def test_the_definitions_are_what_the_budget_counts() -> None:
    assert [d["name"] for d in DEFINITIONS] == ["search_tools", "get_tool_schema", "call_tool"]
    for definition in DEFINITIONS:
        assert set(definition["annotations"]) == {
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
            "openWorldHint",
        }


# --- the seed's workflows through the official SDK, both eras ---


def _sent(postmark: FakePostmark) -> list[tuple]:
    return [(r.method, r.path, sorted(r.query.items()), r.body) for r in postmark.requests]


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_the_seed_workflows_through_the_three_tools_send_what_the_direct_tool_sends(
    yamcp: Yamcp, postmark: FakePostmark, mode: str
) -> None:
    direct = await yamcp.mint(name="direct", config={"policy": "deliverability"})
    discovery = await yamcp.mint(
        name="discovery", config={"policy": "deliverability", "tool_exposure": "discovery"}
    )
    steps = [
        ("hard bounces", "list_all_postmark_bounces", {"inactive": True, "limit": 2}),
        ("raw SMTP dump of a bounce", "get_single_postmark_bounce_dump_by_id", {"id": 692560179}),
        (
            "reactivate an address that bounced",
            "create_a_postmark_bounce_activation",
            {"id": 692560179},
        ),
    ]
    async with mcp_client(direct, mode=mode) as client:
        assert len((await client.list_tools()).tools) > 3
        for _, tool, arguments in steps:
            assert not (await client.call_tool(tool, arguments)).is_error
    by_direct = _sent(postmark)
    postmark.reset()
    async with mcp_client(discovery, mode=mode) as client:
        assert [t.name for t in (await client.list_tools()).tools] == [
            "search_tools",
            "get_tool_schema",
            "call_tool",
        ]
        for query, tool, arguments in steps:
            found = (await client.call_tool("search_tools", {"query": query})).structured_content
            assert tool in [t["name"] for t in found["tools"][:3]], (query, found)
            schema = (await client.call_tool("get_tool_schema", {"name": tool})).structured_content
            assert schema["name"] == tool
            result = await client.call_tool("call_tool", {"name": tool, "arguments": arguments})
            assert not result.is_error, result.content
    assert _sent(postmark) == by_direct


def test_a_600_tool_integration_still_lists_three_tools_within_4096_bytes(
    make_app: Any, tmp_path: Any
) -> None:
    """A generated OpenAPI document of 600 operations, imported as a user would, served
    in discovery mode: the listing does not grow with the integration."""
    import json as _json
    import subprocess
    import sys

    paths = {}
    for i in range(150):
        item = {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
            ]
        }
        paths[f"/things{i}"] = {
            "get": {
                "operationId": f"listThings{i}",
                "summary": f"List things of kind {i}",
                "responses": {"200": {"description": "ok"}},
            },
            "post": {
                "operationId": f"createThing{i}",
                "summary": f"Create a thing of kind {i}",
                "responses": {"201": {"description": "ok"}},
            },
        }
        paths[f"/things{i}/{{id}}"] = {
            **item,
            "get": {
                "operationId": f"getThing{i}",
                "summary": f"Get one thing of kind {i}",
                "responses": {"200": {"description": "ok"}},
            },
            "delete": {
                "operationId": f"deleteThing{i}",
                "summary": f"Delete a thing of kind {i}",
                "responses": {"204": {"description": "ok"}},
            },
        }
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Things", "version": "1"},
        "servers": [{"url": "https://things.example.com"}],
        "paths": paths,
    }
    (tmp_path / "things.json").write_text(_json.dumps(spec))
    out = tmp_path / "imported"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "proxy.cli",
            "import-openapi",
            str(tmp_path / "things.json"),
            "--integration",
            "things",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(accounts.read_text() + "  things:\n    integration: things\n")
    from tests.support.paths import ROOT

    app = make_app(integrations_dirs=[ROOT / "integrations", out])
    assert len(app.gateway.registry.integrations["things"].tools) == 600
    server = app.mint("things", secured=False, config={"tool_exposure": "discovery"})
    listed = rpc(app, server.url, "tools/list", {})
    assert len(listed.json()["result"]["tools"]) == 3
    assert len(listed.content) <= 4096
    found = meta(
        app, server.url, "search_tools", {"query": "delete a thing of kind 42", "limit": 3}
    )
    assert found["structuredContent"]["tools"][0]["name"] == "delete_a_things_things42_by_id"


def test_mint_and_plan_take_the_exposure(app: App, tmp_path: Any) -> None:
    import json as _json
    import subprocess
    import sys

    from tests.support.paths import ROOT

    made = app.cli("mint", "--account", "acme", "--json", "--tool-exposure", "discovery")
    assert _json.loads(made.stdout)["config"]["tool_exposure"] == "discovery"
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "finder.yaml").write_text("methods: [read]\ntool_exposure: discovery\n")
    plan = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "plan", str(policies / "finder.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "tool_exposure: discovery" in plan
    server = app.mint(secured=False, config={"policy": "bounce-triage"})
    assert len(listed_names(app, server.url)) > 3
