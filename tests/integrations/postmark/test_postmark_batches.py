"""Batches are checked message by message, and their answer counts what Postmark accepted."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from proxy.errors import ConfigError
from proxy.manifest_files import load_manifest
from proxy.registry import compile_manifest
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.postmark_calls import new_stream
from tests.support.serving import Yamcp

SEND = {"From": "sender@example.com", "To": "customer@example.com"}
WELCOME_MODEL = {
    "name": "Ann",
    "product_name": "Acme",
    "items": [{"title": "Widget"}],
    "company": {"address": "1 Road"},
}


@pytest.fixture
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


def posts(postmark: FakePostmark) -> list[str]:
    return [r.path for r in postmark.requests if r.method == "POST"]


async def test_batch_message_without_a_body_is_refused_by_its_index(
    url: str, postmark: FakePostmark
) -> None:
    messages = [SEND | {"TextBody": "a"}, SEND | {"HtmlBody": "<p>b</p>"}, SEND | {"Subject": "c"}]
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email_batch", {"Messages": messages})
    assert result.is_error
    assert result.structured_content["error"]["type"] == "invalid_arguments"
    assert result.structured_content["error"]["problems"] == [
        "Messages[2]: HtmlBody / TextBody: give at least one of them"
    ]
    assert postmark.requests == []  # not even a stream lookup


async def test_templated_batch_message_needs_exactly_one_template_reference(
    url: str, postmark: FakePostmark
) -> None:
    messages = [
        SEND | {"TemplateAlias": "welcome", "TemplateModel": WELCOME_MODEL},
        SEND | {"TemplateModel": WELCOME_MODEL},
        SEND | {"TemplateId": 1, "TemplateAlias": "welcome", "TemplateModel": WELCOME_MODEL},
    ]
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_templated_email_batch", {"Messages": messages}
        )
    assert result.is_error
    assert result.structured_content["error"]["problems"] == [
        "Messages[1]: TemplateId / TemplateAlias: give exactly one of them",
        "Messages[2]: TemplateId / TemplateAlias: give exactly one of them",
    ]
    assert postmark.requests == []


async def test_batch_stream_refusal_names_the_messages_on_that_stream(
    url: str, postmark: FakePostmark
) -> None:
    broadcasts = new_stream(postmark, "Broadcasts")  # not cached: the lookup is seen
    messages = [
        SEND | {"TextBody": "a"},
        SEND | {"TextBody": "b", "MessageStream": broadcasts},
        SEND | {"TextBody": "c", "MessageStream": "outbound"},
        SEND | {"TextBody": "d", "MessageStream": broadcasts},
    ]
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email_batch", {"Messages": messages})
    assert result.is_error
    text = result.content[0].text
    assert text.startswith(
        f"Messages[1], Messages[3]: MessageStream {broadcasts!r} is a Broadcasts"
    )
    assert "Nothing was sent" in text
    assert postmark.count("GET", f"/message-streams/{broadcasts}") == 1
    assert posts(postmark) == []


async def test_batch_refusals_name_each_message_with_postmarks_code(
    url: str, postmark: FakePostmark
) -> None:
    # Postmark fails these per message: an unknown stream (ErrorCode 1235), an Inbound
    # stream (1236), an unknown template (1101). The refusal names each message and code.
    missing = f"gone-{uuid.uuid4().hex[:8]}"
    messages = [
        SEND | {"TextBody": "a"},
        SEND | {"TextBody": "b", "MessageStream": missing},
        SEND | {"TextBody": "c", "MessageStream": "inbound"},
    ]
    async with mcp_client(url) as client:
        streams = await client.call_tool("create_a_postmark_email_batch", {"Messages": messages})
        one = await client.call_tool(
            "create_a_postmark_email", SEND | {"TextBody": "x", "MessageStream": missing}
        )
        templated = [
            SEND | {"TemplateAlias": "welcome", "TemplateModel": {}},
            SEND | {"TemplateAlias": f"no-{missing}", "TemplateModel": {}},
        ]
        templates = await client.call_tool(
            "create_a_postmark_templated_email_batch", {"Messages": templated}
        )
    text = streams.content[0].text
    assert streams.is_error and text.startswith("Nothing was sent:\n- Messages[1]: ")
    assert f"The stream provided: '{missing}' does not exist on this server." in text
    assert "- Messages[2]: MessageStream 'inbound' is an Inbound stream" in text
    assert "ErrorCode 1235" in text and "ErrorCode 1236" in text and "Messages[0]" not in text
    assert "code" not in streams.structured_content["error"]  # two codes: none is the code
    assert one.structured_content["error"] == {
        "type": "refused",
        "message": one.content[0].text,
        "code": 1235,
    }
    text = templates.content[0].text
    assert templates.is_error and text.startswith(
        f"Messages[1]: There is no template 'no-{missing}'"
    )
    assert templates.structured_content["error"]["code"] == 1101
    assert posts(postmark) == []


async def test_mixed_batch_answers_each_message_and_counts_the_failed_ones(
    url: str, postmark: FakePostmark
) -> None:
    messages = [
        SEND | {"TextBody": "a"},
        SEND | {"TextBody": "b", "To": "jim@example.com"},
        SEND | {"TextBody": "c"},
    ]
    async with mcp_client(url) as client:
        result = await client.call_tool("create_a_postmark_email_batch", {"Messages": messages})
    assert not result.is_error, result.content[0].text
    sent = postmark.last("POST", "/email/batch").json
    assert [m["TextBody"] for m in sent] == ["a", "b", "c"]  # one request, every message
    answers = result.structured_content["result"]
    assert [a["ErrorCode"] for a in answers] == [0, 406, 0]  # Postmark's answers, unchanged
    assert answers[1] == {"ErrorCode": 406, "Message": answers[1]["Message"]}
    assert result.structured_content["summary"] == {
        "accepted": 2,
        "failed": 1,
        "failed_indexes": [1],
    }
    assert '"failed_indexes":[1]' in result.content[0].text


async def test_templated_batch_answer_counts_every_message_accepted(
    url: str, postmark: FakePostmark
) -> None:
    messages = [SEND | {"TemplateAlias": "welcome", "TemplateModel": WELCOME_MODEL}] * 2
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_templated_email_batch", {"Messages": messages}
        )
    assert not result.is_error, result.content[0].text
    assert len(postmark.last("POST", "/email/batchWithTemplates").json["Messages"]) == 2
    assert result.structured_content["summary"] == {
        "accepted": 2,
        "failed": 0,
        "failed_indexes": [],
    }


def _manifest(tmp_path: Path, items: str) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "manifest.yaml").write_text(
        "name: demo\ntitle: Demo\nbase_url: https://api.example.com\n"
        "resources:\n  thing:\n    methods:\n      create:\n"
        "        http: POST /things\n        description: Make things.\n"
        "        body:\n          Things: {type: array, items: {type: object, "
        "properties: {A: {type: string}, B: {type: string}}}}\n"
        "          Name: {type: string}\n"
        f"        items: {items}\n"
    )
    return folder / "manifest.yaml"


@pytest.mark.parametrize(
    ("items", "where", "reason"),
    [
        ("{of: Nope, any_of: [[A]]}", "items.of", "'Nope' is not an argument"),
        ("{of: Name, any_of: [[A]]}", "items.of", "'Name' is not an array of items"),
        ("{of: Things, one_of: [[A, C]]}", "items.one_of.0", "'C' is not a field of Things"),
    ],
)
def test_item_groups_name_fields_the_items_have(
    tmp_path: Path, items: str, where: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        compile_manifest(load_manifest(_manifest(tmp_path, items)))
    assert where in str(exc.value) and reason in str(exc.value)


def test_item_groups_leave_items_the_schema_refuses_to_it(tmp_path: Path) -> None:
    integration = compile_manifest(
        load_manifest(_manifest(tmp_path, "{of: Things, any_of: [[A, B]]}"))
    )
    validate = integration.tools["create_a_demo_thing"].validate
    assert validate({"Things": [{"A": "x"}, {"B": "y"}]}) == []
    assert validate({"Things": [{}, "z"]}) == [
        "Things[1]: expected object, got string",
        "Things[0]: A / B: give at least one of them",
    ]
