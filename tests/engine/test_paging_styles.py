"""Cursor, next-URL and Link-header paging, end to end through the official MCP client.

A recording upstream on loopback pages each list the way the real API does: Resend and
Stripe (`has_more` + the last item's id as `after` / `starting_after`), a body cursor
(Slack's `response_metadata.next_cursor`, empty on the last page), DigitalOcean (absolute
`links.pages.next`), Twilio (`next_page_uri`, a path from the API host) and GitHub (RFC
8288 `Link` headers, pointing at `/repositories/{id}/...`). Every test reads what arrived
on the wire for each page, and what the agent got: `{result, next_cursor}` and nothing
about the upstream's own paging.
"""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from proxy.errors import ConfigError
from proxy.paging import encode_cursor
from proxy.registry import load_registry
from tests.support.fake_postmark import FakePostmark
from tests.support.json_upstream import JsonHandler, serving
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

SECRET = "pager-secret-4711"
ITEMS = [{"id": f"it_{i}", "name": f"Item {i}"} for i in range(5)]

PAGERS = """\
name: pagers
title: Pagers
base_url: https://pagers.invalid
credentials:
  key: {header: Authorization, secret: api_key, prefix: "Bearer "}
resources:
  email:
    methods:
      list:
        http: GET /emails
        description: Sent emails, newest first (Resend).
        pagination: {style: cursor, cursor_param: after, has_more: has_more,
                     cursor_field: id, items: data}
  charge:
    methods:
      list:
        http: GET /v1/charges
        description: Charges, newest first (Stripe).
        query:
          customer: {type: string}
        pagination: {style: cursor, cursor_param: starting_after, has_more: has_more,
                     cursor_field: id, items: data}
  channel:
    methods:
      list:
        http: GET /api/conversations.list
        description: Channels (a body cursor, empty on the last page).
        pagination: {style: cursor, cursor_param: cursor,
                     next_cursor: response_metadata.next_cursor, items: channels}
  droplet:
    methods:
      list:
        http: GET /v2/droplets
        description: Droplets (DigitalOcean).
        query:
          tag_name: {type: string}
        pagination: {style: next_url, limit_param: per_page, next_url: links.pages.next,
                     items: droplets, total: meta.total}
  issue:
    methods:
      list:
        http: GET /repos/{owner}/{repo}/issues
        description: Issues of a repository (GitHub).
        path:
          owner: {type: string}
          repo: {type: string}
        query:
          state: {type: string, enum: [open, closed, all]}
        pagination: {style: link_header, limit_param: per_page, items: "@"}
  leak:
    methods:
      list:
        http: GET /leaky
        description: A list whose next URL in the body is whatever `to` says.
        query:
          to: {type: string}
        pagination: {style: next_url, limit_param: per_page, next_url: next, items: data}
  hop:
    methods:
      list:
        http: GET /leaky
        description: A list whose Link header points wherever `to` says.
        query:
          to: {type: string}
          link: {type: boolean}
        pagination: {style: link_header, limit_param: per_page, items: data}
"""

TWILISH = """\
name: twilish
title: Twilish
base_url: https://api.twilio.invalid/2010-04-01/Accounts/AC123
credentials:
  key: {header: Authorization, secret: api_key, prefix: "Bearer "}
resources:
  message:
    methods:
      list:
        http: GET /Messages.json
        description: Messages (Twilio).
        query:
          To: {type: string}
        pagination: {style: next_url, limit_param: PageSize, next_url: next_page_uri,
                     items: messages}
"""

# DigitalOcean's droplets again, with the key in the query as some APIs take it.
KEYED = """\
name: keyed
title: Keyed
base_url: https://keyed.invalid
credentials:
  key: {query: api_key, secret: api_key}
resources:
  droplet:
    methods:
      list:
        http: GET /v2/droplets
        description: Droplets, the key in the query.
        pagination: {style: next_url, limit_param: per_page, next_url: links.pages.next,
                     items: droplets}
"""


