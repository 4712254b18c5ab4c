"""Postmark checks that need a lookup: stream isolation and template models, and paging limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from proxy.paging import encode_cursor
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.postmark_calls import SEND, new_stream, posts
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

WELCOME_MODEL = {
    "name": "Ann",
    "product_name": "Acme",
    "items": [{"title": "Widget"}],
    "company": {"address": "1 Road"},
}


@pytest.fixture
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


async def test_transactional_tool_refuses_a_broadcast_stream(
    url: str, postmark: FakePostmark
) -> None:
    stream = new_stream(postmark, "Broadcasts")  # not cached by an earlier test: looked up
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_email", SEND | {"TextBody": "x", "MessageStream": stream}
        )
    assert result.is_error
    text = result.content[0].text
    assert f"{stream!r} is a Broadcasts stream" in text and "Nothing was sent" in text
    assert result.structured_content["error"]["type"] == "refused"
    assert posts(postmark) == []
    assert postmark.last("GET").path == f"/message-streams/{stream}"


async def test_batch_refuses_when_any_message_uses_a_broadcast_stream(
    url: str, postmark: FakePostmark
) -> None:
    messages = [
        SEND | {"TextBody": "a", "MessageStream": "outbound"},
        SEND | {"TextBody": "b", "MessageStream": "broadcasts"},
    ]
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email_batch", {"Messages": messages})
    assert result.is_error and "broadcasts" in result.content[0].text
    assert posts(postmark) == []


async def test_unknown_stream_is_refused_with_a_pointer(url: str, postmark: FakePostmark) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_email", SEND | {"TextBody": "x", "MessageStream": "nope"}
        )
    assert result.is_error and "list_all_postmark_message_streams" in result.content[0].text
    assert posts(postmark) == []


async def test_stream_lookup_is_cached_per_account(url: str, postmark: FakePostmark) -> None:
    stream = new_stream(postmark, "Transactional")
    async with mcp_client(url) as client:
        for _ in range(3):
            result = await client.call_tool(
                "create_a_postmark_email", SEND | {"TextBody": "x", "MessageStream": stream}
            )
            assert not result.is_error, result.content[0].text
    # Looked up once (not zero times: the check ran), then answered from the cache.
    assert postmark.count("GET", f"/message-streams/{stream}") == 1
    assert postmark.count("POST", "/email") == 3
    assert [r.json["MessageStream"] for r in postmark.requests if r.method == "POST"] == [
        stream
    ] * 3


async def test_a_broadcasts_stream_is_looked_up_and_refused(
    url: str, postmark: FakePostmark
) -> None:
    stream = new_stream(postmark, "Broadcasts")
    async with mcp_client(url) as client:
        for _ in range(2):
            result = await client.call_tool(
                "create_a_postmark_email", SEND | {"TextBody": "x", "MessageStream": stream}
            )
            assert result.is_error
            assert f"{stream!r} is a Broadcasts stream" in result.content[0].text
    assert postmark.count("GET", f"/message-streams/{stream}") == 1  # the refusal is cached
    assert posts(postmark) == []


@pytest.fixture(scope="module")
def two_accounts(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    """A yamcp with a second account, globex, on the same (fake) Postmark as acme."""
    workdir = tmp_path_factory.mktemp("two-accounts")
    write_workdir(
        workdir,
        fake_postmark.url,
        "  globex:\n    integration: postmark\n"
        f"    base_url: {fake_postmark.url}\n"
        "    credentials:\n      server_token: ${POSTMARK_SERVER_TOKEN}\n",
    )
    server = start_yamcp(workdir)
    yield server
    stop_yamcp(server)


async def test_a_cached_stream_lookup_never_answers_for_another_account(
    two_accounts: Yamcp, postmark: FakePostmark
) -> None:
    """acme's stream is Transactional; by the time globex asks, the stream of that name is a
    Broadcasts one (the fake plays globex's server). globex must look it up itself and be
    refused, while acme keeps its own cached answer."""
    stream = new_stream(postmark, "Transactional")
    acme = await two_accounts.mint("acme")
    globex = await two_accounts.mint("globex")
    message = SEND | {"TextBody": "x", "MessageStream": stream}
    async with mcp_client(acme) as client:
        first = await client.call_tool("create_a_postmark_email", message)
    assert not first.is_error, first.content[0].text
    assert postmark.count("GET", f"/message-streams/{stream}") == 1

    postmark.state.streams[stream]["MessageStreamType"] = "Broadcasts"
    async with mcp_client(globex) as client:
        other = await client.call_tool("create_a_postmark_email", message)
    assert other.is_error, "globex sent on a Broadcasts stream, trusting acme's lookup"
    assert f"{stream!r} is a Broadcasts stream" in other.content[0].text
    assert postmark.count("GET", f"/message-streams/{stream}") == 2
    assert postmark.count("POST", "/email") == 1

    async with mcp_client(acme) as client:  # acme's own entry is still fresh
        again = await client.call_tool("create_a_postmark_email", message)
    assert not again.is_error, again.content[0].text
    assert postmark.count("GET", f"/message-streams/{stream}") == 2
    assert postmark.count("POST", "/email") == 2


async def test_templated_send_refuses_a_model_missing_variables(
    url: str, postmark: FakePostmark
) -> None:
    model = {"name": "Ann", "items": [{"title": "a"}, {}]}
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_templated_email",
            SEND | {"TemplateAlias": "welcome", "TemplateModel": model},
        )
    assert result.is_error
    text = result.content[0].text
    for path in ("product_name", "items[1].title", "company.address"):
        assert path in text
    assert "Nothing was sent" in text
    assert posts(postmark) == []


async def test_templated_send_with_a_full_model_and_extra_keys_goes_through(
    url: str, postmark: FakePostmark
) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_templated_email",
            SEND | {"TemplateId": 1234, "TemplateModel": WELCOME_MODEL | {"extra": 1}},
        )
    assert not result.is_error, result.content[0].text
    assert postmark.last("POST", "/email/withTemplate").json["TemplateModel"]["extra"] == 1


async def test_templated_batch_names_the_message_that_is_short(
    url: str, postmark: FakePostmark
) -> None:
    messages = [
        SEND | {"TemplateAlias": "welcome", "TemplateModel": WELCOME_MODEL},
        SEND | {"TemplateAlias": "password-reset", "TemplateModel": {"name": "Bo"}},
    ]
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_templated_email_batch", {"Messages": messages}
        )
    assert result.is_error
    assert "Messages[1].TemplateModel.action_url: missing" in result.content[0].text
    assert posts(postmark) == []


async def test_unknown_template_is_refused_before_sending(url: str, postmark: FakePostmark) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_templated_email",
            SEND | {"TemplateAlias": "no-such", "TemplateModel": {}},
        )
    assert result.is_error and "no template 'no-such'" in result.content[0].text
    assert posts(postmark) == []


async def test_template_model_tool_shows_what_a_template_expects(url: str) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "get_single_postmark_template_model_by_id", {"id": "welcome"}
        )
    assert not result.is_error, result.content[0].text
    model = result.structured_content
    assert model["Alias"] == "welcome"
    assert model["TemplateModel"]["items"] == [{"title": "title_Value"}]
    assert model["TemplateModel"]["company"] == {"address": "address_Value"}
    assert {"name", "product_name", "items[].title", "company.address"} <= set(
        model["RequiredVariables"]
    )


async def test_paging_limits_are_tool_errors_not_upstream_422s(
    url: str, postmark: FakePostmark
) -> None:
    async with mcp_client(url) as client:
        too_many = await client.call_tool("list_all_postmark_bounces", {"limit": 501})
        assert too_many.is_error and "limit" in too_many.content[0].text
        deep = await client.call_tool(
            "list_all_postmark_bounces", {"limit": 500, "next_cursor": encode_cursor(10000)}
        )
        assert deep.is_error and "10000" in deep.content[0].text
        bogus = await client.call_tool("list_all_postmark_bounces", {"next_cursor": "%%%"})
        assert bogus.is_error and "next_cursor" in bogus.content[0].text
    assert postmark.requests == []


async def test_server_tools_withhold_postmark_api_tokens(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    # A model holding a server token could call Postmark around every policy.
    url = await yamcp.mint()
    async with mcp_client(url) as client:
        result = await client.call_tool("get_single_postmark_current_server_by_id", {})
    assert not result.is_error
    assert result.structured_content["ApiTokens"] is None
    assert result.structured_content["Name"]
    raw = postmark.last("GET", "/server")
    assert raw.path == "/server"
