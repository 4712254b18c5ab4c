"""Account-level argument defaults: an operator's From and MessageStream for an account,
shown to the model in tools/list and filled in when a call leaves them out."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy.accounts import check_accounts, load_accounts
from proxy.errors import ConfigError
from proxy.registry import load_registry
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

DEFAULTS = "    defaults:\n      From: Ops <ops@example.com>\n      MessageStream: outbound\n"
MESSAGE = {"To": "jane@example.com", "Subject": "Hi", "TextBody": "Hello"}


@pytest.fixture(scope="module")
def defaulted(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    """acme as usual, and ops: the same Postmark server with the operator's defaults."""
    workdir = tmp_path_factory.mktemp("defaults")
    write_workdir(
        workdir,
        fake_postmark.url,
        "  ops:\n    integration: postmark\n"
        f"    base_url: {fake_postmark.url}\n"
        "    credentials:\n      server_token: ${POSTMARK_SERVER_TOKEN}\n" + DEFAULTS,
    )
    policies = workdir / "policies"
    shutil.copytree(ROOT / "policies", policies)
    # the batch tools without the single sends they point to
    (policies / "batches-only.yaml").write_text(
        "methods: [create]\ntags: [sending]\n"
        "deny_tools: [create_a_postmark_email, create_a_postmark_templated_email]\n"
    )
    server = start_yamcp(workdir, {"YAMCP_POLICIES_DIR": str(policies)})
    server.settings.policies_dir = policies
    yield server
    stop_yamcp(server)


def _sent(postmark: FakePostmark) -> list[dict]:
    return [r.json for r in postmark.requests if r.method == "POST" and r.path == "/email"]


async def test_tools_list_shows_the_defaults_and_no_longer_requires_them(
    defaulted: Yamcp,
) -> None:
    async with mcp_client(await defaulted.mint("ops")) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    schema = tools["create_a_postmark_email"].input_schema
    assert schema["required"] == ["To"]
    assert schema["properties"]["From"]["description"].endswith('Default: "Ops <ops@example.com>".')
    assert schema["properties"]["MessageStream"]["description"].endswith('Default: "outbound".')
    # Another account of the same integration shows the plain tool.
    async with mcp_client(await defaulted.mint("acme")) as client:
        plain = {t.name: t for t in (await client.list_tools()).tools}
    assert plain["create_a_postmark_email"].input_schema["required"] == ["From", "To"]
    assert (
        "Default"
        not in plain["create_a_postmark_email"].input_schema["properties"]["From"]["description"]
    )


async def test_a_call_that_leaves_them_out_gets_the_defaults_on_the_wire(
    defaulted: Yamcp, postmark: FakePostmark
) -> None:
    async with mcp_client(await defaulted.mint("ops")) as client:
        result = await client.call_tool("create_a_postmark_email", MESSAGE)
    assert not result.is_error, result.content
    [sent] = _sent(postmark)
    assert sent["From"] == "Ops <ops@example.com>"
    assert sent["MessageStream"] == "outbound"


async def test_what_the_call_gives_wins_over_the_default(
    defaulted: Yamcp, postmark: FakePostmark
) -> None:
    async with mcp_client(await defaulted.mint("ops")) as client:
        result = await client.call_tool(
            "create_a_postmark_email", {**MESSAGE, "From": "jane@example.com"}
        )
    assert not result.is_error, result.content
    assert _sent(postmark)[0]["From"] == "jane@example.com"


async def test_a_policy_constraint_holds_for_a_default_too(
    defaulted: Yamcp, postmark: FakePostmark
) -> None:
    url = await defaulted.mint(
        "ops",
        config={
            "constraints": {"create_a_postmark_email": {"MessageStream": {"enum": ["alerts"]}}}
        },
    )
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email", MESSAGE)
    assert result.is_error
    assert "MessageStream 'outbound' is not one of ['alerts']" in result.content[0].text
    assert _sent(postmark) == []


REGISTRY = load_registry([ROOT / "integrations"])


@pytest.mark.parametrize(
    ("defaults", "where", "reason"),
    [
        ("      Frm: a@example.com\n", "defaults.Frm", "no tool of the integration takes it"),
        ("      MessageStream: 5\n", "defaults.MessageStream", "not a valid value"),
        ("      TrackOpens: often\n", "defaults.TrackOpens", "not a valid value"),
    ],
)
def test_a_default_no_tool_could_take_is_refused_at_load(
    tmp_path: Path, defaults: str, where: str, reason: str
) -> None:
    file = tmp_path / "accounts.yaml"
    file.write_text("accounts:\n  ops:\n    integration: postmark\n    defaults:\n" + defaults)
    accounts = load_accounts(file, {})
    with pytest.raises(ConfigError) as caught:
        check_accounts(accounts, REGISTRY, file)
    assert f"accounts.ops.{where}" in str(caught.value) and reason in str(caught.value)


async def test_a_batch_fills_each_message_with_the_defaults(
    defaulted: Yamcp, postmark: FakePostmark
) -> None:
    """A batch of single sends (`items.like`) gets the single send's defaults per message."""
    messages = [MESSAGE, {**MESSAGE, "From": "jane@example.com", "MessageStream": "outbound"}]
    async with mcp_client(await defaulted.mint("ops")) as client:
        result = await client.call_tool("create_a_postmark_email_batch", {"Messages": messages})
    assert not result.is_error, result.content
    [batch] = [r.json for r in postmark.requests if r.path == "/email/batch"]
    assert [m["From"] for m in batch] == ["Ops <ops@example.com>", "jane@example.com"]
    assert [m["MessageStream"] for m in batch] == ["outbound", "outbound"]


async def test_a_batch_points_to_the_single_send_a_server_also_lists(defaulted: Yamcp) -> None:
    async with mcp_client(await defaulted.mint("ops", config={"tags": ["sending"]})) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    messages = tools["create_a_postmark_email_batch"].input_schema["properties"]["Messages"]
    assert messages["items"] == {"type": "object"}
    assert "Each item takes the arguments of create_a_postmark_email." in messages["description"]
    # where that tool shows the account's defaults, as the batch's items get them
    single = tools["create_a_postmark_email"].input_schema
    assert "From" not in single["required"]


async def test_a_batch_without_its_single_send_shows_the_whole_item_schema(
    defaulted: Yamcp,
) -> None:
    async with mcp_client(await defaulted.mint("ops", config={"policy": "batches-only"})) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert "create_a_postmark_email" not in tools
    messages = tools["create_a_postmark_email_batch"].input_schema["properties"]["Messages"]
    assert "create_a_postmark_email" not in messages.get("description", "")
    item = messages["items"]
    assert {"From", "To", "HtmlBody", "TextBody", "MessageStream"} <= set(item["properties"])
    # the account's defaults, shown on each item, as on the single send
    assert item["required"] == ["To"]
    assert item["properties"]["From"]["description"].endswith('Default: "Ops <ops@example.com>".')
