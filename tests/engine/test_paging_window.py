"""Paging that never strands an agent.

Postmark reads its own offset paging at most 10,000 items deep (count + offset): the page
that would cross that line is shrunk, and the cursor then ends with a note saying how to go
on. Lists Postmark answers whole, paged by yamcp, have no such window. Date filters take
dates and date-times, in US Eastern time, and reach Postmark as given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from proxy.paging import decode_cursor, encode_cursor
from proxy.registry import load_registry
from tests.support.fake_postmark import FakePostmark
from tests.support.json_upstream import JsonHandler, serving
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir


@pytest.fixture
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


def _seed_bounces(postmark: FakePostmark, n: int) -> None:
    first = postmark.state.bounces[0]
    postmark.state.bounces = [dict(first, ID=1_000_000 + i) for i in range(n)]


def _sent(postmark: FakePostmark, path: str) -> dict[str, list[str]]:
    return postmark.last("GET", path).query


async def test_page_crossing_the_window_shrinks_and_the_cursor_ends_with_a_note(
    url: str, postmark: FakePostmark
) -> None:
    _seed_bounces(postmark, 10_050)
    async with mcp_client(url) as client:
        before = await client.call_tool(
            "list_all_postmark_bounces", {"limit": 500, "next_cursor": encode_cursor(9300)}
        )
        assert not before.is_error, before.content[0].text
        assert _sent(postmark, "/bounces") == {"count": ["500"], "offset": ["9300"]}
        page = before.structured_content
        assert len(page["result"]) == 500 and "note" not in page
        assert decode_cursor(page["next_cursor"]) == 9800

        last = await client.call_tool(
            "list_all_postmark_bounces", {"limit": 500, "next_cursor": page["next_cursor"]}
        )
    assert not last.is_error, last.content[0].text
    # The shrunk page: Postmark is asked for exactly what lies before its window.
    assert _sent(postmark, "/bounces") == {"count": ["200"], "offset": ["9800"]}
    page = last.structured_content
    assert [b["ID"] for b in page["result"]] == [1_000_000 + i for i in range(9800, 10_000)]
    assert page["next_cursor"] is None
    assert page["total"] == 10_050
    note = page["note"]
    assert "10000 items deep" in note and "50 more match" in note and "filters" in note
    assert "note" in last.content[0].text


async def test_a_list_that_ends_before_the_window_has_no_note(
    url: str, postmark: FakePostmark
) -> None:
    _seed_bounces(postmark, 9_900)
    async with mcp_client(url) as client:
        last = await client.call_tool(
            "list_all_postmark_bounces", {"limit": 500, "next_cursor": encode_cursor(9800)}
        )
    assert _sent(postmark, "/bounces") == {"count": ["200"], "offset": ["9800"]}
    page = last.structured_content
    assert len(page["result"]) == 100 and page["next_cursor"] is None
    assert "note" not in page


async def test_a_cursor_past_the_window_is_a_tool_error_and_nothing_is_sent(
    url: str, postmark: FakePostmark
) -> None:
    async with mcp_client(url) as client:
        deep = await client.call_tool(
            "list_all_postmark_bounces", {"limit": 10, "next_cursor": encode_cursor(10_000)}
        )
    assert deep.is_error
    assert "10000" in deep.content[0].text and "narrow" in deep.content[0].text
    assert postmark.requests == []


async def test_lists_yamcp_pages_itself_have_no_window(url: str, postmark: FakePostmark) -> None:
    postmark.state.suppressions["outbound"] = [
        {
            "EmailAddress": f"user{i}@example.com",
            "SuppressionReason": "ManualSuppression",
            "Origin": "Customer",
            "CreatedAt": "2024-01-16T10:00:00-05:00",
        }
        for i in range(10_700)
    ]
    arguments: dict[str, Any] = {"id": "outbound", "limit": 500}
    async with mcp_client(url) as client:
        deep = await client.call_tool(
            "list_all_postmark_suppressions", arguments | {"next_cursor": encode_cursor(9800)}
        )
        assert not deep.is_error, deep.content[0].text
        page = deep.structured_content
        assert [s["EmailAddress"] for s in page["result"]] == [
            f"user{i}@example.com" for i in range(9800, 10_300)
        ]
        assert decode_cursor(page["next_cursor"]) == 10_300
        end = await client.call_tool(
            "list_all_postmark_suppressions", arguments | {"next_cursor": page["next_cursor"]}
        )
    page = end.structured_content
    assert [s["EmailAddress"] for s in page["result"]] == [
        f"user{i}@example.com" for i in range(10_300, 10_700)
    ]
    assert page["next_cursor"] is None and page["total"] == 10_700 and "note" not in page
    # Postmark was asked for the whole dump, with no paging parameters of its own.
    assert _sent(postmark, "/message-streams/outbound/suppressions/dump") == {}


def _date_filtered_tools() -> dict[str, dict[str, Any]]:
    """Every tool with fromdate/todate, with the arguments it needs besides them."""
    registry = load_registry([ROOT / "integrations"])
    tools: dict[str, dict[str, Any]] = {}
    for name, tool in registry.tools.items():
        if "fromdate" in tool.input_schema["properties"]:
            required = tool.input_schema.get("required", [])
            tools[name] = {arg: "outbound" for arg in required}
    return tools


DATE_TOOLS = _date_filtered_tools()


def test_every_date_filter_is_covered() -> None:
    assert {"list_all_postmark_bounces", "list_all_postmark_suppressions"} <= set(DATE_TOOLS)
    assert len(DATE_TOOLS) >= 8


@pytest.mark.parametrize("name", sorted(DATE_TOOLS))
async def test_date_time_filters_reach_postmark_as_given(
    name: str, url: str, postmark: FakePostmark
) -> None:
    arguments = DATE_TOOLS[name] | {"fromdate": "2024-01-12T08:00:00", "todate": "2024-01-14"}
    async with mcp_client(url) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        schema = tools[name].input_schema["properties"]
        # one description covers the pair: both bounds inclusive, in US Eastern time
        assert "US Eastern" in schema["fromdate"]["description"]
        assert "todate, inclusive" in schema["fromdate"]["description"]
        assert schema["fromdate"]["pattern"] == schema["todate"]["pattern"]
        result = await client.call_tool(name, arguments)
        assert not result.is_error, result.content[0].text
        query = postmark.requests[-1].query
        assert query["fromdate"] == ["2024-01-12T08:00:00"]
        assert query["todate"] == ["2024-01-14"]

        sent = len(postmark.requests)
        bad = await client.call_tool(name, DATE_TOOLS[name] | {"fromdate": "2024-01-12 08:00"})
    assert bad.is_error and "fromdate" in bad.content[0].text
    assert len(postmark.requests) == sent


async def test_a_date_time_filter_narrows_to_the_minute(url: str, postmark: FakePostmark) -> None:
    async with mcp_client(url) as client:
        whole_day = await client.call_tool("list_all_postmark_bounces", {"fromdate": "2024-01-12"})
        from_nine = await client.call_tool(
            "list_all_postmark_bounces", {"fromdate": "2024-01-12T09:00:00"}
        )
    ids = {b["ID"] for b in whole_day.structured_content["result"]}
    later = {b["ID"] for b in from_nine.structured_content["result"]}
    # The bounce at 08:30 Eastern on the 12th is in the day, not after nine.
    assert len(ids - later) == 1


# --- the engine's window with page-number paging, and a `none` list under a manifest window

GADGETS = """\
name: gadgets
title: Gadgets
base_url: https://gadgets.invalid
credentials:
  key: {header: Authorization, secret: api_key, prefix: "Bearer "}
