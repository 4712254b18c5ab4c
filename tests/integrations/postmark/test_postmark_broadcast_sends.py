"""Broadcast batches and templated broadcasts: the broadcast intent for every send shape.

Postmark's /email/batch, /email/withTemplate and /email/batchWithTemplates take a
Broadcasts stream in each message's MessageStream as /email does. The broadcast tools
over them hold the same isolation as the single broadcast: each message names its stream
(no default), the stream must be a Broadcasts one, and a batch's refusal names each
message it refuses; the transactional tools still refuse Broadcasts streams.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.postmark_calls import SEND, new_stream, posts
from tests.support.postmark_cases import WELCOME_MODEL
from tests.support.serving import Yamcp

BATCH = "create_a_postmark_broadcast_email_batch"
TEMPLATED = "create_a_postmark_templated_broadcast_email"
TEMPLATED_BATCH = "create_a_postmark_templated_broadcast_email_batch"
WELCOME = {"TemplateAlias": "welcome", "TemplateModel": WELCOME_MODEL}


@pytest.fixture
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


async def test_a_broadcast_batch_sends_each_message_on_the_stream_it_names(
    url: str, postmark: FakePostmark
) -> None:
    news, offers = new_stream(postmark, "Broadcasts"), new_stream(postmark, "Broadcasts")
    messages = [
        SEND | {"Subject": "News", "TextBody": "a", "MessageStream": news},
        SEND | {"Subject": "Offer", "HtmlBody": "<p>b</p>", "MessageStream": offers},
    ]
    async with mcp_client(url) as client:
        result = await client.call_tool(BATCH, {"Messages": messages})
    assert not result.is_error, result.content[0].text
    assert postmark.last("POST", "/email/batch").json == messages  # a bare array, as given
    assert posts(postmark) == ["/email/batch"]
    assert result.structured_content["summary"] == {
        "accepted": 2,
        "failed": 0,
        "failed_indexes": [],
    }
    for answer in result.structured_content["result"]:
        assert answer["ErrorCode"] == 0 and answer["MessageID"]


async def test_a_broadcast_batch_names_each_message_not_on_a_broadcasts_stream(
    url: str, postmark: FakePostmark
) -> None:
    news = new_stream(postmark, "Broadcasts")
    missing = f"gone-{uuid.uuid4().hex[:8]}"
    messages = [
        SEND | {"TextBody": "a", "MessageStream": news},
        SEND | {"TextBody": "b", "MessageStream": "outbound"},
        SEND | {"TextBody": "c", "MessageStream": missing},
        SEND | {"TextBody": "d", "MessageStream": "outbound"},
    ]
    async with mcp_client(url) as client:
        result = await client.call_tool(BATCH, {"Messages": messages})
    assert result.is_error
    text = result.content[0].text
    assert text.startswith("Nothing was sent:\n- ")
    assert (
        "- Messages[1], Messages[3]: MessageStream 'outbound' is a Transactional stream; this "
        "tool sends broadcast (marketing) mail and accepts only Broadcasts streams." in text
    )
    assert f"- Messages[2]: MessageStream {missing!r} is not on this server" in text
    assert "ErrorCode 1235" in text and "Messages[0]" not in text
    assert "create_a_postmark_email_batch" not in text  # the fix names the transactional tools
    assert "create_a_postmark_templated_email or their batch tools" in text
    assert result.structured_content["error"]["type"] == "refused"
    assert posts(postmark) == []


async def test_a_broadcast_batch_message_must_name_its_stream(
    url: str, postmark: FakePostmark
) -> None:
    messages = [SEND | {"TextBody": "a", "MessageStream": "broadcasts"}, SEND | {"TextBody": "b"}]
    async with mcp_client(url) as client:
        result = await client.call_tool(BATCH, {"Messages": messages})
    assert result.is_error
    error = result.structured_content["error"]
    assert error["type"] == "invalid_arguments"
    assert any("Messages[1]" in p and "MessageStream" in p for p in error["problems"]), error
    assert postmark.requests == []  # not even a stream lookup


async def test_a_templated_broadcast_goes_out_on_a_broadcasts_stream(
    url: str, postmark: FakePostmark
) -> None:
    news = new_stream(postmark, "Broadcasts")
    arguments = SEND | WELCOME | {"MessageStream": news}
    async with mcp_client(url) as client:
        result = await client.call_tool(TEMPLATED, arguments)
    assert not result.is_error, result.content[0].text
    assert postmark.last("POST", "/email/withTemplate").json == arguments
    assert result.structured_content["MessageID"]


async def test_a_templated_broadcast_refuses_a_transactional_stream_and_a_blank_model(
    url: str, postmark: FakePostmark
) -> None:
    blank = {**WELCOME["TemplateModel"], "name": None}
    news = new_stream(postmark, "Broadcasts")
    async with mcp_client(url) as client:
        outbound = await client.call_tool(TEMPLATED, SEND | WELCOME | {"MessageStream": "outbound"})
        unnamed = await client.call_tool(TEMPLATED, SEND | WELCOME)
        nulled = await client.call_tool(
            TEMPLATED, SEND | WELCOME | {"TemplateModel": blank, "MessageStream": news}
        )
    text = outbound.content[0].text
    assert outbound.is_error and "'outbound' is a Transactional stream" in text
    assert "accepts only Broadcasts streams" in text and text.endswith("Nothing was sent.")
    assert unnamed.is_error
    assert unnamed.structured_content["error"]["type"] == "invalid_arguments"
    assert "MessageStream" in unnamed.content[0].text
    assert nulled.is_error and "TemplateModel.name: null" in nulled.content[0].text
    assert posts(postmark) == []


async def test_a_templated_broadcast_batch_checks_each_message_stream_then_model(
    url: str, postmark: FakePostmark
) -> None:
    news = new_stream(postmark, "Broadcasts")
    good = SEND | WELCOME | {"MessageStream": news}
    blank = good | {"TemplateModel": {**WELCOME["TemplateModel"], "product_name": None}}
    async with mcp_client(url) as client:
        wrong_stream = await client.call_tool(
            TEMPLATED_BATCH, {"Messages": [good, good | {"MessageStream": "outbound"}]}
        )
        wrong_model = await client.call_tool(TEMPLATED_BATCH, {"Messages": [good, blank]})
        sent = await client.call_tool(TEMPLATED_BATCH, {"Messages": [good, good]})
    text = wrong_stream.content[0].text
    assert wrong_stream.is_error and text.startswith("Messages[1]: MessageStream 'outbound'")
    text = wrong_model.content[0].text
    assert wrong_model.is_error and "Messages[1].TemplateModel.product_name: null" in text
    assert "Messages[0]" not in text
    assert not sent.is_error, sent.content[0].text
    body = postmark.last("POST", "/email/batchWithTemplates").json
    assert body == {"Messages": [good, good]}
    assert posts(postmark) == ["/email/batchWithTemplates"]  # the refused calls sent nothing


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("create_a_postmark_email_batch", {"Messages": [SEND | {"TextBody": "a"}]}),
        ("create_a_postmark_templated_email", SEND | WELCOME),
        ("create_a_postmark_templated_email_batch", {"Messages": [SEND | WELCOME]}),
    ],
)
async def test_the_transactional_twins_refuse_a_broadcasts_stream_and_name_the_broadcast_tools(
    url: str, postmark: FakePostmark, tool: str, arguments: dict
) -> None:
    if "Messages" in arguments:
        arguments = {
            "Messages": [m | {"MessageStream": "broadcasts"} for m in arguments["Messages"]]
        }
    else:
        arguments = arguments | {"MessageStream": "broadcasts"}
    async with mcp_client(url) as client:
        result = await client.call_tool(tool, arguments)
    text = result.content[0].text
    assert result.is_error and "accepts only Transactional streams" in text
    for broadcast in ("create_a_postmark_templated_broadcast_email", "their batch tools"):
        assert broadcast in text
    assert posts(postmark) == []


async def test_the_listing_gives_the_twins_arguments_once(url: str) -> None:
    """Beside its transactional twin, a templated broadcast lists the arguments they share
    by type alone and points to the twin; what differs (its stream) it gives in full."""
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with httpx.AsyncClient(timeout=30) as client:
        listed = (await client.post(url, json=message)).json()["result"]["tools"]
    tools = {t["name"]: t for t in listed}
    twin, broadcast = tools["create_a_postmark_templated_email"], tools[TEMPLATED]
    properties = broadcast["inputSchema"]["properties"]
    assert set(properties) == set(twin["inputSchema"]["properties"])
    assert properties["From"] == {"type": "string"}
    assert properties["MessageStream"] == {"type": "string", "description": "A Broadcasts stream."}
    assert twin["inputSchema"]["properties"]["MessageStream"]["default"] == "outbound"
    assert "MessageStream" in broadcast["inputSchema"]["required"]
    assert broadcast["description"].endswith(
        "Arguments given by type alone are as in create_a_postmark_templated_email."
    )
    assert broadcast["annotations"]["destructiveHint"] is True
    items = tools[TEMPLATED_BATCH]["inputSchema"]["properties"]["Messages"]
    assert items["description"] == f"Each item takes the arguments of {TEMPLATED}."
