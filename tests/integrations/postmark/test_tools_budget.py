"""The whole Postmark tool set within a context budget, without losing what a model needs.

A client sends every tool definition to the model on every turn, so the size of
`tools/list` is paid again and again. Issue 15 sets a budget of 60,000 bytes of compact
JSON for the full set (the size the docs quote is checked by test_docs_claims).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.postmark_inventory import postmark_tools
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir


@pytest.fixture(scope="module")
def every_tool(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("tools-budget")
    write_workdir(workdir, fake_postmark.url)
    no_guardrails = workdir / "no-policies"
    no_guardrails.mkdir()
    server = start_yamcp(workdir, {"YAMCP_POLICIES_DIR": str(no_guardrails)})
    server.settings.policies_dir = no_guardrails
    try:
        yield server
    finally:
        stop_yamcp(server)


BUDGET = 60_000


async def _tools_list(server: Yamcp) -> dict[str, Any]:
    url = await server.mint()
    response = httpx.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"accept": "application/json, text/event-stream"},
        timeout=10,
    )
    assert response.status_code == 200
    result = response.json()["result"]
    assert "nextCursor" not in result  # one page: the whole tool set
    assert len(result["tools"]) == len(list(postmark_tools()))
    return result


def _arguments(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}.{name}", prop
        yield from _arguments(prop, f"{path}.{name}")
        if isinstance(prop.get("items"), dict):
            yield from _arguments(prop["items"], f"{path}.{name}[]")


async def test_the_compact_tools_keep_what_a_model_needs(every_tool: Yamcp) -> None:
    """Titles, descriptions, types, enums and the paging contract survive the trimming."""
    for tool in (await _tools_list(every_tool))["tools"]:
        name = tool["name"]
        assert tool["description"].strip(), name
        # all four hints, explicitly; no display title, which the model never reads
        assert "title" not in tool, name
        assert set(tool["annotations"]) == {
            *("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
        }, name
        for path, prop in _arguments(tool["inputSchema"], name):
            assert "type" in prop, f"{path} has no type"
        if tool["inputSchema"].get("properties"):  # a no-argument tool keeps it, as advised
            assert b'"additionalProperties":false' not in orjson.dumps(tool["inputSchema"]), name
        properties = tool["inputSchema"]["properties"]
        if name.startswith("list_all_"):
            assert properties["limit"]["type"] == "integer", name
            assert {"minimum", "maximum", "default"} <= set(properties["limit"]), name
            assert properties["next_cursor"]["description"].strip(), name
    tools = {t["name"]: t for t in (await _tools_list(every_tool))["tools"]}
    bounces = tools["list_all_postmark_bounces"]["inputSchema"]["properties"]
    assert "HardBounce" in bounces["type"]["enum"]
    assert "Cannot be undone" in tools["create_a_postmark_email"]["description"]


async def test_the_whole_set_is_within_the_budget(every_tool: Yamcp) -> None:
    """The body of the `tools/list` answer of a server granted every Postmark tool."""
    url = await every_tool.mint()
    response = httpx.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"accept": "application/json, text/event-stream"},
        timeout=10,
    )
    tools = response.json()["result"]["tools"]
    sizes = sorted(((len(orjson.dumps(t)), t["name"]) for t in tools), reverse=True)
    biggest = "\n".join(f"  {size:>6,} {name}" for size, name in sizes[:10])
    assert len(response.content) < BUDGET, (
        f"tools/list is {len(response.content):,} bytes, over the {BUDGET:,}-byte budget; "
        f"the ten biggest tools:\n{biggest}"
    )


async def test_an_undeclared_argument_is_still_refused_by_name(
    every_tool: Yamcp, postmark: FakePostmark
) -> None:
    """The schema sent leaves out `additionalProperties: false`; the check does not."""
    arguments = {"From": "a@example.com", "To": "b@example.com", "TextBody": "Hi"}
    async with mcp_client(await every_tool.mint()) as client:
        result = await client.call_tool("create_a_postmark_email", {**arguments, "Priority": 1})
        nested = await client.call_tool(
            "create_a_postmark_email",
            {**arguments, "Headers": [{"Name": "X", "Value": "y", "Secret": "z"}]},
        )
    assert result.is_error and "('Priority' was unexpected)" in result.content[0].text
    assert nested.is_error and "Headers[0]: unknown argument(s)" in nested.content[0].text
    assert "('Secret' was unexpected)" in nested.content[0].text
    assert postmark.requests == []


async def test_discovery_mode_lists_three_tools_within_4096_bytes(every_tool: Yamcp) -> None:
    """The budget of a discovery server (tools/list plus its instructions), on the wire,
    for the full Postmark set: the three tools, whatever the integration's size."""
    url = await every_tool.mint(config={"tool_exposure": "discovery"})
    listed = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=10)
    init = httpx.post(
        url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "budget", "version": "1"},
            },
        },
        timeout=10,
    )
    instructions = init.json()["result"]["instructions"]
    assert [t["name"] for t in listed.json()["result"]["tools"]] == [
        "search_tools",
        "get_tool_schema",
        "call_tool",
    ]
    assert len(listed.content) + len(instructions.encode()) <= 4096, len(listed.content)
