"""OAuth through the clients people use, against real `yamcp serve` processes.

* the official MCP Python SDK's own OAuth client (`mcp.client.auth.OAuthClientProvider`),
  with no header configured: discovery, registration (DCR, and a Client ID Metadata
  Document served over https on loopback), the consent page in headless Chromium, the
  token exchange, `tools/list` and a `tools/call` that reaches the fake Postmark, a
  refresh, then the API token revoked and the next call refused; in both MCP eras;
* `mcp-remote` (Claude Desktop's bridge), which prints the sign-in link and waits for
  the browser on its own callback port;
* two instances sharing Redis: a token issued by one is honoured and revoked on the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import re
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
import trustme
from mcp import Client, StdioServerParameters
from mcp.client.auth import OAuthClientProvider
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from playwright.async_api import Browser, Page

from tests.support.chromium import chromium
from tests.support.fake_postmark import FakePostmark
from tests.support.oauth_flow import OAuthDriver, query_of, tools_list
from tests.support.real_clients import real_clients
from tests.support.serving import Yamcp, free_port, start_yamcp, stop_yamcp, write_workdir

STATS_TOOL = "get_single_postmark_delivery_stat_by_id"
ACCESS_SECONDS = 2  # short, so that a test sees the client refresh


# --- a Client ID Metadata Document, served over https on loopback ---


@dataclass
class MetadataHost:
    url: str  # https://localhost:<port>/oauth/client.json
    ca_file: Path
    redirect_uri: str
    fetched: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def metadata_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetadataHost]:
    folder = tmp_path_factory.mktemp("cimd")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    host = MetadataHost(
        f"https://localhost:{port}/oauth/client.json", ca_file, "http://127.0.0.1:9/callback"
    )
    document = json.dumps(
        {
            "client_id": host.url,
            "client_name": "SDK client (metadata document)",
            "redirect_uris": [host.redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.fetched.append(self.path)
            self.send_response(200 if self.path == "/oauth/client.json" else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield host
    server.shutdown()


@pytest.fixture(scope="module")
def oauth_yamcp(
    fake_postmark: FakePostmark,
    metadata_host: MetadataHost,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("yamcp-oauth")
    write_workdir(workdir, fake_postmark.url)
    server = start_yamcp(
        workdir,
        {
            "YAMCP_OAUTH_ACCESS_TOKEN_SECONDS": str(ACCESS_SECONDS),
            "YAMCP_OAUTH_METADATA_ALLOW_PRIVATE": "true",
            "YAMCP_OAUTH_METADATA_CA_FILE": str(metadata_host.ca_file),
        },
    )
    yield server
    stop_yamcp(server)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


def mint_secured(yamcp: Yamcp) -> tuple[dict, str, str]:
    """A server minted with API-token auth through the CLI, an API token and its id."""
    record = json.loads(
        yamcp.cli("mint", "--account", "acme", "--json", "--require-api-token-auth").stdout
    )
    created = yamcp.cli("api-token", "create", "--server", record["id"])
    token_id = re.search(r"api token (\S+) for", created.stderr).group(1)
    return record, created.stdout.strip(), token_id


async def approve_in_chromium(
    browser: Browser, authorization_url: str, api_token: str, callback_prefix: str
) -> str:
    """What the person does: open the link, read the page, type the API token, approve.
    Returns the URL the browser was sent back to (the client's callback)."""
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page: Page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    landed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def callback(route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        if not landed.done():
            landed.set_result(request.url)
        await route.fulfill(status=200, body="signed in")  # type: ignore[attr-defined]

    if callback_prefix.startswith("http://127.0.0.1:9/"):
        await page.route(callback_prefix + "**", callback)
    else:  # a real callback server (mcp-remote's): let the browser reach it
        page.on(
            "request",
            lambda r: (
                landed.set_result(r.url)
                if r.url.startswith(callback_prefix) and not landed.done()
                else None
            ),
        )
    try:
        await page.goto(authorization_url)
        assert await page.locator("h1").inner_text() == "Sign in to an MCP server"
        body = await page.locator("main").inner_text()
        assert "Postmark (acme)" in body and "Expires" in body
        # nothing overflows sideways on a phone
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        await page.fill("#api_token", api_token)
        await page.click("button[value=approve]")
        try:
            url = await asyncio.wait_for(landed, 20)
        except TimeoutError:
            raise AssertionError(
                f"no callback; page: {page.url} {await page.content()} {problems}"
            ) from None
    finally:
        await context.close()
    assert not [p for p in problems if "Content Security Policy" in p], problems
    return url


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@pytest.mark.parametrize(
    ("registration", "mode"),
    [("dcr", "legacy"), ("dcr", "2026-07-28"), ("cimd", "legacy"), ("cimd", "2026-07-28")],
)
async def test_the_sdk_oauth_client_signs_in_calls_refreshes_and_is_cut_off(
    oauth_yamcp: Yamcp,
    postmark: FakePostmark,
    browser: Browser,
    metadata_host: MetadataHost,
    registration: str,
    mode: str,
) -> None:
    record, api_token, token_id = mint_secured(oauth_yamcp)
    url = record["url"]
    storage = MemoryStorage()
    signing_in = {"allowed": True, "count": 0}
    result: dict[str, AuthorizationCodeResult] = {}
    redirect_uri = metadata_host.redirect_uri

    async def redirect_handler(authorization_url: str) -> None:
        signing_in["count"] += 1
        if not signing_in["allowed"]:
            raise RuntimeError("a sign-in was asked for again")
        landed = await approve_in_chromium(
            browser, authorization_url, api_token, "http://127.0.0.1:9/"
        )
        query = query_of(landed)
        result["code"] = AuthorizationCodeResult(
            code=query["code"], state=query.get("state"), iss=query.get("iss")
        )

    async def callback_handler() -> AuthorizationCodeResult:
        return result["code"]

    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            redirect_uris=[redirect_uri],
            client_name="SDK test client",
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
        client_metadata_url=metadata_host.url if registration == "cimd" else None,
    )
    seen: list[tuple[str, str]] = []

    async def on_request(request: httpx2.Request) -> None:
        body = request.content.decode(errors="replace") if request.method == "POST" else ""
        seen.append((f"{request.method} {request.url.path}", body))

    fetched_before = len(metadata_host.fetched)
    with anyio.fail_after(90):
        async with (
            httpx2.AsyncClient(
                auth=provider, timeout=30, event_hooks={"request": [on_request]}
            ) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode, cache=None) as client,
        ):
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert "list_all_postmark_domains" in names  # granted only with API-token auth
            called = await client.call_tool(STATS_TOOL, {})
            assert not called.is_error, called.content
            assert (
                postmark.last("GET", "/deliverystats").headers["x-postmark-server-token"]
                == FakePostmark.server_token
            )
            paths = [p for p, _ in seen]
            assert "GET /.well-known/oauth-authorization-server" in paths
            assert any(
                p.startswith("GET /.well-known/oauth-protected-resource/mcp/") for p in paths
            )
            if registration == "dcr":
                assert "POST /oauth/register" in paths
                assert len(metadata_host.fetched) == fetched_before
            else:
                assert "POST /oauth/register" not in paths
                assert storage.client_info.client_id == metadata_host.url
            assert signing_in["count"] == 1
            first_access = storage.tokens.access_token

            # the access token runs out; the client refreshes it, no person involved
            await anyio.sleep(ACCESS_SECONDS + 0.5)
            again = await client.call_tool(STATS_TOOL, {})
            assert not again.is_error
            refreshes = [b for p, b in seen if p == "POST /oauth/token" and "refresh_token" in b]
            assert len(refreshes) == 1
            assert storage.tokens.access_token != first_access
            assert signing_in["count"] == 1

    # the owner revokes the API token the person signed in with: the client's next
    # session is refused, and sent back to sign-in (which this person declines)
    oauth_yamcp.cli("api-token", "revoke", "--server", record["id"], token_id)
    calls_before = len(postmark.requests)
    signing_in["allowed"] = False
    with anyio.fail_after(60), pytest.raises(ExceptionGroup) as refused:
        async with (
            httpx2.AsyncClient(auth=provider, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode, cache=None) as client,
        ):
            await client.call_tool(STATS_TOOL, {})
    assert refused.group_contains(RuntimeError, match="sign-in was asked for again", depth=None)
    assert signing_in["count"] == 2
    assert len(postmark.requests) == calls_before

    with httpx.Client(timeout=10) as raw:
        refused = tools_list(raw, url, storage.tokens.access_token)
    assert refused.status_code == 401
    assert "resource_metadata=" in refused.headers["www-authenticate"]


