"""The Postmark hero tools end to end: official MCP client -> yamcp serve -> fake Postmark."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from mcp import MCPError

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import SchemaChecker, mcp_client
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

HERO_TOOLS = {
    "create_a_postmark_email",
    "create_a_postmark_templated_email",
    "list_all_postmark_bounces",
    "get_single_postmark_bounce_by_id",
    "get_single_postmark_bounce_dump_by_id",
    "create_a_postmark_bounce_activation",
    "get_single_postmark_delivery_stat_by_id",
    "list_all_postmark_templates",
    "list_all_postmark_message_streams",
}


@pytest.fixture
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


async def test_initialize_negotiates_a_legacy_version(
    url: str, schema_checker: SchemaChecker
) -> None:
    before = schema_checker.checked
    async with mcp_client(url, schema_checker) as client:
        assert client.protocol_version == "2025-11-25"
        assert client.server_info.name == "yamcp"
        await client.list_tools()
    assert schema_checker.checked >= before + 2  # initialize and tools/list were validated


async def test_auto_mode_client_falls_back_to_initialize(
    url: str, schema_checker: SchemaChecker
) -> None:
    async with mcp_client(url, schema_checker, mode="auto") as client:
        assert client.protocol_version in ("2025-11-25", "2026-07-28")
        tools = await client.list_tools()
        assert {t.name for t in tools.tools} >= HERO_TOOLS


async def test_tools_list_shows_hero_tools_with_annotations(
    url: str, schema_checker: SchemaChecker
) -> None:
    async with mcp_client(url, schema_checker) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) >= HERO_TOOLS
    send = tools["create_a_postmark_email"]
    assert send.annotations.read_only_hint is False
    assert send.annotations.destructive_hint is True
    assert "MessageStream" in send.input_schema["properties"]
    bounces = tools["list_all_postmark_bounces"]
    assert bounces.annotations.read_only_hint is True
    props = bounces.input_schema["properties"]
    for name in ("emailFilter", "type", "inactive", "tag", "messageID", "fromdate", "todate"):
        assert name in props, name
    assert {"limit", "next_cursor"} <= set(props)
    assert "count" not in props and "offset" not in props
    for tool in tools.values():
        assert tool.description
        notes = tool.annotations
        assert None not in (
            notes.read_only_hint,
            notes.destructive_hint,
            notes.idempotent_hint,
            notes.open_world_hint,
        )


async def test_list_bounces_maps_filters_and_paging(
    url: str, postmark: FakePostmark, schema_checker: SchemaChecker
) -> None:
    async with mcp_client(url, schema_checker) as client:
        first = await client.call_tool(
            "list_all_postmark_bounces", {"limit": 1, "type": "HardBounce", "inactive": True}
        )
        assert not first.is_error, first.content[0].text
        page = first.structured_content
        assert len(page["result"]) == 1
        assert page["result"][0]["Type"] == "HardBounce"
        sent = postmark.last("GET", "/bounces")
        assert sent.query["count"] == ["1"]
        assert sent.query["offset"] == ["0"]
        assert sent.query["type"] == ["HardBounce"]
        assert sent.query["inactive"] == ["true"]
        assert sent.headers["x-postmark-server-token"] == postmark.server_token
        assert json.loads(first.content[0].text) == page


async def test_list_bounces_pages_with_next_cursor(url: str, postmark: FakePostmark) -> None:
    seen = []
    async with mcp_client(url) as client:
        cursor = None
        for _ in range(50):
            args = {"limit": 1} | ({"next_cursor": cursor} if cursor else {})
            page = (await client.call_tool("list_all_postmark_bounces", args)).structured_content
            seen.extend(b["ID"] for b in page["result"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert len(seen) == page["total"] == len(set(seen))
    offsets = [r.query["offset"][0] for r in postmark.requests if r.path == "/bounces"]
    assert offsets == [str(i) for i in range(len(seen))]


async def test_get_bounce_dump_is_raw_text(url: str, postmark: FakePostmark) -> None:
    async with mcp_client(url) as client:
        bounces = await client.call_tool("list_all_postmark_bounces", {"limit": 5})
        bounce_id = bounces.structured_content["result"][0]["ID"]
        dump = await client.call_tool("get_single_postmark_bounce_dump_by_id", {"id": bounce_id})
    assert not dump.is_error
    text = dump.content[0].text
    assert text.startswith("Return-Path:") and "\r\n" in text
    assert dump.structured_content["Body"] == text
    assert postmark.last("GET").path == f"/bounces/{bounce_id}/dump"


async def test_workflow_find_bounce_read_dump_reactivate(url: str, postmark: FakePostmark) -> None:
    async with mcp_client(url) as client:
        found = await client.call_tool(
            "list_all_postmark_bounces", {"emailFilter": "jim@example.com"}
        )
        bounce = found.structured_content["result"][0]
        assert bounce["Email"] == "jim@example.com"
        detail = await client.call_tool("get_single_postmark_bounce_by_id", {"id": bounce["ID"]})
        assert detail.structured_content["ID"] == bounce["ID"]
        dump = await client.call_tool("get_single_postmark_bounce_dump_by_id", {"id": bounce["ID"]})
        assert "550" in dump.content[0].text
        activated = await client.call_tool(
            "create_a_postmark_bounce_activation", {"id": bounce["ID"]}
        )
    assert not activated.is_error, activated.content[0].text
    assert activated.structured_content["Message"] == "OK"
    sent = postmark.last("PUT")
    assert sent.path == f"/bounces/{bounce['ID']}/activate"
    assert postmark.last("GET", "/bounces").query["emailFilter"] == ["jim@example.com"]


async def test_workflow_delivery_stats_then_templated_email(
    url: str, postmark: FakePostmark
) -> None:
    async with mcp_client(url) as client:
        stats = await client.call_tool("get_single_postmark_delivery_stat_by_id", {})
        assert "InactiveMails" in stats.structured_content
        templates = await client.call_tool("list_all_postmark_templates", {"limit": 10})
        alias = next(
            t["Alias"]
            for t in templates.structured_content["result"]
            if t["TemplateType"] == "Standard"
        )
        sent = await client.call_tool(
            "create_a_postmark_templated_email",
            {
                "From": "sender@example.com",
                "To": "customer@example.com",
                "TemplateAlias": alias,
                "TemplateModel": {
                    "name": "Ann",
                    "product_name": "Acme",
                    "items": [{"title": "a"}],
                    "company": {"address": "1 Road"},
                },
                "MessageStream": "outbound",
            },
        )
    assert not sent.is_error, sent.content[0].text
    assert sent.structured_content["To"] == "customer@example.com"
    request = postmark.last("POST", "/email/withTemplate")
    assert request.json["TemplateAlias"] == alias
    assert request.json["MessageStream"] == "outbound"
    assert request.headers["content-type"].startswith("application/json")
    assert postmark.last("GET", "/templates").query["Count"] == ["10"]


async def test_workflow_send_plain_transactional_email(url: str, postmark: FakePostmark) -> None:
    args = {
        "From": "sender@example.com",
        "To": "customer@example.com",
        "Subject": "Your receipt",
        "TextBody": "Thanks!",
        "MessageStream": "outbound",
        "Metadata": {"order": "42"},
    }
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email", args)
    assert not result.is_error, result.content[0].text
    assert result.structured_content["ErrorCode"] == 0
    assert result.structured_content["MessageID"]
    request = postmark.last("POST", "/email")
    assert request.json == args


async def test_message_streams_are_listed(url: str, postmark: FakePostmark) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool("list_all_postmark_message_streams", {})
    ids = {s["ID"] for s in result.structured_content["result"]}
    assert {"outbound", "broadcasts"} <= ids
    assert result.structured_content["next_cursor"] is None


async def test_invalid_arguments_name_each_field_and_reach_no_upstream(
    url: str, postmark: FakePostmark
) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_email",
            {"To": 42, "Subject": "x", "TrackLinks": "Always", "Surprise": 1},
        )
    assert result.is_error
    text = result.content[0].text
    assert "From" in text and "required" in text
    assert "To: expected string, got integer" in text
    assert "TrackLinks: must be one of" in text
    assert "Surprise" in text
    assert "HtmlBody / TextBody: give at least one of them" in text
    assert postmark.requests == []


async def test_upstream_422_is_a_tool_error_with_code_and_message(
    url: str, postmark: FakePostmark
) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_email",
            {"From": "sender@example.com", "To": "jim@example.com", "TextBody": "x"},
        )
    assert result.is_error
    error = result.structured_content["error"]
    assert error["status"] == 422
    assert error["code"] == 406
    assert "inactive" in error["upstream_message"]
    assert "HTTP 422 (ErrorCode 406)" in result.content[0].text
    assert postmark.count("POST", "/email") == 1


async def test_path_parameters_are_percent_encoded(url: str, postmark: FakePostmark) -> None:
    # A hostile id cannot leave the declared path: it arrives as one encoded segment.
    hostile = "a/../b?c=d#e f%25é"
    async with mcp_client(url) as client:
        result = await client.call_tool("get_single_postmark_message_stream_by_id", {"id": hostile})
        assert result.is_error  # no such stream: the fake looked for exactly this ID
        assert result.structured_content["error"]["code"] == 1226
        integer = await client.call_tool("get_single_postmark_bounce_by_id", {"id": "1/../x"})
        assert integer.is_error  # id must be an integer: refused before anything is sent
    [sent] = postmark.requests
    assert sent.method == "GET"
    assert sent.target == "/message-streams/a%2F..%2Fb%3Fc%3Dd%23e%20f%2525%C3%A9"
    assert sent.query == {}


@pytest.fixture(scope="module")
def server_token_only(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    """A yamcp whose account `solo` has a server token but no account token."""
    workdir = tmp_path_factory.mktemp("server-token-only")
    write_workdir(
        workdir,
        fake_postmark.url,
        "  solo:\n    integration: postmark\n"
        f"    base_url: {fake_postmark.url}\n"
        "    credentials:\n      server_token: ${POSTMARK_SERVER_TOKEN}\n",
    )
    server = start_yamcp(workdir)
    yield server
    stop_yamcp(server)


async def test_a_missing_account_credential_is_refused_before_sending(
    server_token_only: Yamcp, postmark: FakePostmark
) -> None:
    # Account-API tools are served only under an API token (guardrails.yaml).
    minted = server_token_only.cli(
        "mint", "--account", "solo", "--json", "--require-api-token-auth"
    ).stdout
    record = json.loads(minted)
    token = server_token_only.cli("api-token", "create", "--server", record["id"]).stdout.strip()
    async with mcp_client(record["url"], headers={"authorization": f"Bearer {token}"}) as client:
        servers = await client.call_tool("list_all_postmark_servers", {"limit": 5})
        bounces = await client.call_tool("list_all_postmark_bounces", {"limit": 1})
    assert servers.is_error
    assert servers.content[0].text == (
        "the account 'solo' has no 'account_token' credential, which this tool needs; "
        "add it to the accounts file"
    )
    assert servers.structured_content["error"]["type"] == "invalid_arguments"
    assert not bounces.is_error, bounces.content[0].text  # the server token still works
    assert [r.path for r in postmark.requests] == ["/bounces"]


async def test_unknown_tool_is_a_protocol_error(url: str) -> None:
    async with mcp_client(url) as client:
        with pytest.raises(MCPError) as info:
            await client.call_tool("delete_everything", {})
    assert info.value.error.code == -32602


async def test_methods_and_tags_filter_what_a_server_lists_and_calls(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    url = await yamcp.mint(config={"methods": ["read"], "tags": ["bounces"]})
    async with mcp_client(url) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "list_all_postmark_bounces" in names
        assert "create_a_postmark_bounce_activation" not in names
        assert "create_a_postmark_email" not in names
        assert "list_all_postmark_templates" not in names
        with pytest.raises(MCPError) as info:
            await client.call_tool(
                "create_a_postmark_email",
                {"From": "a@example.com", "To": "b@example.com", "TextBody": "x"},
            )
    assert info.value.error.code == -32602
    assert postmark.requests == []


def test_mint_cli_prints_url_and_json(yamcp: Yamcp) -> None:
    plain = yamcp.cli("mint", "--account", "acme")
    assert plain.stdout.strip().startswith(f"{yamcp.base}/mcp/")
    as_json = json.loads(
        yamcp.cli(
            "mint",
            "--account",
            "acme",
            "--name",
            "triage",
            "--methods",
            "read",
            "--tags",
            "bounces",
            "--json",
        ).stdout
    )
    assert set(as_json) == {"id", "name", "config", "expires_at", "url", "summary"}
    assert as_json["summary"]["text"] == f"{as_json['summary']['exposed']} of 93 tools"
    assert as_json["config"] == {"methods": ["read"], "tags": ["bounces"]}
    assert as_json["name"] == "triage"
    unknown = yamcp.cli("mint", "--account", "nobody", check=False)
    assert unknown.returncode != 0 and "no account 'nobody'" in unknown.stderr


def test_store_keeps_only_token_hashes(yamcp: Yamcp) -> None:
    url = yamcp.cli("mint", "--account", "acme").stdout.strip()
    token = url.rsplit("/", 1)[1]
    for file in (yamcp.workdir / "data").iterdir():
        assert token.encode() not in file.read_bytes()
    assert token not in yamcp.log()
