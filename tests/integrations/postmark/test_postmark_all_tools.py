"""Every Postmark tool, called once through the official MCP client against `yamcp serve`.

One row of CASES per tool: the arguments an agent would pass, and the request Postmark must
receive for them (method, exact path, query values as strings, JSON body, which token). The
fake Postmark is reset before each test, so a row that deletes or archives something does
not affect the others; the arguments use the fake's seeded IDs, so every call succeeds.

Sending tools may make lookups of their own first (the stream and template a send uses), so
each assertion reads the last request with the tool's own method and path, and checks that
exactly one such request was made (yamcp never retries).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from proxy.registry import load_registry
from tests.support.fake_postmark import (
    FakePostmark,
)
from tests.support.mcp_client import SchemaChecker, mcp_client
from tests.support.paths import ROOT
from tests.support.postmark_cases import CASES, NO_BODY, OTHER_SERVER, SERVER, Case
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp
from tests.support.serving import write_workdir as write_yamcp_workdir

# Tools the shipped guardrails deny to every server; these run on a yamcp whose guardrails
# allow them.
GUARDRAIL_DENIED = {"create_a_postmark_data_removal"}


# ---------------------------------------------------------------- servers to call through


@dataclass(frozen=True)
class Endpoint:
    url: str
    headers: dict[str, str]


def mint_with_api_token(server: Yamcp, name: str) -> Endpoint:
    """A server exposing every tool its policy allows, behind API-token auth (which the
    guardrails require for the servers, domains, sender_signatures and data_removals tags)."""
    record = json.loads(
        server.cli(
            "mint", "--account", "acme", "--name", name, "--json", "--require-api-token-auth"
        ).stdout
    )
    token = server.cli("api-token", "create", "--server", record["id"]).stdout.strip()
    return Endpoint(record["url"], {"authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def everything(yamcp: Yamcp) -> Endpoint:
    return mint_with_api_token(yamcp, "all-tools")


@pytest.fixture(scope="module")
def permissive(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Endpoint]:
    """A second yamcp whose guardrails deny no tool (and still require API-token auth)."""
    workdir = tmp_path_factory.mktemp("all-tools")
    write_yamcp_workdir(workdir, fake_postmark.url)
    policies = workdir / "policies"
    shutil.copytree(ROOT / "policies", policies)
    guardrails = yaml.safe_load((policies / "guardrails.yaml").read_text())
    postmark = guardrails["integrations"]["postmark"]  # the rules scoped to Postmark
    assert set(guardrails["deny_tools"]) | set(postmark["deny_tools"]) == GUARDRAIL_DENIED
    guardrails["deny_tools"] = postmark["deny_tools"] = []
    (policies / "guardrails.yaml").write_text(yaml.safe_dump(guardrails))
    server = start_yamcp(workdir, {"YAMCP_POLICIES_DIR": str(policies)})
    try:
        yield mint_with_api_token(server, "all-tools-permissive")
    finally:
        stop_yamcp(server)


# ---------------------------------------------------------------- the tests


def registry_tools() -> set[str]:
    registry = load_registry([ROOT / "integrations"])
    return {name for name, tool in registry.tools.items() if tool.integration == "postmark"}


def test_every_tool_has_a_case() -> None:
    """A new Postmark tool fails here until it gets a row in CASES."""
    tools = registry_tools()
    assert sorted(tools - set(CASES)) == [], "tools without a row in CASES"
    assert sorted(set(CASES) - tools) == [], "rows in CASES for tools that do not exist"


async def test_the_api_token_server_lists_every_tool_the_guardrails_allow(
    everything: Endpoint, schema_checker: SchemaChecker
) -> None:
    async with mcp_client(everything.url, schema_checker, headers=everything.headers) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert names == registry_tools() - GUARDRAIL_DENIED


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
async def test_tool_call_reaches_postmark_as_expected(
    case: Case,
    everything: Endpoint,
    postmark: FakePostmark,
    schema_checker: SchemaChecker,
    request: pytest.FixtureRequest,
) -> None:
    # The second yamcp starts only when a guardrail-denied tool is called.
    endpoint = (
        request.getfixturevalue("permissive") if case.tool in GUARDRAIL_DENIED else everything
    )
    async with mcp_client(endpoint.url, schema_checker, headers=endpoint.headers) as client:
        result = await client.call_tool(case.tool, case.args)

    text = result.content[0].text if result.content else ""
    assert not result.is_error, text
    assert isinstance(result.structured_content, dict), text
    if case.returns is not None:
        assert case.returns in result.structured_content, text

    method, path = case.request.split(" ", 1)
    sent = postmark.last(method, path)
    assert sent.path == path  # exactly as declared: no case change, no extra encoding
    assert postmark.count(method, path) == 1  # sent once
    assert sent.query == {name: [value] for name, value in case.query.items()}
    if case.body is NO_BODY:
        assert sent.body == b""
    else:
        assert sent.json == case.body
        assert sent.headers["content-type"].startswith("application/json")
    if case.account:
        assert sent.headers.get("x-postmark-account-token") == postmark.account_token
        assert "x-postmark-server-token" not in sent.headers
    else:
        assert sent.headers.get("x-postmark-server-token") == postmark.server_token
        assert "x-postmark-account-token" not in sent.headers


async def test_a_push_preview_changes_nothing_and_only_the_push_is_destructive(
    everything: Endpoint, postmark: FakePostmark
) -> None:
    """`PUT /templates/push` backs two tools, as its PerformChanges decides whether it changes
    anything: the dry run is read-only, and neither tool lets the agent pick the flag."""
    servers = {"SourceServerID": SERVER, "DestinationServerID": OTHER_SERVER}
    preview, push = "create_a_postmark_template_push_preview", "create_a_postmark_template_push"

    async def actions(client: Any, tool: str) -> set[str]:
        result = await client.call_tool(tool, servers)
        assert not result.is_error, result.content[0].text
        return {row["Action"] for row in result.structured_content["Templates"]}

    async with mcp_client(everything.url, headers=everything.headers) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools[preview].annotations.read_only_hint is True
        assert tools[push].annotations.read_only_hint is False
        assert tools[push].annotations.destructive_hint is True
        for name in (preview, push):
            assert "PerformChanges" not in tools[name].input_schema["properties"]

        assert await actions(client, preview) == {"Create"}
        assert await actions(client, preview) == {"Create"}  # the preview changed nothing
        assert await actions(client, push) == {"Create"}
        assert await actions(client, preview) == {"Edit"}  # the push did
        refused = await client.call_tool(preview, {**servers, "PerformChanges": True})
        assert refused.is_error and "PerformChanges" in refused.content[0].text

    sent = [r.json["PerformChanges"] for r in postmark.requests if r.path == "/templates/push"]
    assert sent == [False, False, True, False]