async def test_mcp_remote_signs_in_through_the_browser(
    oauth_yamcp: Yamcp, postmark: FakePostmark, browser: Browser, tmp_path: Path
) -> None:
    clients = real_clients()
    record, api_token, _ = mint_secured(oauth_yamcp)
    home = tmp_path / "home"
    home.mkdir()
    callback_port = free_port()
    errlog = tmp_path / "mcp-remote.log"
    params = StdioServerParameters(
        command=str(clients.node),
        args=[
            str(clients.mcp_remote),
            record["url"],
            str(callback_port),
            "--transport",
            "http-only",
            "--host",
            "127.0.0.1",
        ],
        env={"HOME": str(home), "BROWSER": "true"},
        cwd=str(tmp_path),
    )

    async def sign_in() -> None:
        while True:
            text = errlog.read_text() if errlog.exists() else ""
            found = re.search(r"Please authorize this client by visiting:\s+(\S+)", text)
            if found:
                break
            await anyio.sleep(0.1)
        await approve_in_chromium(
            browser, found.group(1), api_token, f"http://127.0.0.1:{callback_port}/"
        )

    with anyio.fail_after(90), errlog.open("w") as log:
        async with anyio.create_task_group() as group:
            group.start_soon(sign_in)
            async with Client(
                stdio_client(params, errlog=log), mode="legacy", cache=None
            ) as client:
                names = [tool.name for tool in (await client.list_tools()).tools]
                assert "list_all_postmark_domains" in names
                called = await client.call_tool(STATS_TOOL, {})
                assert not called.is_error, called.content
    assert postmark.last("GET", "/deliverystats").headers["x-postmark-server-token"] == (
        FakePostmark.server_token
    )


