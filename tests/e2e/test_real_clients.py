"""yamcp against real MCP clients, run as their users run them.

* the MCP conformance suite (`@modelcontextprotocol/conformance`), default wire and 2026-07-28;
* the MCP Inspector CLI (`@modelcontextprotocol/inspector --cli`);
* `mcp-remote` as the stdio bridge Claude Desktop uses, driven by the Python SDK's stdio client;
* the OpenAI Agents SDK's `MCPServerStreamableHttp`.

The Node clients are pinned in tests/clients/package.json and run with the Node 22 binary
installed next to them (tests/support/real_clients.py); `npm ci --prefix tests/clients` installs them.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from agents.mcp import MCPServerStreamableHttp
from mcp import Client, StdioServerParameters

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.real_clients import BASELINE, RealClients, real_clients
from tests.support.serving import Yamcp

STATS_TOOL = "get_single_postmark_delivery_stat_by_id"
BOUNCE_TOOL = "get_single_postmark_bounce_by_id"
API_TOKEN_ONLY_TOOL = "list_all_postmark_domains"  # guardrails: tag `domains` needs API-token auth
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
FAILED = ("FAILURE", "WARNING")  # in baseline mode a WARNING counts as a failure


async def sdk_tool_names(url: str, headers: dict[str, str] | None = None) -> list[str]:
    """The tools as the official Python SDK sees them over Streamable HTTP: the reference."""
    async with mcp_client(url, headers=headers) as client:
        return [tool.name for tool in (await client.list_tools()).tools]


def mint_api_token_server(yamcp: Yamcp) -> tuple[str, str]:
    """A server minted with --require-api-token-auth, and an API token for it."""
    record = json.loads(
        yamcp.cli("mint", "--account", "acme", "--json", "--require-api-token-auth").stdout
    )
    token = yamcp.cli("api-token", "create", "--server", record["id"]).stdout.strip()
    return record["url"], token


def assert_stats_reached_postmark(postmark: FakePostmark) -> None:
    assert [(r.method, r.path) for r in postmark.requests] == [("GET", "/deliverystats")]
    assert postmark.last("GET", "/deliverystats").headers["x-postmark-server-token"] == (
        FakePostmark.server_token
    )


@pytest.fixture
async def tools_url(yamcp: Yamcp) -> str:
    """A server exposing every tool the guardrails allow a bare URL."""
    return await yamcp.mint(name="real-clients")


def test_pinned_clients_are_installed() -> None:
    clients = real_clients()
    version = subprocess.run(
        [str(clients.node), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    major, minor, _ = (int(part) for part in version.lstrip("v").split("."))
    assert (major, minor) >= (22, 19), f"Inspector 2.x needs Node >= 22.19, got {version}"
    assert clients.versions["@modelcontextprotocol/conformance"] == "0.2.0-alpha.12"
    assert clients.versions["@modelcontextprotocol/inspector"] == "2.12.0"
    assert clients.versions["mcp-remote"] == "0.15.1"


# ---------------------------------------------------------------- conformance suite


def conformance(
    clients: RealClients, tmp_path: Path, url: str, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, list[dict[str, Any]]]]:
    """Run `conformance server`; return the process and each scenario's checks."""
    out = tmp_path / "results"
    run = clients.run(
        clients.conformance,
        "server",
        "--url",
        url,
        "-o",
        str(out),
        *args,
        env=clients.env(tmp_path / "home"),
        cwd=tmp_path,
    )
    results = {}
    for checks in out.glob("server-*/checks.json"):
        scenario = re.sub(r"-\d{4}-\d\d-\d\dT[\d-]+Z$", "", checks.parent.name[len("server-") :])
        results[scenario] = json.loads(checks.read_text())
    return run, results