pagination: {style: page, limit_param: size, page_param: page, total: total, max_window: 11}
resources:
  gadget:
    tags: [gadgets]
    methods:
      list:
        http: GET /gadgets
        description: Gadgets, paged by page number, at most 11 deep.
        pagination: {items: items}
  part:
    tags: [gadgets]
    methods:
      list:
        http: GET /parts
        description: Parts, all in one answer.
        pagination: {style: none, items: parts}
"""


class Gadgets(JsonHandler):
    seen: list[dict[str, list[str]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        Gadgets.seen.append(query)
        if url.path == "/parts":
            self.send_json({"parts": [f"p{i}" for i in range(30)]})
            return
        size, page = int(query["size"][0]), int(query["page"][0])
        if size * page > 11:  # the upstream's own window
            self.send_response(400)
            self.end_headers()
            return
        start = size * (page - 1)
        items = [f"g{i}" for i in range(start, min(start + size, 25))]
        self.send_json({"items": items, "total": 25})


@pytest.fixture(scope="module")
def gadgets_url(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with serving(Gadgets) as upstream:
        yield from _gadgets(fake_postmark, tmp_path_factory, upstream)


def _gadgets(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory, upstream: str
) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("gadgets")
    extra = workdir / "more-integrations"
    (extra / "gadgets").mkdir(parents=True)
    (extra / "gadgets" / "manifest.yaml").write_text(GADGETS)
    write_workdir(
        workdir,
        fake_postmark.url,
        "  lab:\n"
        "    integration: gadgets\n"
        f"    base_url: {upstream}\n"
        "    credentials:\n"
        "      api_key: ${GADGETS_KEY}\n",
    )
    server = start_yamcp(
        workdir,
        {"YAMCP_INTEGRATIONS_DIRS": f"{ROOT / 'integrations'},{extra}", "GADGETS_KEY": "k"},
    )
    server.settings = server.settings.model_copy(
        update={"integrations_dirs": [ROOT / "integrations", extra]}
    )
    try:
        yield asyncio.run(server.mint(account="lab"))
    finally:
        stop_yamcp(server)


async def test_page_numbers_reach_every_item_up_to_the_window(gadgets_url: str) -> None:
    Gadgets.seen.clear()
    seen: list[str] = []
    pages = []
    async with mcp_client(gadgets_url) as client:
        arguments: dict[str, Any] = {"limit": 3}
        while True:
            result = await client.call_tool("list_all_gadgets_gadgets", arguments)
            assert not result.is_error, result.content[0].text
            page = result.structured_content
            seen += page["result"]
            pages.append(page)
            if page["next_cursor"] is None:
                break
            arguments["next_cursor"] = page["next_cursor"]
    # Each item once, in order, up to the window; the pages past 9 shrink to fit it.
    assert seen == [f"g{i}" for i in range(11)]
    assert [(q["size"], q["page"]) for q in Gadgets.seen] == [
        (["3"], ["1"]),
        (["3"], ["2"]),
        (["3"], ["3"]),
        (["1"], ["10"]),
        (["1"], ["11"]),
    ]
    assert "note" in pages[-1] and "14 more match" in pages[-1]["note"]
    assert all("note" not in p for p in pages[:-1])


async def test_a_none_list_ignores_the_manifest_window(gadgets_url: str) -> None:
    async with mcp_client(gadgets_url) as client:
        result = await client.call_tool(
            "list_all_gadgets_parts", {"limit": 10, "next_cursor": encode_cursor(15)}
        )
    assert not result.is_error, result.content[0].text
    page = result.structured_content
    assert page["result"] == [f"p{i}" for i in range(15, 25)]
    assert decode_cursor(page["next_cursor"]) == 25 and page["total"] == 30


def test_a_whole_answer_paged_by_yamcp_ends_where_the_answer_does() -> None:
    # style none with a `total` that counts more than the answer holds (the upstream's
    # count across pages it never sent): every offset past the answer was an empty page
    # with a cursor, so an agent walked a run of empty pages up to that total.
    import jmespath

    from proxy.paging import page_result
    from proxy.tools import Paging

    paging = Paging(
        style="none", limit_param="", offset_param="", page_param="", first_page=1,
        default_limit=2, max_limit=100, max_window=None,
        items=jmespath.compile("data"), total=jmespath.compile("paging.total"),
    )  # fmt: skip
    body = {"data": [{"id": 1}, {"id": 2}, {"id": 3}], "paging": {"total": 500}}
    first = page_result(paging, body, 2, 0)
    assert [i["id"] for i in first["result"]] == [1, 2] and first["next_cursor"]
    last = page_result(paging, body, 2, decode_cursor(first["next_cursor"]))
    assert [i["id"] for i in last["result"]] == [3]
    assert last["next_cursor"] is None
    assert last["total"] == 500  # what the upstream says, reported as it says it