def test_the_log_never_shows_a_token_of_the_flow(oauth_yamcp: Yamcp) -> None:
    record, api_token, _ = mint_secured(oauth_yamcp)
    url_token = record["url"].rsplit("/", 1)[1]
    with httpx.Client(timeout=10, follow_redirects=False) as http:
        driver = OAuthDriver(http, oauth_yamcp.base)
        signed = driver.sign_in(record["url"], api_token)
        assert tools_list(http, record["url"], signed.access_token).status_code == 200
        driver.refresh(signed.client_id, signed.refresh_token)
        http.get(f"{oauth_yamcp.base}/.well-known/oauth-protected-resource/mcp/{url_token}")
    log = oauth_yamcp.log()
    assert "GET /oauth/authorize?" in log  # the access log has the line, not the secrets
    for secret in (url_token, api_token, signed.access_token, signed.refresh_token):
        assert secret not in log


# --- two instances on one Redis ---


@pytest.fixture
def redis_pair(fake_postmark: FakePostmark, tmp_path: Path) -> Iterator[tuple[Yamcp, Yamcp]]:
    prefix = f"yamcp-oauth-{free_port()}:"
    env = {"YAMCP_STORE_URL": "redis://127.0.0.1:6379/0", "YAMCP_STORE_PREFIX": prefix}
    started: list[Yamcp] = []
    with contextlib.ExitStack() as stack:
        port = free_port()
        for name in ("one", "two"):
            workdir = tmp_path / name
            workdir.mkdir()
            write_workdir(workdir, fake_postmark.url)
            # both answer for one public URL: the load balancer's
            server = start_yamcp(
                workdir, {**env, "YAMCP_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
            )
            stack.callback(stop_yamcp, server)
            started.append(server)
        yield started[0], started[1]


def test_two_instances_on_redis_share_every_grant(
    redis_pair: tuple[Yamcp, Yamcp], postmark: FakePostmark
) -> None:
    one, two = redis_pair
    record, api_token, token_id = mint_secured(one)
    token = record["url"].rsplit("/", 1)[1]
    public = record["url"].rsplit("/mcp/", 1)[0]
    on_one, on_two = f"{one.base}/mcp/{token}", f"{two.base}/mcp/{token}"
    with httpx.Client(timeout=10, follow_redirects=False) as http:
        # sign in on instance one (registration, page and code), exchange on two
        driver_one = OAuthDriver(http, one.base)
        client_id = driver_one.register()["client_id"]
        verifier = "v" * 64
        params = driver_one.authorize_params(client_id, f"{public}/mcp/{token}", verifier)
        page = http.get(f"{one.base}/oauth/authorize", params=params)
        assert page.status_code == 200, page.text
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        answer = http.post(
            f"{one.base}/oauth/authorize",
            data={**fields, "api_token": api_token, "decision": "approve"},
            headers={"origin": public},
        )
        assert answer.status_code == 303, answer.text
        code = query_of(answer.headers["location"])["code"]
        driver_two = OAuthDriver(http, two.base)
        exchanged = driver_two.exchange(client_id, code, verifier, f"{public}/mcp/{token}")
        assert exchanged.status_code == 200, exchanged.text
        access = exchanged.json()["access_token"]
        assert tools_list(http, on_one, access).status_code == 200
        assert tools_list(http, on_two, access).status_code == 200
        # the API token is revoked through instance two: both refuse at once
        two.cli("api-token", "revoke", "--server", record["id"], token_id)
        calls = len(postmark.requests)
        assert tools_list(http, on_one, access).status_code == 401
        assert tools_list(http, on_two, access).status_code == 401
        assert len(postmark.requests) == calls
