"""Descriptions, annotations and error hints a model gets right the first time (issue 15, 5).

A tool whose name says `by_id` but takes no id says so; send tools say what they answer;
an upstream error with a code the manifest knows ends with the next step to take
(`errors.hints`); editing a template is flagged destructive, since it overwrites with no
history.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark
from tests.support.manifests import GOOD, error_of, write
from tests.support.mcp_client import mcp_client
from tests.support.serving import Yamcp

SEND = {"From": "sender@example.com", "To": "customer@example.com", "TextBody": "Hi"}


@pytest.fixture
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


async def test_inactive_recipient_error_names_bounces_and_suppressions(
    url: str, postmark: FakePostmark
) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email", SEND | {"To": "jim@example.com"})
    assert result.is_error
    error = result.structured_content["error"]
    assert error["status"] == 422 and error["code"] == 406
    text = result.content[0].text
    assert "Found inactive addresses: jim@example.com" in text
    assert "list_all_postmark_bounces" in text and "list_all_postmark_suppressions" in text
    assert "list_all_postmark_suppressions" in error["hint"]
    assert postmark.last("POST").path == "/email"
    assert postmark.last("POST").json["To"] == "jim@example.com"


async def test_invalid_email_request_says_to_fix_and_resend(
    url: str, postmark: FakePostmark
) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email", SEND | {"From": "nobody"})
    assert result.is_error
    text = result.content[0].text
    assert "(ErrorCode 300): Invalid 'From' address: 'nobody'." in text
    assert text.endswith("Fix what the message names (addresses, body, limits) and send again.")
    assert postmark.last("POST").json["From"] == "nobody"


@pytest.mark.parametrize(
    ("code", "message", "next_step"),
    [
        (400, "Sender Signature not found.", "list_all_postmark_sender_signatures"),
        (401, "Sender signature not confirmed.", "create_a_postmark_sender_signature_confirmation"),
    ],
)
async def test_sender_signature_errors_give_the_next_step(
    url: str, postmark: FakePostmark, code: int, message: str, next_step: str
) -> None:
    body = {"ErrorCode": code, "Message": message}
    postmark.fail_next("status", path="/email", status=422, body=body)
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email", SEND)
    assert result.is_error
    text = result.content[0].text
    assert f"(ErrorCode {code}): {message} " in text and next_step in text
    assert result.structured_content["error"]["code"] == code
    assert postmark.last("POST").json["To"] == SEND["To"]


async def test_a_code_without_hint_gets_none(url: str, postmark: FakePostmark) -> None:
    postmark.fail_next("status", path="/email", status=422, body={"ErrorCode": 1, "Message": "x"})
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email", SEND)
    assert result.content[0].text == "Postmark answered HTTP 422 (ErrorCode 1): x"
    assert "hint" not in result.structured_content["error"]
    assert postmark.count("POST", "/email") == 1


async def _tools(url: str) -> dict[str, dict]:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(url, json=message)
    return {t["name"]: t for t in response.json()["result"]["tools"]}


async def test_descriptions_say_no_id_and_what_sends_answer(url: str) -> None:
    tools = await _tools(url)
    delivery = tools["get_single_postmark_delivery_stat_by_id"]["description"]
    assert delivery.startswith("Takes no arguments.")
    assert "get_single_postmark_outbound_overview_stat_by_id" in delivery
    stats = [n for n in tools if n.endswith("_stat_by_id") and "delivery" not in n]
    assert len(stats) == 13
    for name in stats:
        assert tools[name]["description"].endswith("No id: filters only."), name
        assert "id" not in tools[name]["inputSchema"]["properties"], name
    server = tools["get_single_postmark_current_server_by_id"]
    assert server["description"].startswith("Takes no arguments.")
    assert server["inputSchema"].get("properties", {}) == {}
    for name in ("create_a_postmark_email", "create_a_postmark_broadcast_email"):
        assert "Cannot be undone." in tools[name]["description"], name
        assert "Answers MessageID and SubmittedAt." in tools[name]["description"], name


async def test_template_edit_is_flagged_destructive(url: str) -> None:
    tools = await _tools(url)
    edit = tools["update_a_postmark_template_by_id"]
    assert edit["annotations"]["destructiveHint"] is True
    assert edit["annotations"]["readOnlyHint"] is False
    assert "no history" in edit["description"]


# --- request size limits follow Postmark: 10 MB per message, 50 MB per batch ----------------


async def _call(url: str, name: str, arguments: dict) -> dict:
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(url, json=message)
    assert response.status_code == 200, response.text[:300]
    return response.json()["result"]


def _attachment(size: int) -> list[dict]:
    return [{"Name": "a.bin", "Content": "A" * size, "ContentType": "application/octet-stream"}]


async def test_an_email_over_10_mb_is_refused_and_nothing_is_sent(
    url: str, postmark: FakePostmark
) -> None:
    result = await _call(url, "create_a_postmark_email", SEND | {"Attachments": _attachment(10**7)})
    assert result["isError"]
    error = result["structuredContent"]["error"]
    assert error["type"] == "invalid_arguments"
    assert "above the upstream's limit of 10,000,000 bytes. Nothing was sent" in error["message"]
    assert postmark.requests == []  # not even the stream lookup


async def test_an_email_of_9_mb_reaches_postmark_whole(url: str, postmark: FakePostmark) -> None:
    result = await _call(
        url, "create_a_postmark_email", SEND | {"Attachments": _attachment(9 * 10**6)}
    )
    assert not result["isError"], result["content"][0]["text"]
    assert len(postmark.last("POST", "/email").json["Attachments"][0]["Content"]) == 9 * 10**6


async def test_a_batch_over_50_mb_is_refused_and_nothing_is_sent(
    url: str, postmark: FakePostmark
) -> None:
    messages = [SEND | {"Attachments": _attachment(85 * 10**5)} for _ in range(6)]
    result = await _call(url, "create_a_postmark_email_batch", {"Messages": messages})
    assert result["isError"]
    message = result["structuredContent"]["error"]["message"]
    assert "above the upstream's limit of 50,000,000 bytes" in message
    assert postmark.requests == []


async def test_a_batch_of_45_mb_reaches_postmark(url: str, postmark: FakePostmark) -> None:
    messages = [SEND | {"Attachments": _attachment(9 * 10**6)} for _ in range(5)]
    result = await _call(url, "create_a_postmark_email_batch", {"Messages": messages})
    assert not result["isError"], result["content"][0]["text"][:300]
    assert len(postmark.last("POST", "/email/batch").json) == 5


# --- a Standard template needs a Subject (a declared `required_when`) -----------------------


@pytest.mark.parametrize("given", [{}, {"TemplateType": "Standard"}])
async def test_a_standard_template_without_subject_is_refused(
    url: str, postmark: FakePostmark, given: dict
) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_template", {"Name": "Welcome", "HtmlBody": "Hi"} | given
        )
    assert result.is_error
    error = result.structured_content["error"]
    assert error["type"] == "invalid_arguments"
    assert error["problems"] == ["Subject: required when TemplateType is Standard"]
    assert postmark.requests == []


async def test_a_layout_needs_no_subject(url: str, postmark: FakePostmark) -> None:
    layout = {"Name": "Frame", "TemplateType": "Layout", "HtmlBody": "<b>{{{@content}}}</b>"}
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_template", layout)
    assert not result.is_error, result.content[0].text
    assert postmark.last("POST", "/templates").json == layout


def test_a_rule_naming_an_unknown_argument_is_refused_at_load(tmp_path: Path) -> None:
    rule = "\n        required_when: [{when: {kind: [a]}, require: [id]}]\n"
    err = error_of(write(tmp_path, GOOD.rstrip("\n") + rule))
    assert err.path == "resources.widget.methods.get.required_when.0"
    assert err.reason == "'kind' is not an argument"
