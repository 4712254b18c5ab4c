"""Bad input from clients never reaches the upstream; random input never breaks the server."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.paging import decode_cursor, encode_cursor
from proxy.registry import load_registry
from proxy.tools import Tool
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.plain_http import EMAIL, rpc
from tests.support.serving import Yamcp

REGISTRY = load_registry([ROOT / "integrations"])
TOOL_NAMES = sorted(REGISTRY.tools)


def _template(tool: Tool) -> re.Pattern[str]:
    """The paths a tool may send: its template with each {param} one encoded segment."""
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/?#]+", re.escape(tool.path)) + "$", re.I)


ALLOWED = [_template(t) for t in REGISTRY.tools.values()]


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


HOSTILE_TEXT = st.text(alphabet="./?#%&=+;\\ abé", min_size=1, max_size=12)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of roughly the declared type, so that many calls get past validation."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "string" and schema.get("format") == "date":
        return st.dates().map(str) | HOSTILE_TEXT
    if kind == "string" and schema.get("format") in ("email", "idn-email"):
        return st.sampled_from(["a@example.com", "b@example.org"]) | HOSTILE_TEXT
    if kind == "string":
        return HOSTILE_TEXT
    if kind == "integer":
        return st.integers(min_value=-1, max_value=600)
    if kind == "number":
        return st.integers(min_value=0, max_value=100) | st.floats(min_value=0, max_value=100)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {})), max_size=3)
    if kind == "object":
        properties = schema.get("properties")
        if properties:
            return st.fixed_dictionaries(
                {}, optional={k: from_schema(v) for k, v in properties.items()}
            )
        return st.dictionaries(
            st.text(alphabet="abc_", min_size=1, max_size=5), HOSTILE_TEXT, max_size=2
        )
    return json_values


def declared_arguments(tool: Tool) -> st.SearchStrategy[dict[str, Any]]:
    properties = dict(tool.input_schema.get("properties", {}))
    required = set(tool.input_schema.get("required", ()))
    cursors = st.integers(min_value=0, max_value=60).map(encode_cursor)
    strategies = {
        name: cursors if name == "next_cursor" else from_schema(schema)
        for name, schema in properties.items()
    }
    return st.fixed_dictionaries(
        {k: v for k, v in strategies.items() if k in required},
        optional={k: v for k, v in strategies.items() if k not in required},
    )


POSTMARK_TOOLS = sorted(n for n, t in REGISTRY.tools.items() if t.integration == "postmark")
declared_calls = st.sampled_from(POSTMARK_TOOLS).flatmap(
    lambda name: st.fixed_dictionaries(
        {
            "jsonrpc": st.just("2.0"),
            "id": st.integers(min_value=0, max_value=10**6),
            "method": st.just("tools/call"),
            "params": st.fixed_dictionaries(
                {"name": st.just(name), "arguments": declared_arguments(REGISTRY.tools[name])}
            ),
        }
    )
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


def _query_text(value: Any) -> list[str]:
    """How one query argument is written on the wire: booleans as true/false, lists repeated."""
    if isinstance(value, list):
        return [text for item in value for text in _query_text(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def expected_request(tool: Tool, arguments: dict[str, Any]) -> tuple[str, str, dict]:
    """Method, encoded path and query the manifest says a call with these arguments sends,
    worked out here from the tool's declaration, not by yamcp's code."""
    path = tool.path
    for name in tool.path_params:
        path = path.replace("{" + name + "}", quote(str(arguments[name]), safe=""))
    query: dict[str, list[str]] = {}
    for name in tool.query_params:
        value = arguments.get(name)
        if value is None:
            continue
        prefix = tool.query_prefixed.get(name)
        pairs = (
            {f"{prefix}{k}": v for k, v in value.items()} if prefix is not None else {name: value}
        )
        for key, item in pairs.items():
            query.setdefault(key, []).extend(_query_text(item))
    if tool.paging is not None and tool.paging.style == "offset":
        cursor = arguments.get("next_cursor")
        offset = decode_cursor(cursor) if cursor else 0
        query[tool.paging.limit_param] = [str(arguments.get("limit", tool.paging.default_limit))]
        query[tool.paging.offset_param] = [str(offset)]
    return tool.http_method, path, query


# RFC 3986 path characters: unreserved, sub-delims, ':' and '@', or percent-encoded octets.
ENCODED_PATH = re.compile(r"(/([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-F]{2})+)+")


@FUZZ
@given(message=tool_calls)
def test_random_tool_calls_send_exactly_the_declared_request(
    url: str, fake_postmark: FakePostmark, message: dict
) -> None:
    sends_what_it_declares(url, fake_postmark, message)


@settings(FUZZ, max_examples=80)
@given(message=declared_calls)
def test_calls_shaped_like_the_schema_send_exactly_the_declared_request(
    url: str, fake_postmark: FakePostmark, message: dict
) -> None:
    """Arguments of the declared types get past validation far more often than random ones,
    so these reach the upstream: path parameters, filters and paging on the wire."""
    sends_what_it_declares(url, fake_postmark, message)


def sends_what_it_declares(url: str, fake_postmark: FakePostmark, message: dict) -> None:
    """Whatever reaches the upstream is inside the manifest's paths, encoded, and its raw
    target is exactly the path and query recorded; the tool's own request is exactly the one
    its declaration gives for these arguments."""
    seen = len(fake_postmark.requests)
    with httpx.Client(timeout=10) as client:
        well_formed(client.post(url, json=message))
    arrived = fake_postmark.requests[seen:]
    for request in arrived:
        assert inside_manifest(request.path), request.path
        path, _, raw_query = request.target.partition("?")
        assert path == request.path and ENCODED_PATH.fullmatch(path), request.target
        assert "#" not in request.target and " " not in request.target, request.target
        assert parse_qs(raw_query, keep_blank_values=True) == request.query
    tool = REGISTRY.tools[message["params"]["name"]]
    own = [r for r in arrived if r.method == tool.http_method and _template(tool).match(r.path)]
    if own:  # it got past validation, policy and checks: the first such is the tool's own
        method, path, query = expected_request(tool, message["params"]["arguments"])
        assert (own[0].method, own[0].path) == (method, path), own[0].target
        assert own[0].query == query, own[0].target


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


# --- crafted input is a 4xx, never a 500 (each reproduced a finding of issue 13's review) ---

MODERN = "2026-07-28"
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"


@pytest.mark.parametrize("origin", ["http://[::1", "http://[", "://", "http://%zz", "\x7f"])
def test_unparsable_origin_is_403_before_anything(yamcp: Yamcp, origin: str) -> None:
    before = yamcp.log().count("Traceback")
    response = httpx.post(
        f"{yamcp.base}/mcp/whatever", json={}, headers={"origin": origin}, timeout=10
    )
    # 403 from yamcp; a control character never gets past uvicorn's parser (400).
    assert response.status_code == (400 if origin == "\x7f" else 403)
    assert yamcp.log().count("Traceback") == before


@pytest.mark.parametrize(
    "cursor", ["\u00b2", "\u0661", "\u0663", "1e3", " 1", "-1", "+1", "1_0", "9" * 30]
)
@pytest.mark.parametrize("modern", [False, True])
def test_odd_tools_list_cursors_are_invalid_params(url: str, cursor: str, modern: bool) -> None:
    message: dict = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/list",
        "params": {"cursor": cursor},
    }
    headers = {}
    if modern:
        message["params"]["_meta"] = {META_VERSION: MODERN, META_CAPABILITIES: {}}
        headers = {"mcp-protocol-version": MODERN, "mcp-method": "tools/list"}
    response = rpc(url, message, headers)
    assert response.status_code in (200, 400)
    assert response.json()["error"]["code"] == -32602


DEEP = "\x00DEEP\x00"


def rpc_text(url: str, text: str, headers: dict[str, str]) -> httpx.Response:
    headers = {"content-type": "application/json", **headers}
    return httpx.post(url, content=text.encode(), headers=headers, timeout=30)


@pytest.mark.parametrize("where", ["version", "capabilities", "meta", "name", "cursor", "id"])
def test_deeply_nested_params_are_a_clean_error(url: str, where: str) -> None:
    # 1,000 levels (objects and arrays alternate): within what a JSON parser accepts,
    # past what a recursive encoder or repr() survives. Built as text for that reason.
    deep = '{"x":[' * 500 + '"2026-07-28"' + "]}" * 500
    meta: dict = {META_VERSION: MODERN, META_CAPABILITIES: {}}
    params: dict = {"_meta": meta}
    message: dict = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": params}
    if where == "version":
        meta[META_VERSION] = DEEP
    elif where == "capabilities":
        meta[META_CAPABILITIES] = DEEP
    elif where == "meta":
        params["_meta"] = DEEP
    elif where == "name":
        message["method"], params["name"] = "tools/call", DEEP
    elif where == "cursor":
        params["cursor"] = DEEP
    else:
        message["id"] = DEEP
    text = json.dumps(message).replace(json.dumps(DEEP), deep)
    headers = {"mcp-protocol-version": MODERN, "mcp-method": message["method"]}
    response = rpc_text(url, text, headers)
    assert response.status_code < 500
    # Capabilities are the client's own business: a deep one is served like any other.
    assert ("result" if where == "capabilities" else "error") in response.json()
    # The legacy era reads the same fields.
    legacy = text.replace('"params": {"_meta"', '"params": {"protocolVersion": "2025-11-25", "_m"')
    assert rpc_text(url, legacy, {}).status_code < 500


async def test_a_deeply_nested_value_under_a_policy_rule_is_refused_cleanly(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    url = await yamcp.mint(
        config={
            "constraints": {
                "create_a_postmark_email": {
                    "MessageStream": {"enum": ["outbound"]},
                    "To": {"pattern": "@example\\.com$"},
                }
            }
        }
    )
    deep = "[" * 900 + '"outbound"' + "]" * 900
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "create_a_postmark_email",
            "arguments": {**EMAIL, "MessageStream": DEEP},
        },
    }
    text = json.dumps(call).replace(json.dumps(DEEP), deep)
    response = rpc_text(url, text, {})
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["isError"] is True
    assert result["structuredContent"]["error"]["type"] == "policy_denied"
    assert "plain value" in result["content"][0]["text"]
    assert postmark.count("POST", "/email") == 0


# --- a foreign Host is refused on every path, not only the MCP endpoint (issue 13) ---


@pytest.mark.parametrize(
    "path", ["/metrics", "/readyz", "/healthz", "/admin", "/integrated-account", "/nowhere"]
)
def test_a_foreign_host_is_refused_on_every_path(yamcp: Yamcp, path: str) -> None:
    response = httpx.get(f"{yamcp.base}{path}", headers={"host": "evil.example"}, timeout=10)
    assert response.status_code == 421
