"""The promise users buy: a folder with one YAML file becomes tools, with no code change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_postmark import FakePostmark
from tests.support.json_upstream import JsonHandler, serving
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

MANIFEST = """\
name: widgets
title: Widgets
base_url: https://widgets.invalid
credentials:
  key: {header: Authorization, secret: api_key, prefix: "Bearer "}
pagination: {style: page, limit_param: per_page, page_param: page, items: data, total: meta.total}
rate_limit: {limit: [X-Quota-Limit], remaining: [X-Quota-Left], reset: [X-Quota-Reset], reset_kind: delta}
resources:
  widget:
    tags: [widgets]
    methods:
      list:
        http: GET /v1/widgets
        description: List widgets, optionally by colour.
        query:
          colour: {type: string, enum: [red, blue]}
      get:
        http: GET /v1/widgets/{id}
        description: One widget by its ID.
        path:
          id: {type: string}
        response: "{id: id, label: name}"
"""

WIDGETS = [
    {"id": f"w{i}", "name": f"Widget {i}", "colour": "red" if i % 2 else "blue"} for i in range(5)
]


class Upstream(JsonHandler):
    seen: list[tuple[str, str, str | None]] = []

    def do_GET(self) -> None:
        Upstream.seen.append(("GET", self.path, self.headers.get("authorization")))
        if self.path.startswith("/v1/widgets/"):
            wid = self.path.rsplit("/", 1)[1]
            found = [w for w in WIDGETS if w["id"] == wid]
            self._send(200 if found else 404, found[0] if found else {"error": "not found"})
            return
        self._send(200, {"data": WIDGETS[:2], "meta": {"total": len(WIDGETS)}})

    def _send(self, status: int, body: object) -> None:
        quota = {"x-quota-limit": "60", "x-quota-left": "59", "x-quota-reset": "12"}
        self.send_json(body, status, quota)


@pytest.fixture(scope="module")
def widgets_api() -> Iterator[str]:
    with serving(Upstream) as url:
        yield url


@pytest.fixture(scope="module")
def yamcp_with_widgets(
    widgets_api: str, fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("dropin")
    extra = workdir / "more-integrations"
    (extra / "widgets").mkdir(parents=True)
    (extra / "widgets" / "manifest.yaml").write_text(MANIFEST)
    write_workdir(
        workdir,
        fake_postmark.url,
        "  shop:\n"
        "    integration: widgets\n"
        f"    base_url: {widgets_api}\n"
        "    credentials:\n"
        "      api_key: ${WIDGETS_KEY}\n",
    )
    server = start_yamcp(
        workdir,
        {
            "YAMCP_INTEGRATIONS_DIRS": f"{ROOT / 'integrations'},{extra}",
            "WIDGETS_KEY": "widget-secret",
        },
    )
    server.settings = server.settings.model_copy(
        update={"integrations_dirs": [ROOT / "integrations", extra]}
    )
    yield server
    stop_yamcp(server)


async def test_yaml_only_integration_appears_as_tools_and_forwards(
    yamcp_with_widgets: Yamcp,
) -> None:
    assert not any(Path(ROOT / "proxy").rglob("*widget*"))
    url = await yamcp_with_widgets.mint(account="shop")
    Upstream.seen.clear()
    async with mcp_client(url) as client:
        names = sorted(t.name for t in (await client.list_tools()).tools)
        assert names == ["get_single_widgets_widget_by_id", "list_all_widgets_widgets"]
        page = await client.call_tool("list_all_widgets_widgets", {"colour": "red", "limit": 2})
        assert page.structured_content["total"] == 5
        assert page.structured_content["next_cursor"]
        second = await client.call_tool(
            "list_all_widgets_widgets",
            {"limit": 2, "next_cursor": page.structured_content["next_cursor"]},
        )
        assert not second.is_error
        one = await client.call_tool("get_single_widgets_widget_by_id", {"id": "w3"})
        assert one.structured_content == {"id": "w3", "label": "Widget 3"}
        missing = await client.call_tool("get_single_widgets_widget_by_id", {"id": "nope"})
        assert missing.is_error and missing.structured_content["error"]["status"] == 404
    assert Upstream.seen[0] == (
        "GET",
        "/v1/widgets?colour=red&per_page=2&page=1",
        "Bearer widget-secret",
    )
    assert Upstream.seen[1][1] == "/v1/widgets?per_page=2&page=2"
    assert Upstream.seen[2][1] == "/v1/widgets/w3"


async def test_declared_rate_limit_headers_are_normalised(yamcp_with_widgets: Yamcp) -> None:
    import httpx

    url = await yamcp_with_widgets.mint(account="shop")
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "get_single_widgets_widget_by_id", "arguments": {"id": "w1"}},
    }
    response = httpx.post(url, json=message)
    assert response.json()["result"]["isError"] is False
    assert response.headers["ratelimit-limit"] == "60"
    assert response.headers["ratelimit-remaining"] == "59"
    assert response.headers["ratelimit-reset"] == "12"
