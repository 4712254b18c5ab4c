"""Stream isolation by intent, and lookups that tell the truth.

Every send tool names its intent: transactional tools send on Transactional streams only,
the broadcast and bulk tools on a Broadcasts stream they must name. The checks look the
stream (or template) up first; only Postmark's own "not found" (422 with ErrorCode 1226 or
1101) says it is missing, a 429 there is the caller's 429, a 401 says the credentials were
refused, and the tools that change a stream or template drop the cached lookups.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.postmark_calls import SEND, new_stream, posts
from tests.support.postmark_inventory import postmark_tools
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

BULK = {
    "From": "news@example.com",
    "Subject": "Spring sale",
    "TextBody": "20% off",
    "Messages": [{"To": "a@example.com"}, {"To": "b@example.com"}],
}


@pytest.fixture
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


async def call(url: str, name: str, arguments: dict) -> httpx.Response:
    """tools/call over raw HTTP, to see the response headers as well."""
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(url, json=message)
    assert response.status_code == 200
    return response


# --- stream isolation by intent ------------------------------------------------------------


async def test_bulk_email_refuses_a_transactional_stream(url: str, postmark: FakePostmark) -> None:
    stream = new_stream(postmark, "Transactional")
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_bulk_email", BULK | {"MessageStream": stream}
        )
    assert result.is_error
    text = result.content[0].text
    assert f"{stream!r} is a Transactional stream" in text
    assert "accepts only Broadcasts streams" in text
    assert "create_a_postmark_email" in text and "Nothing was sent" in text
    assert result.structured_content["error"]["type"] == "refused"
    assert postmark.last("GET").path == f"/message-streams/{stream}"
    assert posts(postmark) == []


async def test_bulk_email_needs_a_stream_named(url: str, postmark: FakePostmark) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_bulk_email", BULK)
    assert result.is_error
    assert result.structured_content["error"]["type"] == "invalid_arguments"
    assert "MessageStream" in result.content[0].text
    assert postmark.requests == []


async def test_bulk_email_on_a_broadcasts_stream_is_sent(url: str, postmark: FakePostmark) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_bulk_email", BULK | {"MessageStream": "broadcasts"}
        )
    assert not result.is_error, result.content[0].text
    assert postmark.last("POST", "/email/bulk").json["MessageStream"] == "broadcasts"


async def test_broadcast_email_is_sent_through_email_on_a_broadcasts_stream(
    url: str, postmark: FakePostmark
) -> None:
    stream = new_stream(postmark, "Broadcasts")
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_broadcast_email",
            SEND | {"Subject": "News", "TextBody": "x", "MessageStream": stream},
        )
    assert not result.is_error, result.content[0].text
    sent = postmark.last("POST", "/email").json
    assert sent["MessageStream"] == stream and sent["Subject"] == "News"
    assert posts(postmark) == ["/email"]


async def test_broadcast_email_refuses_a_transactional_stream(
    url: str, postmark: FakePostmark
) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_broadcast_email",
            SEND | {"TextBody": "x", "MessageStream": "outbound"},
        )
        unnamed = await client.call_tool(
            "create_a_postmark_broadcast_email", SEND | {"TextBody": "x"}
        )
    assert result.is_error
    text = result.content[0].text
    assert "'outbound' is a Transactional stream" in text and "Nothing was sent" in text
    assert "create_a_postmark_email" in text
    assert unnamed.is_error and "MessageStream" in unnamed.content[0].text
    assert posts(postmark) == []


async def test_transactional_refusal_names_the_broadcast_tools(
    url: str, postmark: FakePostmark
) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_email", SEND | {"TextBody": "x", "MessageStream": "broadcasts"}
        )
    text = result.content[0].text
    assert "accepts only Transactional streams" in text
    assert "create_a_postmark_broadcast_email" in text and "create_a_postmark_bulk_email" in text
    assert posts(postmark) == []


async def test_broadcast_email_is_a_destructive_write(url: str) -> None:
    async with mcp_client(url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    hints = tools["create_a_postmark_broadcast_email"].annotations
    assert hints.destructive_hint is True and hints.read_only_hint is False
    schema = tools["create_a_postmark_broadcast_email"].input_schema
    assert "MessageStream" in schema["required"]


async def test_the_transactional_sender_policy_cannot_send_broadcasts(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    url = await yamcp.mint(config={"policy": "transactional-sender"})
    async with mcp_client(url) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert "create_a_postmark_email" in names
    broadcasts = {
        "create_a_postmark_broadcast_email",
        "create_a_postmark_templated_broadcast_email",
        "create_a_postmark_broadcast_email_batch",
        "create_a_postmark_templated_broadcast_email_batch",
        "create_a_postmark_bulk_email",
    }
    assert broadcasts <= {tool.name for tool in postmark_tools()} and not names & broadcasts
    denied = await call(
        url,
        "create_a_postmark_broadcast_email",
        SEND | {"TextBody": "x", "MessageStream": "broadcasts"},
    )
    assert "Unknown tool" in denied.json()["error"]["message"]  # hidden, and refused
    assert postmark.requests == []


# --- lookups that tell the truth -----------------------------------------------------------


async def test_a_429_on_the_stream_lookup_is_the_callers_429(
    url: str, postmark: FakePostmark
) -> None:
    stream = new_stream(postmark, "Transactional")
    postmark.fail_next(
        "status",
        status=429,
        path=f"/message-streams/{stream}",
        headers={"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "Retry-After": "30"},
    )
    message = SEND | {"TextBody": "x", "MessageStream": stream}
    response = await call(url, "create_a_postmark_email", message)
    result = response.json()["result"]
    assert result["isError"] is True
    error = result["structuredContent"]["error"]
    assert error["type"] == "rate_limited" and error["status"] == 429
    assert error["retry_after_seconds"] == 30
    assert error["rate_limit"]["ratelimit-limit"] == "100"
    text = result["content"][0]["text"]
    assert "Rate limited: retry after 30 seconds" in text and "Nothing was sent" in text
    assert "no message stream" not in text
    assert response.headers["ratelimit-limit"] == "100"
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.headers["retry-after"] == "30"
    assert posts(postmark) == []

    # Not cached as an answer: the next call looks the stream up again, and sends.
    again = (await call(url, "create_a_postmark_email", message)).json()["result"]
    assert again["isError"] is False, again["content"][0]["text"]
    assert postmark.count("GET", f"/message-streams/{stream}") == 2
    assert posts(postmark) == ["/email"]


async def test_a_429_on_the_template_lookup_is_the_callers_429(
    url: str, postmark: FakePostmark
) -> None:
    alias = f"t-{uuid.uuid4().hex[:12]}"
    made_template(postmark, alias, "Hi {{name}}")
    postmark.fail_next(
        "status", status=429, path=f"/templates/{alias}", headers={"Retry-After": "9"}
    )
    response = await call(
        url,
        "create_a_postmark_templated_email",
        SEND | {"TemplateAlias": alias, "TemplateModel": {"name": "Ann"}},
    )
    result = response.json()["result"]
    error = result["structuredContent"]["error"]
    assert error["type"] == "rate_limited" and error["status"] == 429
    assert "no template" not in result["content"][0]["text"]
    assert "Nothing was sent" in result["content"][0]["text"]
    assert response.headers["retry-after"] == "9"
    assert posts(postmark) == []


async def test_a_lookup_failure_that_is_not_not_found_says_what_it_was(
    url: str, postmark: FakePostmark
) -> None:
    stream = new_stream(postmark, "Transactional")
    postmark.fail_next("status", status=500, path=f"/message-streams/{stream}")
    result = (
        await call(
            url, "create_a_postmark_email", SEND | {"TextBody": "x", "MessageStream": stream}
        )
    ).json()["result"]
    error = result["structuredContent"]["error"]
    assert error["type"] == "upstream_error" and error["status"] == 500
    text = result["content"][0]["text"]
    assert "no message stream" not in text and "HTTP 500" in text
    assert text.endswith("Nothing was sent.") and "may have taken effect" not in text
    assert posts(postmark) == []


@pytest.fixture(scope="module")
def wrong_token(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    """A yamcp whose account `stale` holds a server token Postmark does not know."""
    workdir = tmp_path_factory.mktemp("wrong-token")
    write_workdir(
        workdir,
        fake_postmark.url,
        "  stale:\n    integration: postmark\n"
        f"    base_url: {fake_postmark.url}\n"
        "    credentials:\n      server_token: ${STALE_TOKEN}\n",
    )
    server = start_yamcp(workdir, {"STALE_TOKEN": "revoked-token"})
    yield server
    stop_yamcp(server)


async def test_a_401_on_the_lookup_says_the_credentials_were_refused(
    wrong_token: Yamcp, postmark: FakePostmark
) -> None:
    url = await wrong_token.mint("stale")
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email", SEND | {"TextBody": "x"})
    assert result.is_error
    text = result.content[0].text
    assert "refused this account's credentials" in text and "Nothing was sent" in text
    assert "no message stream" not in text
    error = result.structured_content["error"]
    assert error["status"] == 401 and error["code"] == 10
    assert postmark.last("GET").path == "/message-streams/outbound"
    assert posts(postmark) == []


# --- cached lookups dropped by the tools that change them ----------------------------------


def made_template(postmark: FakePostmark, alias: str, body: str) -> None:
    made = httpx.post(
        f"{postmark.url}/templates",
        json={"Name": alias, "Alias": alias, "Subject": "Hello", "HtmlBody": body},
        headers={"X-Postmark-Server-Token": postmark.server_token},
        timeout=5,
    )
    assert made.status_code == 200, made.text
    postmark.requests.clear()
    postmark.counts.clear()


async def test_a_template_edit_drops_the_cached_template(url: str, postmark: FakePostmark) -> None:
    alias = f"t-{uuid.uuid4().hex[:12]}"
    made_template(postmark, alias, "Hi {{name}}")
    send = SEND | {"TemplateAlias": alias, "TemplateModel": {"name": "Ann"}}
    async with mcp_client(url) as client:
        first = await client.call_tool("create_a_postmark_templated_email", send)
        assert not first.is_error, first.content[0].text
        edit = await client.call_tool(
            "update_a_postmark_template_by_id", {"id": alias, "HtmlBody": "Hi {{name}} {{code}}"}
        )
        assert not edit.is_error, edit.content[0].text
        second = await client.call_tool("create_a_postmark_templated_email", send)
    assert second.is_error, "the send trusted the template as cached before the edit"
    assert "TemplateModel.code: missing" in second.content[0].text
    assert postmark.count("GET", f"/templates/{alias}") == 2
    assert postmark.count("POST", "/email/withTemplate") == 1


async def test_a_template_delete_drops_the_cached_template(
    url: str, postmark: FakePostmark
) -> None:
    alias = f"t-{uuid.uuid4().hex[:12]}"
    made_template(postmark, alias, "Hi {{name}}")
    send = SEND | {"TemplateAlias": alias, "TemplateModel": {"name": "Ann"}}
    async with mcp_client(url) as client:
        first = await client.call_tool("create_a_postmark_templated_email", send)
        assert not first.is_error, first.content[0].text
        gone = await client.call_tool("delete_a_postmark_template_by_id", {"id": alias})
        assert not gone.is_error, gone.content[0].text
        second = await client.call_tool("create_a_postmark_templated_email", send)
    assert second.is_error and f"no template {alias!r}" in second.content[0].text
    assert postmark.count("POST", "/email/withTemplate") == 1


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("update_a_postmark_message_stream_by_id", {"Name": "Renamed"}),
        ("create_a_postmark_message_stream_archive", {}),
        ("create_a_postmark_message_stream_unarchive", {}),
    ],
)
async def test_a_stream_change_drops_the_cached_stream(
    url: str, postmark: FakePostmark, tool: str, arguments: dict
) -> None:
    stream = new_stream(postmark, "Transactional")
    if tool.endswith("_unarchive"):
        archived = httpx.post(
            f"{postmark.url}/message-streams/{stream}/archive",
            headers={"X-Postmark-Server-Token": postmark.server_token},
            timeout=5,
        )
        assert archived.status_code == 200, archived.text
    message = SEND | {"TextBody": "x", "MessageStream": stream}
    async with mcp_client(url) as client:
        await client.call_tool("create_a_postmark_email", message)
        await client.call_tool("create_a_postmark_email", message)
        assert postmark.count("GET", f"/message-streams/{stream}") == 1  # cached
        changed = await client.call_tool(tool, {"id": stream} | arguments)
        assert not changed.is_error, changed.content[0].text
        await client.call_tool("create_a_postmark_email", message)
    assert postmark.count("GET", f"/message-streams/{stream}") == 2