def failing(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [check for check in checks if check["status"] in FAILED]


# Why a baselined scenario may fail: it calls a fixture tool of the suite's everything-server,
# or a method of a capability yamcp does not declare.
MISSING_FIXTURE = re.compile(
    r"Unknown tool: test_\w+"
    r"|Method not found: (logging/setLevel|completion/complete|resources/\w+|prompts/\w+)"
)


async def test_conformance_default_suite_passes_with_the_baseline(
    yamcp: Yamcp, tmp_path: Path
) -> None:
    clients = real_clients()
    url = await yamcp.mint(name="conformance")
    assert url.startswith("http://127.0.0.1:")  # dns-rebinding-protection needs localhost
    run, results = conformance(clients, tmp_path, url, "--expected-failures", str(BASELINE))
    output = run.stdout[-4000:] + run.stderr[-2000:]
    assert run.returncode == 0, output
    total = re.search(r"Total: (\d+) passed, (\d+) failed", run.stdout)
    assert total, output
    assert len(results) >= 30, sorted(results)

    # Everything a tools-only server can do passes outright.
    for scenario in ("server-initialize", "ping", "tools-list", "dns-rebinding-protection"):
        assert results[scenario] and not failing(results[scenario]), results[scenario]
    session = results["server-session-lifecycle"]
    assert {c["status"] for c in session} == {"INFO"}, session  # skipped: "stateless"
    for scenario, checks in results.items():
        for check in checks:
            if check["id"] == "wire-schema-valid":
                assert check["status"] == "SUCCESS", (scenario, check)

    # The failures are exactly the baseline, each for the reason the baseline gives.
    baseline = set(yaml.safe_load(BASELINE.read_text())["server"])
    failed = set()
    for scenario, checks in results.items():
        for check in failing(checks):
            key = f"{scenario}:{check['id']}"
            failed.add(key if key in baseline else scenario)
            if check["status"] == "FAILURE":
                assert MISSING_FIXTURE.search(check.get("errorMessage", "")), (scenario, check)
            else:
                assert "session ID" in check["details"]["message"], (scenario, check)
    assert failed == baseline
    statuses = [check["status"] for checks in results.values() for check in checks]
    assert (int(total[1]), int(total[2])) == (statuses.count("SUCCESS"), statuses.count("FAILURE"))


MODERN_SCENARIOS = (
    "server-stateless",
    "tools-list",
    "http-header-validation",
    "dns-rebinding-protection",
)


@pytest.mark.parametrize("scenario", MODERN_SCENARIOS)
async def test_conformance_2026_07_28_scenario(
    tools_url: str, tmp_path: Path, scenario: str
) -> None:
    clients = real_clients()
    run, results = conformance(
        clients, tmp_path, tools_url, "--scenario", scenario, "--spec-version", "2026-07-28"
    )
    output = run.stdout[-4000:] + run.stderr[-2000:]
    checks = results[scenario]
    assert any(check["status"] == "SUCCESS" for check in checks), output
    assert {check["status"] for check in checks} <= {"SUCCESS", "SKIPPED", "INFO", *FAILED}
    names = set(await sdk_tool_names(tools_url))
    for check in failing(checks):
        # Only the checks the suite itself cannot run without its fixture tools may fail.
        message = check.get("errorMessage", "")
        assert check["status"] == "FAILURE" and message.startswith("Not testable"), check
        assert (check.get("details") or {}).get("untestable") is True, check
        fixture = re.search(r"diagnostic tool '(test_\w+)'", message)
        assert fixture and fixture[1] not in names, check
    assert run.returncode == (1 if failing(checks) else 0), output
    if scenario != "server-stateless":
        assert not failing(checks), output


# ---------------------------------------------------------------- MCP Inspector CLI


def inspector(
    clients: RealClients, tmp_path: Path, url: str, *args: str
) -> tuple[subprocess.CompletedProcess[str], Any]:
    """`mcp-inspector --cli <url> --transport http ... --format json`; the process and JSON."""
    run = clients.run(
        clients.inspector,
        "--cli",
        url,
        "--transport",
        "http",
        *args,
        "--format",
        "json",
        env=clients.env(tmp_path / "home", MCP_INSPECTOR_SECRET_STORE="memory"),
        cwd=tmp_path,
        timeout=60,
    )
    return run, (json.loads(run.stdout) if run.stdout.strip() else None)


async def test_inspector_lists_tools(
    yamcp: Yamcp, tools_url: str, postmark: FakePostmark, tmp_path: Path
) -> None:
    clients = real_clients()
    run, out = inspector(clients, tmp_path, tools_url, "--method", "tools/list")
    assert run.returncode == 0, run.stderr
    tools = out["result"]["tools"]
    assert [tool["name"] for tool in tools] == await sdk_tool_names(tools_url)
    assert STATS_TOOL in {tool["name"] for tool in tools}
    assert API_TOKEN_ONLY_TOOL not in {tool["name"] for tool in tools}
    for tool in tools:
        assert tool["description"] and tool["inputSchema"]["type"] == "object", tool
        assert set(HINTS) <= set(tool["annotations"]), tool
        if tool["name"].startswith(("list_all_", "get_single_")):
            assert tool["annotations"]["readOnlyHint"] is True, tool
    send = next(tool for tool in tools if tool["name"] == "create_a_postmark_email")
    assert send["annotations"]["readOnlyHint"] is False  # ChatGPT asks before sending
    assert send["annotations"]["destructiveHint"] is True
    assert postmark.requests == []


async def test_inspector_calls_a_tool(
    tools_url: str, postmark: FakePostmark, tmp_path: Path
) -> None:
    clients = real_clients()
    run, out = inspector(
        clients, tmp_path, tools_url, "--method", "tools/call", "--tool-name", STATS_TOOL
    )
    assert run.returncode == 0, run.stderr
    result = out["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["InactiveMails"] == 5
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]
    assert_stats_reached_postmark(postmark)


async def test_inspector_exits_5_on_a_tool_error(
    tools_url: str, postmark: FakePostmark, tmp_path: Path
) -> None:
    clients = real_clients()
    run, out = inspector(
        clients,
        tmp_path,
        tools_url,
        "--method",
        "tools/call",
        "--tool-name",
        BOUNCE_TOOL,
        "--tool-args-json",
        '{"id": "not-a-number"}',
    )
    assert run.returncode == 5, (run.stdout, run.stderr)
    assert json.loads(run.stderr.strip().splitlines()[-1])["error"]["code"] == "tool_is_error"
    result = out["result"]
    assert result["isError"] is True
    error = result["structuredContent"]["error"]
    assert error["type"] == "invalid_arguments"
    assert any(problem.startswith("id: expected integer") for problem in error["problems"])
    assert f"Invalid arguments for {BOUNCE_TOOL}" in result["content"][0]["text"]
    assert postmark.requests == []  # refused before anything reached the upstream


async def test_inspector_with_an_api_token(
    yamcp: Yamcp, postmark: FakePostmark, tmp_path: Path
) -> None:
    clients = real_clients()
    url, token = mint_api_token_server(yamcp)
    refused, _ = inspector(clients, tmp_path, url, "--stored-auth-only", "--method", "tools/list")
    assert refused.returncode == 3, refused.stderr  # auth required
    assert "needs Authorization: Bearer <API token or OAuth access token>" in refused.stderr
    run, out = inspector(
        clients,
        tmp_path,
        url,
        "--header",
        f"Authorization: Bearer {token}",
        "--method",
        "tools/list",
    )
    assert run.returncode == 0, run.stderr
    assert API_TOKEN_ONLY_TOOL in {tool["name"] for tool in out["result"]["tools"]}
    assert postmark.requests == []


# ---------------------------------------------------------------- mcp-remote (stdio bridge)


def mcp_remote(
    clients: RealClients, tmp_path: Path, url: str, *args: str, env: dict[str, str] | None = None
) -> Client:
    """The official SDK's stdio client talking to `mcp-remote <url>`, as Claude Desktop does."""
    home = tmp_path / "home"  # mcp-remote keeps ~/.mcp-auth there
    home.mkdir(exist_ok=True)
    params = StdioServerParameters(
        command=str(clients.node),
        args=[str(clients.mcp_remote), url, "--transport", "http-only", *args],
        env={"HOME": str(home), **(env or {})},
        cwd=str(tmp_path),
    )
    return Client(params, mode="legacy", cache=None)


async def test_mcp_remote_bridges_a_url(
    tools_url: str, postmark: FakePostmark, tmp_path: Path
) -> None:
    clients = real_clients()
    with anyio.fail_after(60):
        async with mcp_remote(clients, tmp_path, tools_url) as client:
            assert client.protocol_version == "2025-11-25"
            assert client.server_info.name == "yamcp"
            tools = (await client.list_tools()).tools
            assert [tool.name for tool in tools] == await sdk_tool_names(tools_url)
            stats = next(tool for tool in tools if tool.name == STATS_TOOL)
            assert stats.annotations.read_only_hint is True
            result = await client.call_tool(STATS_TOOL, {})
            assert not result.is_error
            assert result.structured_content["InactiveMails"] == 5
            bad = await client.call_tool(BOUNCE_TOOL, {"id": "not-a-number"})
            assert bad.is_error
            assert bad.structured_content["error"]["type"] == "invalid_arguments"
    assert_stats_reached_postmark(postmark)


async def test_mcp_remote_with_an_authorization_header(
    yamcp: Yamcp, postmark: FakePostmark, tmp_path: Path
) -> None:
    clients = real_clients()
    url, token = mint_api_token_server(yamcp)

    # Without the header mcp-remote signs in with OAuth instead: tests/e2e/test_oauth_clients.py.
    # The claude_desktop_config.json form: the value comes from the environment.
    with anyio.fail_after(60):
        async with mcp_remote(
            clients,
            tmp_path,
            url,
            "--header",
            "Authorization:${AUTH}",
            env={"AUTH": f"Bearer {token}"},
        ) as client:
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert API_TOKEN_ONLY_TOOL in names
            headers = {"authorization": f"Bearer {token}"}
            assert names == await sdk_tool_names(url, headers=headers)
            result = await client.call_tool(STATS_TOOL, {})
            assert not result.is_error, result.content
    assert_stats_reached_postmark(postmark)


# ---------------------------------------------------------------- OpenAI Agents SDK


async def test_openai_agents_sdk_lists_and_calls_tools(
    tools_url: str, postmark: FakePostmark
) -> None:
    async with MCPServerStreamableHttp(
        name="yamcp", params={"url": tools_url}, cache_tools_list=False
    ) as server:
        tools = await server.list_tools()
        assert [tool.name for tool in tools] == await sdk_tool_names(tools_url)
        # The SDK (on mcp 2.x) probes server/discover first and lands on the modern era.
        assert server.session.protocol_version == "2026-07-28"
        result = await server.call_tool(STATS_TOOL, {})
        assert not result.is_error
        assert result.structured_content["InactiveMails"] == 5
        assert json.loads(result.content[0].text) == result.structured_content
        bad = await server.call_tool(BOUNCE_TOOL, {"id": "not-a-number"})
        assert bad.is_error
        assert bad.structured_content["error"]["type"] == "invalid_arguments"
    assert_stats_reached_postmark(postmark)


async def test_openai_agents_sdk_with_an_api_token(yamcp: Yamcp, postmark: FakePostmark) -> None:
    url, token = mint_api_token_server(yamcp)
    params = {"url": url, "headers": {"Authorization": f"Bearer {token}"}}
    async with MCPServerStreamableHttp(
        name="yamcp", params=params, cache_tools_list=False
    ) as server:
        names = [tool.name for tool in await server.list_tools()]
        assert API_TOKEN_ONLY_TOOL in names
        result = await server.call_tool(STATS_TOOL, {})
        assert not result.is_error
    assert_stats_reached_postmark(postmark)
