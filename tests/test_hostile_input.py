"""Bad input from clients never reaches the upstream; random input never breaks the server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.registry import load_registry
from tests.conftest import Yamcp, mcp_client
from tests.fake_postmark import FakePostmark

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = load_registry([ROOT / "integrations"])
TOOL_NAMES = sorted(REGISTRY.tools)
# Every path a tool may send: its template with each {param} one encoded segment.
ALLOWED = [
    re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/?#]+", re.escape(t.path)) + "$", re.I)
    for t in REGISTRY.tools.values()
]


def inside_manifest(path: str) -> bool:
    return any(p.match(path) for p in ALLOWED)


@pytest.fixture(scope="module")
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint(require_api_token_auth=False)


@pytest.mark.parametrize(
    ("hostile", "on_the_wire"),
    [
        ("../bounces", "/templates/..%2Fbounces"),
        ("a/b", "/templates/a%2Fb"),
        ("%2F", "/templates/%252F"),
        ("x?Count=500", "/templates/x%3FCount%3D500"),
        ("x#frag", "/templates/x%23frag"),
        ("sp ace", "/templates/sp%20ace"),
    ],
)
async def test_path_parameters_cannot_escape_their_segment(
    url: str, postmark: FakePostmark, hostile: str, on_the_wire: str
) -> None:
    async with mcp_client(url) as client:
        await client.call_tool("get_single_postmark_template_by_id", {"id": hostile})
    assert [r.path for r in postmark.requests] == [on_the_wire]


@pytest.mark.parametrize("dots", [".", ".."])
async def test_dot_segments_are_refused(url: str, postmark: FakePostmark, dots: str) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool("get_single_postmark_template_by_id", {"id": dots})
    assert result.is_error and "not a valid identifier" in result.content[0].text
    assert postmark.requests == []


def test_missing_and_extra_params(url: str, postmark: FakePostmark) -> None:
    def rpc(params: object) -> dict:
        body = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": params}
        return httpx.post(url, json=body, timeout=10).json()

    assert rpc({})["error"]["code"] == -32602  # no name
    assert rpc({"name": 5})["error"]["code"] == -32602
    extra = rpc({"name": "list_all_postmark_bounces", "arguments": {"limit": 1, "bogus": 1}})
    assert extra["result"]["isError"] and "bogus" in extra["result"]["content"][0]["text"]
    wrong = rpc({"name": "list_all_postmark_bounces", "arguments": {"limit": "ten"}})
    assert "limit: expected integer, got string" in wrong["result"]["content"][0]["text"]
    assert postmark.requests == []


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

messages = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "jsonrpc": st.sampled_from(["2.0", "1.0", 2]),
            "method": st.text(max_size=15)
            | st.sampled_from(
                [
                    "initialize",
                    "ping",
                    "tools/list",
                    "tools/call",
                    "server/discover",
                    "notifications/initialized",
                ]
            ),
        },
        optional={
            "id": st.integers() | st.text(max_size=5) | st.none() | st.booleans(),
            "params": json_values,
        },
    ),
)

tool_calls = st.fixed_dictionaries(
    {
        "jsonrpc": st.just("2.0"),
        "id": st.integers(min_value=0, max_value=10**6),
        "method": st.just("tools/call"),
        "params": st.fixed_dictionaries(
            {
                "name": st.sampled_from(TOOL_NAMES),
                "arguments": st.dictionaries(
                    st.sampled_from(
                        [
                            "id",
                            "limit",
                            "next_cursor",
                            "To",
                            "From",
                            "Messages",
                            "TemplateModel",
                            "MessageStream",
                            "count",
                            "type",
                            "Name",
                        ]
                    )
                    | st.text(max_size=8),
                    json_values | st.text(alphabet="./?#%&=\\ ab", max_size=12),
                    max_size=4,
                ),
            }
        ),
    }
)


def well_formed(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 202:
        assert response.content == b""
        return
    body = response.json()
    assert body["jsonrpc"] == "2.0"
    assert ("result" in body) != ("error" in body)


FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(message=messages)
def test_random_messages_get_well_formed_answers(url: str, message: object) -> None:
    with httpx.Client(timeout=10) as client:
        well_formed(
            client.post(
                url, content=json.dumps(message), headers={"content-type": "application/json"}
            )
        )


@FUZZ
@given(message=tool_calls)
def test_random_tool_calls_stay_inside_the_manifest_paths(
    url: str, fake_postmark: FakePostmark, message: dict
) -> None:
    seen = len(fake_postmark.requests)
    with httpx.Client(timeout=10) as client:
        well_formed(client.post(url, json=message))
    for request in fake_postmark.requests[seen:]:
        assert inside_manifest(request.path), request.path


def nested(depth: int) -> bytes:
    """JSON `depth` objects deep, written by hand: json.dumps itself gives up near 1,000."""
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        # jsonschema's message for the wrong type echoed the instance: a RecursionError.
        ("list_all_postmark_bounces", b'{"limit":' + nested(1000) + b"}"),
        # A free-form object passed validation; the template lookup went upstream, and then
        # the body could not be encoded (orjson stops at 254 levels).
        (
            "create_a_postmark_templated_email",
            b'{"From":"sender@example.com","To":"a@example.com","TemplateAlias":"welcome",'
            b'"TemplateModel":{"name":"Ann","product_name":"Acme","items":[{"title":"Hi"}],'
            b'"company":{"address":"1 Main Street"},"extra":' + nested(300) + b"}}",
        ),
    ],
)
def test_deeply_nested_arguments_are_invalid_not_internal_errors(
    url: str, postmark: FakePostmark, tool: str, arguments: bytes
) -> None:
    body = (
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"'
        + tool.encode()
        + b'","arguments":'
        + arguments
        + b"}}"
    )
    answer = httpx.post(
        url, content=body, headers={"content-type": "application/json"}, timeout=10
    ).json()
    result = answer["result"]
    assert result["isError"] is True
    assert result["structuredContent"]["error"]["type"] == "invalid_arguments"
    assert "levels deep" in result["content"][0]["text"]
    assert postmark.requests == []