class Recorder(JsonHandler):
    """Pages the way each real API does, and records every request's path and query."""

    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        url = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        origin = f"http://{self.headers['host']}"
        path = url.path
        if path in ("/emails", "/v1/charges"):  # Resend, Stripe
            after = q.get("after" if path == "/emails" else "starting_after")
            start = next(i + 1 for i, it in enumerate(ITEMS) if it["id"] == after) if after else 0
            end = start + int(q.get("limit", 10))
            body = {"object": "list", "has_more": end < len(ITEMS), "data": ITEMS[start:end]}
            self.send_json(body)
        elif path == "/api/conversations.list":  # Slack: an opaque cursor, "" at the end
            start = int(base64.b64decode(q["cursor"])) if q.get("cursor") else 0
            end = start + int(q["limit"])
            nxt = base64.b64encode(str(end).encode()).decode() if end < len(ITEMS) else ""
            meta = {"next_cursor": nxt}
            self.send_json({"ok": True, "channels": ITEMS[start:end], "response_metadata": meta})
        elif path == "/v2/droplets":  # DigitalOcean: absolute links, the filters kept
            page, size = int(q.get("page", 1)), int(q["per_page"])
            pages = {}
            if page * size < len(ITEMS):
                tag = f"&tag_name={q['tag_name']}" if "tag_name" in q else ""
                echo = f"&access_token={SECRET}" if page == 1 else ""  # a careless upstream
                pages["next"] = f"{origin}/v2/droplets?page={page + 1}&per_page={size}{tag}{echo}"
            data = ITEMS[(page - 1) * size : page * size]
            self.send_json({"droplets": data, "links": {"pages": pages}, "meta": {"total": 5}})
        elif path == "/2010-04-01/Accounts/AC123/Messages.json":  # Twilio: a path, not a URL
            page, size = int(q.get("Page", 0)), int(q["PageSize"])
            start = int(q["PageToken"][4:]) if "PageToken" in q else 0
            end = start + size
            nxt = None
            if end < len(ITEMS):
                nxt = (
                    f"/2010-04-01/Accounts/AC123/Messages.json?To=%2B15551234567"
                    f"&PageSize={size}&Page={page + 1}&PageToken=PASM{end}"
                )
            body = {"messages": ITEMS[start:end], "next_page_uri": nxt, "page": page}
            self.send_json(body)
        elif path in ("/repos/octo/hello/issues", "/repositories/42/issues"):  # GitHub
            page, size = int(q.get("page", 1)), int(q.get("per_page", 30))
            self._github(origin, page, size, q.get("state", "open"))
        elif path == "/leaky":
            if q.get("link") == "true":
                self.send_json({"data": ITEMS[:1]}, headers={"link": f'<{q["to"]}>; rel="next"'})
            else:
                self.send_json({"data": ITEMS[:1], "next": q["to"]})
        else:
            self.send_json({"message": "Not Found"}, 404)

    def _github(self, origin: str, page: int, size: int, state: str) -> None:
        base = f"{origin}/repositories/42/issues?state={state}"
        last = -(-len(ITEMS) // size)
        data = ITEMS[(page - 1) * size : page * size]
        self.send_response(200)
        self.send_header("content-type", "application/json")
        if page == 1:
            self.send_header(
                "link",
                f'<{base}&per_page={size}&page=2>; rel="next", '
                f'<{base}&per_page={size}&page={last}>; rel="last"',
            )
        elif page < last:  # odd but valid: two Link fields, a rel list, spaces, no quotes
            self.send_header("link", f'<{base}&page=1>; rel="prev first"')
            self.send_header(
                "link", f'<{base}&page={page + 1}> ;rel=next ,<{base}&page={last}>; rel="last"'
            )
        else:
            self.send_header("link", f'<{base}&page={page - 1}>; rel="prev", <{base}>; rel=first')
        import json

        raw = json.dumps(data).encode()
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class Elsewhere(JsonHandler):
    """Another host: a next URL pointing here must never reach it."""

    seen: list[str] = []

    def do_GET(self) -> None:
        Elsewhere.seen.append(self.path)
        self.send_json({"data": [], "stolen": self.headers.get("authorization")})


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serving(Recorder) as url:
        yield url


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[str]:
    with serving(Elsewhere) as url:
        yield url


@pytest.fixture(scope="module")
def yamcp_pagers(
    upstream: str, fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("paging-styles")
    extra = workdir / "integrations"
    for name, text in (("pagers", PAGERS), ("twilish", TWILISH), ("keyed", KEYED)):
        (extra / name).mkdir(parents=True)
        (extra / name / "manifest.yaml").write_text(text)
    write_workdir(
        workdir,
        fake_postmark.url,
        "  pagers:\n"
        "    integration: pagers\n"
        f"    base_url: {upstream}\n"
        "    credentials:\n"
        "      api_key: ${PAGERS_KEY}\n"
        "  other:\n"
        "    integration: pagers\n"
        f"    base_url: {upstream}\n"
        "    credentials:\n"
        "      api_key: ${OTHER_KEY}\n"
        "  keyed:\n"
        "    integration: keyed\n"
        f"    base_url: {upstream}\n"
        "    credentials:\n"
        "      api_key: ${PAGERS_KEY}\n"
        "  twilio:\n"
        "    integration: twilish\n"
        f"    base_url: {upstream}/2010-04-01/Accounts/AC123\n"
        "    credentials:\n"
        "      api_key: ${PAGERS_KEY}\n",
    )
    dirs = f"{ROOT / 'integrations'},{extra}"
    server = start_yamcp(
        workdir,
        {"YAMCP_INTEGRATIONS_DIRS": dirs, "PAGERS_KEY": SECRET, "OTHER_KEY": "another-key-0815"},
    )
    server.settings = server.settings.model_copy(
        update={"integrations_dirs": [ROOT / "integrations", extra]}
    )
    yield server
    stop_yamcp(server)


@pytest.fixture
def seen() -> list[str]:
    Recorder.seen.clear()
    Elsewhere.seen.clear()
    return Recorder.seen


async def walk(url: str, tool: str, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of a list, following next_cursor as an agent does."""
    pages: list[dict[str, Any]] = []
    cursor = None
    async with mcp_client(url) as client:
        while True:
            args = arguments | ({"next_cursor": cursor} if cursor else {})
            result = await client.call_tool(tool, args)
            assert not result.is_error, result.content
            pages.append(result.structured_content)
            cursor = result.structured_content["next_cursor"]
            if cursor is None:
                return pages
            assert len(pages) < 10, "paging did not end"


def ids(pages: list[dict[str, Any]]) -> list[list[str]]:
    return [[item["id"] for item in page["result"]] for page in pages]


FIVE = [["it_0", "it_1"], ["it_2", "it_3"], ["it_4"]]


@pytest.mark.parametrize(
    ("tool", "param"),
    [("list_all_pagers_emails", "after"), ("list_all_pagers_charges", "starting_after")],
)
async def test_has_more_pages_by_the_last_items_id(
    yamcp_pagers: Yamcp, seen: list[str], tool: str, param: str
) -> None:
    url = await yamcp_pagers.mint(account="pagers")
    pages = await walk(url, tool, {"limit": 2})
    assert ids(pages) == FIVE
    assert [set(page) for page in pages] == [{"result", "next_cursor"}] * 3
    path = urlsplit(seen[0]).path
    assert seen == [
        f"{path}?limit=2",
        f"{path}?limit=2&{param}=it_1",
        f"{path}?limit=2&{param}=it_3",
    ]


async def test_cursor_pages_keep_the_tools_filters(yamcp_pagers: Yamcp, seen: list[str]) -> None:
    url = await yamcp_pagers.mint(account="pagers")
    await walk(url, "list_all_pagers_charges", {"limit": 3, "customer": "cus_9"})
    assert seen == [
        "/v1/charges?customer=cus_9&limit=3",
        "/v1/charges?customer=cus_9&limit=3&starting_after=it_2",
    ]


async def test_a_body_cursor_ends_when_it_is_empty(yamcp_pagers: Yamcp, seen: list[str]) -> None:
    url = await yamcp_pagers.mint(account="pagers")
    pages = await walk(url, "list_all_pagers_channels", {"limit": 2})
    assert ids(pages) == FIVE
    assert seen == [
        "/api/conversations.list?limit=2",
        "/api/conversations.list?limit=2&cursor=Mg%3D%3D",  # base64 "2", sent as given
        "/api/conversations.list?limit=2&cursor=NA%3D%3D",
    ]


async def test_absolute_next_urls_are_followed_without_adding_filters_again(
    yamcp_pagers: Yamcp, seen: list[str]
) -> None:
    url = await yamcp_pagers.mint(account="pagers")
    pages = await walk(url, "list_all_pagers_droplets", {"limit": 2, "tag_name": "web"})
    assert ids(pages) == FIVE
    assert [page["total"] for page in pages] == [5, 5, 5]
    assert seen == [
        "/v2/droplets?tag_name=web&per_page=2",
        # the upstream's own query, as it wrote it, minus the credential it echoed
        "/v2/droplets?page=2&per_page=2&tag_name=web",
        "/v2/droplets?page=3&per_page=2&tag_name=web",
    ]


async def test_a_cursor_never_carries_a_credential_the_upstream_echoed(
    yamcp_pagers: Yamcp, seen: list[str]
) -> None:
    url = await yamcp_pagers.mint(account="pagers")
    pages = await walk(url, "list_all_pagers_droplets", {"limit": 2})
    cursor = pages[0]["next_cursor"]
    assert SECRET not in base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    assert not any(SECRET in line for line in seen)
    assert SECRET not in yamcp_pagers.log()


async def test_a_query_credential_follows_the_next_url_once(
    yamcp_pagers: Yamcp, seen: list[str]
) -> None:
    url = await yamcp_pagers.mint(account="keyed")
    pages = await walk(url, "list_all_keyed_droplets", {"limit": 2})
    assert ids(pages) == FIVE
    assert seen == [
        f"/v2/droplets?per_page=2&api_key={SECRET}",
        # the echoed access_token is not kept; the account's key is added, once
        f"/v2/droplets?page=2&per_page=2&api_key={SECRET}",
        f"/v2/droplets?page=3&per_page=2&api_key={SECRET}",
    ]
    for page in pages[:2]:
        cursor = page["next_cursor"]
        assert SECRET not in base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


async def test_relative_next_page_uri_is_on_the_api_host(
    yamcp_pagers: Yamcp, seen: list[str]
) -> None:
    url = await yamcp_pagers.mint(account="twilio")
    pages = await walk(url, "list_all_twilish_messages", {"limit": 2, "To": "+15551234567"})
    assert ids(pages) == FIVE
    assert seen == [
        "/2010-04-01/Accounts/AC123/Messages.json?To=%2B15551234567&PageSize=2",
        "/2010-04-01/Accounts/AC123/Messages.json?To=%2B15551234567&PageSize=2&Page=1"
        "&PageToken=PASM2",
        "/2010-04-01/Accounts/AC123/Messages.json?To=%2B15551234567&PageSize=2&Page=2"
        "&PageToken=PASM4",
    ]


async def test_link_headers_are_followed_and_keep_the_page_size(
    yamcp_pagers: Yamcp, seen: list[str]
) -> None:
    url = await yamcp_pagers.mint(account="pagers")
    args = {"owner": "octo", "repo": "hello", "state": "all", "limit": 2}
    pages = await walk(url, "list_all_pagers_issues", args)
    assert ids(pages) == FIVE
    assert seen == [
        "/repos/octo/hello/issues?state=all&per_page=2",
        "/repositories/42/issues?state=all&per_page=2&page=2",
        # the second page's link left the page size out: the agent's is added
        "/repositories/42/issues?state=all&page=3&per_page=2",
    ]


@pytest.mark.parametrize("tool", ["list_all_pagers_leaks", "list_all_pagers_hops"])
@pytest.mark.parametrize(
    "target",
    [
        "{elsewhere}/steal?page=2",  # another port on the same loopback address
        "//{elsewhere_netloc}/steal",  # scheme-relative
        "https://{upstream_netloc}/leaky?page=2",  # another scheme
        "http://localhost:{upstream_port}/leaky?page=2",  # another host name
        "http://user:pw@{upstream_netloc}/leaky?page=2",  # credentials in the URL
    ],
)
async def test_a_next_url_off_the_accounts_origin_is_refused_without_a_request(
    yamcp_pagers: Yamcp, upstream: str, elsewhere: str, seen: list[str], tool: str, target: str
) -> None:
    up = urlsplit(upstream)
    to = target.format(
        elsewhere=elsewhere,
        elsewhere_netloc=urlsplit(elsewhere).netloc,
        upstream_netloc=up.netloc,
        upstream_port=up.port,
    )
    url = await yamcp_pagers.mint(account="pagers")
    args: dict[str, Any] = {"to": to} | ({"link": True} if tool.endswith("hops") else {})
    async with mcp_client(url) as client:
        result = await client.call_tool(tool, args)
    assert result.is_error
    error = result.structured_content["error"]
    assert error["type"] == "upstream_error"
    message = error["message"]
    if "user:pw@" in to:
        assert "next page URL carries a user name or password" in message
        assert "pw" not in message
    else:
        assert "yamcp follows a next URL only on the account's own scheme, host and port" in message
        assert f"base URL (http://127.0.0.1:{up.port})" in message
    assert len(seen) == 1 and Elsewhere.seen == []
    assert SECRET not in error["message"]


async def test_an_altered_or_foreign_cursor_is_refused_before_any_request(
    yamcp_pagers: Yamcp, seen: list[str]
) -> None:
    url = await yamcp_pagers.mint(account="pagers")
    other = await yamcp_pagers.mint(account="other")
    async with mcp_client(url) as client:
        first = await client.call_tool("list_all_pagers_droplets", {"limit": 2})
        emails = await client.call_tool("list_all_pagers_emails", {"limit": 2})
    droplet_cursor = first.structured_content["next_cursor"]
    email_cursor = emails.structured_content["next_cursor"]
    raw = base64.urlsafe_b64decode(droplet_cursor + "=" * (-len(droplet_cursor) % 4))
    edited = raw.replace(b"/v2/droplets", b"/v2/account")  # another endpoint, same host
    forged = base64.urlsafe_b64encode(edited).decode().rstrip("=")
    seen.clear()
    bad = {
        "garbage": ("list_all_pagers_droplets", "not a cursor!"),
        "edited": ("list_all_pagers_droplets", forged),
        "another tool's": ("list_all_pagers_droplets", email_cursor),
        "an offset cursor": ("list_all_pagers_emails", encode_cursor(2)),
    }
    async with mcp_client(url) as client:
        for label, (tool, cursor) in bad.items():
            result = await client.call_tool(tool, {"limit": 2, "next_cursor": cursor})
            error = result.structured_content["error"]
            assert result.is_error and error["type"] == "invalid_arguments", label
            assert error["message"].startswith("next_cursor: not a cursor this tool returned")
    async with mcp_client(other) as client:  # the same tool, another account
        result = await client.call_tool(
            "list_all_pagers_droplets", {"limit": 2, "next_cursor": droplet_cursor}
        )
        assert result.structured_content["error"]["type"] == "invalid_arguments"
    assert seen == []


# --- what the loader refuses, with the file and the key ---

BASE = """\
name: tiny
title: Tiny
base_url: http://127.0.0.1:9
credentials:
  main: {header: X-Api-Key, secret: api_key}
PAGINATION
resources:
  widget:
    methods:
      list:
        http: GET /widgets
        description: Widgets.
        pagination: METHOD
"""


@pytest.mark.parametrize(
    ("top", "method", "key", "reason"),
    [
        ("", "{style: cursor, items: data, has_more: has_more, cursor_field: id}",
         "resources.widget.methods.list.pagination.cursor_param", "needs `cursor_param`"),
        ("", "{style: cursor, items: data, cursor_param: after}",
         "resources.widget.methods.list.pagination.next_cursor", "needs `next_cursor`"),
        ("", "{style: cursor, items: data, cursor_param: after, has_more: has_more}",
         "resources.widget.methods.list.pagination.cursor_field", "needs `cursor_field`"),
        ("", "{style: cursor, items: data, cursor_param: after, cursor_field: id}",
         "resources.widget.methods.list.pagination.has_more", "needs `has_more`"),
        ("", "{style: cursor, items: data, cursor_param: after, next_cursor: n, has_more: m,"
         " cursor_field: id}",
         "resources.widget.methods.list.pagination.has_more", "not both"),
        ("", "{style: next_url, items: data}",
         "resources.widget.methods.list.pagination.next_url", "needs `next_url`"),
        ("", "{style: link_header}",
         "resources.widget.methods.list.pagination.items", "needs `items`"),
        ("pagination: {style: offset, next_url: links.next}", "{items: data}",
         "pagination.next_url", "belongs to style next_url, not offset"),
        ("", "{style: link_header, items: data, cursor_param: after}",
         "resources.widget.methods.list.pagination.cursor_param",
         "belongs to style cursor, not link_header"),
        ("", "{style: next_url, items: data, next_url: 'links.['}",
         "resources.widget.methods.list.pagination.next_url", "invalid JMESPath"),
        ("", "{style: cursors, items: data}",
         "resources.widget.methods.list.pagination.style", ""),
    ],
)  # fmt: skip
def test_incomplete_paging_is_refused_at_load_naming_file_and_key(
    tmp_path: Path, top: str, method: str, key: str, reason: str
) -> None:
    folder = tmp_path / "tiny"
    folder.mkdir()
    text = BASE.replace("PAGINATION", top).replace("METHOD", method)
    (folder / "manifest.yaml").write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as info:
        load_registry([tmp_path])
    assert info.value.file.endswith("manifest.yaml")
    assert info.value.path == key
    assert reason in info.value.reason


def test_a_method_switching_style_drops_the_integrations_style_keys(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    folder.mkdir()
    top = "pagination: {style: next_url, next_url: links.next, items: data}"
    (folder / "manifest.yaml").write_text(
        BASE.replace("PAGINATION", top).replace("METHOD", "{style: link_header}")
    )
    paging = load_registry([tmp_path]).tool("list_all_tiny_widgets").paging
    assert paging.style == "link_header" and paging.next_url is None
    assert paging.max_window is None
