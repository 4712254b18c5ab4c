"""The MCP Servers page at /admin, driven in headless Chromium with Playwright.

Debian's Chromium (/usr/bin/chromium) runs the page against a real `yamcp serve` with
YAMCP_ADMIN_UI=true; the URL the page hands out is then used by the official MCP client.
Screenshots land in test-artifacts/ (docs/admin-page.png is one of them, copied by hand).
"""

from __future__ import annotations

import re
import struct
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
)

from tests.support.chromium import chromium
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ARTIFACTS = ROOT / "test-artifacts"
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.fixture(scope="module")
def ui(fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("yamcp-ui")
    write_workdir(workdir, fake_postmark.url)
    server = start_yamcp(workdir, {"YAMCP_ADMIN_UI": "true"})
    yield server
    stop_yamcp(server)


@pytest.fixture(scope="module")
def admin_token(ui: Yamcp) -> str:
    return ui.cli("admin-token", "create").stdout.strip()


@pytest.fixture
def admin(ui: Yamcp, admin_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=ui.base, headers={"authorization": f"Bearer {admin_token}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


# Chromium logs each API answer the page expects (401, 422) as a failed resource load.
EXPECTED_HTTP_ERROR = "Failed to load resource: the server responded with a status of"


class Tab:
    """One browser context and page; console errors and warnings (a CSP violation, a
    script error) are recorded, and a test whose page produced any fails."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and EXPECTED_HTTP_ERROR not in message.text:
            self.problems.append(message.text)


@pytest.fixture
async def tab(browser: Browser, ui: Yamcp) -> AsyncIterator[Tab]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui.base)
    tab = Tab(context, await context.new_page())
    yield tab
    await context.close()
    assert tab.problems == [], tab.problems


async def sign_in(page: Page, ui: Yamcp, token: str) -> None:
    response = await page.goto(f"{ui.base}/admin")
    assert response is not None and response.status == 200
    await page.get_by_label("Admin token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    # The only account (acme) is opened at once, and focus lands on its server list.
    await expect(page.locator("#servers-title")).to_be_focused()
    await expect(page.locator("#servers-title")).to_have_text("MCP servers of acme")


def shot(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


# --- what a screenshot shows, read without an imaging library ---


@dataclass
class Picture:
    width: int
    height: int
    colours: Counter[str]  # "#rrggbb" -> pixels, counting every 4th pixel of each row

    def dominant(self, count: int) -> list[str]:
        return [colour for colour, _ in self.colours.most_common(count)]


def _unfilter(kind: int, line: bytearray, prev: bytes, bpp: int) -> bytearray:
    """Undo one PNG row filter (RFC 2083, section 6)."""
    if kind == 1:
        for i in range(bpp, len(line)):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif kind == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
    elif kind in (3, 4):
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            if kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 255
                continue
            corner = prev[i - bpp] if i >= bpp else 0
            guess = left + up - corner
            to_left, to_up, to_corner = abs(guess - left), abs(guess - up), abs(guess - corner)
            if to_left <= to_up and to_left <= to_corner:
                line[i] = (line[i] + left) & 255
            elif to_up <= to_corner:
                line[i] = (line[i] + up) & 255
            else:
                line[i] = (line[i] + corner) & 255
    return line


def read_png(path: Path) -> Picture:
    """Size and colours of an 8-bit RGB(A), non-interlaced PNG, as Chromium writes them."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, header, compressed = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"{path}: {kind!r} chunk is damaged"
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed += body
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour_type, interlace) in ((8, 2, 0), (8, 6, 0)), header
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(compressed)
    stride = width * bpp
    assert len(raw) == height * (stride + 1), f"{path}: image data is cut short"
    colours: Counter[str] = Counter()
    prev = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), prev, bpp)
        for x in range(0, stride, 4 * bpp):
            colours["#" + line[x : x + 3].hex()] += 1
        prev = bytes(line)
    return Picture(width, height, colours)


def light_palette() -> dict[str, str]:
    """The page's light-theme colours, from the :root block of admin.css."""
    css = (ROOT / "proxy" / "static" / "admin.css").read_text()
    root = css[css.index(":root {") : css.index("@media (prefers-color-scheme: dark)")]
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", root))


def assert_shows_the_page(picture: Picture) -> None:
    """Not blank, not garbled: the page's own colours, in a page's proportions."""
    palette = light_palette()
    # Cards on the page background cover most of it...
    assert set(picture.dominant(2)) == {palette["card"], palette["bg"]}, picture.dominant(8)
    # ...then borders, body text and the accent of the buttons and links.
    for name in ("border", "text", "accent"):
        assert palette[name] in picture.dominant(6), (name, picture.dominant(8))
    # Anti-aliased text makes hundreds of shades; a blank or flat picture has a few.
    assert len(picture.colours) > 300, len(picture.colours)


def expected_tools(admin: httpx.Client, config: dict) -> list[str]:
    body = admin.post("/integrated-account/acme/mcp-preview", json={"config": config}).json()
    return [t["name"] for t in body["tools"]]


# --- off by default, headers, CSRF ---


def test_admin_page_is_404_when_off(yamcp: Yamcp) -> None:
    for path in ("/admin", "/admin/", "/admin/static/admin.js"):
        assert httpx.get(f"{yamcp.base}{path}").status_code == 404, path


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/admin", "text/html"),
        ("/admin/", "text/html"),
        ("/admin/static/admin.js", "text/javascript"),
        ("/admin/static/admin.css", "text/css"),
    ],
)
def test_page_and_assets_carry_a_strict_csp(ui: Yamcp, path: str, media_type: str) -> None:
    response = httpx.get(f"{ui.base}{path}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in response.headers


def test_page_has_no_inline_script_or_style(ui: Yamcp) -> None:
    html = httpx.get(f"{ui.base}/admin").text
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in s for s in scripts)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_foreign_origin_cannot_change_anything(ui: Yamcp, admin: httpx.Client) -> None:
    evil = {"origin": "https://evil.example"}
    refused = admin.post("/integrated-account/acme/mcp", json={"name": "csrf"}, headers=evil)
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden_origin"
    assert "csrf" not in [s["name"] for s in admin.get("/integrated-account/acme/mcp").json()]
    for origin in ("null", "http://127.0.0.1:1", f"{ui.base}.evil.example"):
        response = admin.post(
            "/integrated-account/acme/mcp-preview", json={}, headers={"origin": origin}
        )
        assert response.status_code == 403, origin

    made = admin.post(
        "/integrated-account/acme/mcp", json={"name": "mine"}, headers={"origin": ui.base}
    )
    assert made.status_code == 201
    server = f"/integrated-account/acme/mcp/{made.json()['id']}"
    assert admin.patch(server, json={"name": "theirs"}, headers=evil).status_code == 403
    assert admin.delete(server, headers=evil).status_code == 403
    assert admin.post(f"{server}/api-tokens", headers=evil).status_code == 403
    assert admin.post("/admin/reload", headers=evil).status_code == 403
    assert admin.get(server, headers=evil).json()["name"] == "mine"  # reads stay allowed
    # Without credentials a foreign origin is still refused first, and no Origin (curl,
    # the CLI) is fine.
    assert httpx.delete(f"{ui.base}{server}", headers=evil).status_code == 403
    assert admin.delete(server).status_code == 204


# --- the page in Chromium ---


async def test_create_preview_copy_use_and_revoke(
    tab: Tab, ui: Yamcp, admin: httpx.Client, admin_token: str
) -> None:
    page = tab.page
    existing = admin.post(
        "/integrated-account/acme/mcp",
        json={"name": "delivery stats", "config": {"methods": ["read"], "tags": ["stats"]}},
    )
    assert existing.status_code == 201
    await sign_in(page, ui, admin_token)

    # The token lives in sessionStorage only: not in the URL, not in a cookie.
    assert admin_token not in page.url
    assert await page.evaluate("document.cookie") == ""
    assert await tab.context.cookies() == []
    assert await page.evaluate("sessionStorage.getItem('yamcp.adminToken')") == admin_token

    # The list: name, methods, tags, expiry, API-token requirement, created, last used; no URL.
    row = page.locator("tr", has_text="delivery stats")
    await expect(row).to_contain_text("read")
    await expect(row).to_contain_text("stats")
    await expect(row).to_contain_text("not required")
    await expect(row.locator('td[data-label="Last used"]')).to_have_text("never")
    assert "/mcp/" not in await page.locator("#servers").inner_text()

    # Configure a read-only server for bounces; the preview follows every change.
    await page.get_by_label("Name", exact=True).fill("bounce triage")
    await page.locator("#methods").get_by_label("read", exact=True).check()
    await page.locator("#tags").get_by_label("bounces", exact=True).check()
    want = expected_tools(admin, {"methods": ["read"], "tags": ["bounces"]})
    assert "list_all_postmark_bounces" in want and "list_all_postmark_templates" not in want
    tools = page.locator("#preview-tools li")
    await expect(tools).to_have_count(len(want))
    assert [await li.get_attribute("data-tool") for li in await tools.all()] == want
    for li in await tools.all():  # only read tools, each carrying the bounces tag
        await expect(li.locator(".badge")).to_have_text("read")
        await expect(li.locator(".tags")).to_contain_text("bounces")
    await expect(page.locator("#preview-summary")).to_contain_text(f"{len(want)} tools exposed")
    excluded = page.locator("#preview-excluded")
    await expect(excluded.locator('li[data-tool="create_a_postmark_email"]')).to_contain_text(
        "not in ['read']"
    )
    await expect(excluded.locator('li[data-tool="list_all_postmark_templates"]')).to_contain_text(
        "tags ['templates'] not in ['bounces']"
    )
    # The note next to the API-token option, and what the option changes in the preview.
    await expect(page.locator("#api-token-hint")).to_contain_text(
        "ChatGPT and claude.ai sign in with OAuth"
    )
    await page.screenshot(path=shot("admin-create-preview.png"), full_page=True)

    # Create: the URL is shown once, with a copy button and a warning.
    await page.get_by_role("button", name="Create MCP server").click()
    await expect(page.locator("#created-title")).to_be_focused()
    await expect(page.locator("#created-warning")).to_contain_text("will not be shown again")
    url = await page.locator("#created-url").input_value()
    assert url.startswith(f"{ui.base}/mcp/")
    await page.get_by_role("button", name="Copy URL").click()
    await expect(page.locator("#status")).to_contain_text("copied")
    assert await page.evaluate("navigator.clipboard.readText()") == url
    await page.screenshot(path=shot("admin-one-time-url.png"), full_page=True)

    # The copied URL works in the official MCP client and serves exactly the preview.
    async with mcp_client(url) as client:
        listed = sorted(t.name for t in (await client.list_tools()).tools)
        called = await client.call_tool("list_all_postmark_bounces", {"limit": 1})
    assert listed == sorted(want)
    assert not called.is_error

    # Dismissed, the URL is gone from the page; a reload keeps the session (same tab).
    await page.get_by_role("button", name="I have copied it").click()
    await expect(page.locator("#created")).to_be_hidden()
    await expect(page.locator("#servers-title")).to_be_focused()
    await page.reload()
    await expect(page.locator("#servers-title")).to_have_text("MCP servers of acme")
    token = url.rsplit("/", 1)[1]
    row = page.locator("tr", has_text="bounce triage")
    await expect(row).to_contain_text("bounces")
    await expect(row.locator('td[data-label="Last used"]')).not_to_have_text("never")
    assert token not in await page.content()
    await page.screenshot(path=shot("admin-servers-list.png"), full_page=True)

    # Revoke: Escape cancels and returns focus; confirming revokes, and the URL is 404.
    revoke = page.get_by_role("button", name="Revoke bounce triage")
    await revoke.click()
    dialog = page.locator("#confirm")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#confirm-cancel")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(revoke).to_be_focused()
    assert httpx.post(url, json=PING).status_code == 200

    await revoke.click()
    await expect(dialog).to_contain_text("Revoke bounce triage?")
    await dialog.get_by_role("button", name="Revoke").click()
    await expect(page.locator("#status")).to_contain_text("Revoked bounce triage")
    await expect(page.locator("tr", has_text="bounce triage")).to_have_count(0)
    await expect(page.locator("#servers-title")).to_be_focused()
    assert httpx.post(url, json=PING).status_code == 404


async def test_the_approval_option_marks_the_tools_that_wait(
    tab: Tab, ui: Yamcp, admin: httpx.Client, admin_token: str
) -> None:
    page = tab.page
    await sign_in(page, ui, admin_token)
    await page.get_by_label("Name", exact=True).fill("approved sender")
    await page.locator("#tags").get_by_label("sending", exact=True).check()
    await page.get_by_label("A person approves each call that changes something").check()
    await page.get_by_label("Discovery mode: list three tools that find the others").check()
    send = page.locator('#preview-tools li[data-tool="create_a_postmark_email"]')
    await expect(send.locator(".approval")).to_have_text("each call needs a person's approval")
    read = page.locator('#preview-tools li[data-tool="get_single_postmark_outbound_message_by_id"]')
    if await read.count():
        await expect(read.locator(".approval")).to_have_count(0)
    await page.get_by_role("button", name="Create MCP server").click()
    await expect(page.locator("#created-url")).to_be_visible()
    listed = admin.get("/integrated-account/acme/mcp").json()
    made = next(s for s in listed if s["name"] == "approved sender")
    assert made["config"]["approval"]["methods"] == ["write"]
    assert made["config"]["tool_exposure"] == "discovery"


async def test_validation_errors_show_next_to_the_field(
    tab: Tab, ui: Yamcp, admin_token: str
) -> None:
    page = tab.page
    await sign_in(page, ui, admin_token)
    await page.get_by_role("button", name="Create MCP server").click()
    await expect(page.locator("#name-error")).to_contain_text("Name")
    await expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#name")).to_be_focused()

    await page.get_by_label("Name", exact=True).fill("too late")
    await page.locator("#expires").fill("2020-01-01T00:00")
    await page.get_by_role("button", name="Create MCP server").click()
    await expect(page.locator("#expires-error")).to_have_text("Expiry is in the past")
    await expect(page.locator("#expires")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#expires")).to_have_accessible_description(
        re.compile("Expiry is in the past")
    )
    await expect(page.locator("#expires")).to_be_focused()
    await expect(page.locator("#name-error")).to_be_hidden()
    await expect(page.locator("#status")).to_contain_text("not created")
    await expect(page.locator("#created")).to_be_hidden()


async def test_connect_an_account_then_disconnect_it(
    tab: Tab, ui: Yamcp, admin: httpx.Client, admin_token: str, fake_postmark: FakePostmark
) -> None:
    page = tab.page
    secret = FakePostmark.server_token
    account_id = "ui-connected"
    await sign_in(page, ui, admin_token)
    try:
        # The accounts file's account shows its source and no Disconnect action.
        acme = page.locator('#accounts li[data-account="acme"]')
        await expect(acme.locator("[data-source]")).to_have_text("file")
        await expect(acme.get_by_role("button", name=re.compile("Disconnect"))).to_have_count(0)

        opener = page.get_by_role("button", name="Connect an account")
        await opener.click()
        await expect(opener).to_have_attribute("aria-expanded", "true")
        await expect(page.locator("#connect-title")).to_be_focused()
        # The integrations yamcp loaded (/readyz), and credential values in password fields.
        await expect(page.locator('#integration option[value="postmark"]')).to_have_count(1)
        rows = page.locator("#credential-rows")
        value = rows.get_by_label("Credential value")
        await expect(value).to_have_attribute("type", "password")
        await expect(value).to_have_attribute("autocomplete", "off")

        # A 422 shows next to its field, with focus on it; nothing is connected.
        await page.get_by_label("Account id").fill("not ok!")
        await page.get_by_label("Integration").select_option("postmark")
        await page.get_by_label("Base URL (optional)").fill(fake_postmark.url)
        await rows.get_by_label("Credential name").fill("server_token")
        await value.fill("wrong-token")
        await page.get_by_label("Check the credentials with the service first").check()
        await page.get_by_role("button", name="Connect account").click()
        await expect(page.locator("#account-id-error")).to_contain_text("Account id must be 1-64")
        await expect(page.locator("#account-id")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#account-id")).to_have_accessible_description(
            re.compile("Account id must be 1-64")
        )
        await expect(page.locator("#account-id")).to_be_focused()
        await expect(page.locator("#status")).to_contain_text("not connected")

        # Checked with the service first: Postmark refuses the token, shown at Credentials.
        await page.get_by_label("Account id").fill(account_id)
        await page.get_by_role("button", name="Connect account").click()
        await expect(page.locator("#credentials-error")).to_contain_text("refused")
        await expect(page.locator("#account-id-error")).to_be_hidden()
        await expect(page.locator("#credentials")).to_have_class(re.compile("invalid"))
        assert account_id not in [a["id"] for a in admin.get("/integrated-account").json()]

        # The right token: connected, listed as an API account, and opened.
        await value.fill(secret)
        await page.get_by_role("button", name="Connect account").click()
        await expect(page.locator("#servers-title")).to_have_text(f"MCP servers of {account_id}")
        await expect(page.locator("#servers-title")).to_be_focused()
        await expect(page.locator("#status")).to_contain_text(f"Connected {account_id}")
        item = page.locator(f'#accounts li[data-account="{account_id}"]')
        await expect(item.locator("[data-source]")).to_have_text("api")
        await expect(page.locator("#connect")).to_be_hidden()
        await expect(opener).to_have_attribute("aria-expanded", "false")
        listed = {a["id"]: a for a in admin.get("/integrated-account").json()}
        assert listed[account_id]["source"] == "api"

        # The value is gone: from every input, the page's HTML and the tab's storage.
        values = await page.evaluate("[...document.querySelectorAll('input')].map(i => i.value)")
        assert all(secret not in v for v in values), values
        assert secret not in await page.content()
        assert secret not in await page.evaluate("JSON.stringify(sessionStorage)")
        await opener.click()
        await expect(rows.get_by_label("Credential value")).to_have_value("")
        await page.get_by_role("button", name="Cancel").click()
        await expect(opener).to_be_focused()

        # Disconnect: the Revoke dialog's pattern; Escape cancels and returns focus.
        disconnect = page.get_by_role("button", name=f"Disconnect {account_id}")
        await disconnect.click()
        dialog = page.locator("#confirm")
        await expect(dialog).to_contain_text(f"Disconnect {account_id}?")
        await expect(page.locator("#confirm-cancel")).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await expect(disconnect).to_be_focused()
        assert admin.get(f"/integrated-account/{account_id}").status_code == 200

        await disconnect.click()
        await dialog.get_by_role("button", name="Disconnect").click()
        await expect(page.locator("#status")).to_contain_text(f"Disconnected {account_id}")
        await expect(item).to_have_count(0)
        await expect(page.locator("#account-view")).to_be_hidden()
        await expect(page.locator("#accounts-title")).to_be_focused()
        assert admin.get(f"/integrated-account/{account_id}").status_code == 404
    finally:  # the other tests expect acme alone
        admin.delete(f"/integrated-account/{account_id}")


async def test_a_wrong_admin_token_is_refused(tab: Tab, ui: Yamcp) -> None:
    page = tab.page
    await page.goto(f"{ui.base}/admin")
    await page.get_by_label("Admin token").fill("not-a-token")
    await page.get_by_label("Admin token").press("Enter")
    await expect(page.locator("#admin-token-error")).to_have_text("This admin token was refused.")
    await expect(page.locator("#admin-token")).to_be_focused()
    await expect(page.locator("#app")).to_be_hidden()
    assert await page.evaluate("sessionStorage.length") == 0


async def tab_to(page: Page, condition: str, limit: int = 80) -> None:
    """Press Tab until `condition` (JS, about `el`, the focused element) holds."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"(el => Boolean({condition}))(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached {condition}")


async def test_keyboard_only_create_copy_and_revoke(tab: Tab, ui: Yamcp, admin_token: str) -> None:
    page = tab.page
    await page.goto(f"{ui.base}/admin")
    await tab_to(page, "el.id === 'admin-token'")
    await page.keyboard.type(admin_token)
    await page.keyboard.press("Enter")
    await expect(page.locator("#servers-title")).to_be_focused()

    await tab_to(page, "el.id === 'name'")
    await page.keyboard.type("keyboard only")
    await tab_to(page, "el.name === 'method' && el.value === 'read'")
    await page.keyboard.press("Space")
    await tab_to(page, "el.name === 'tag' && el.value === 'bounces'")
    await page.keyboard.press("Space")
    await expect(page.locator("#preview-tools li").first).to_have_attribute(
        "data-tool", re.compile("bounce")
    )
    await tab_to(page, "el.id === 'create-submit'")
    await page.keyboard.press("Enter")
    await expect(page.locator("#created-title")).to_be_focused()
    url = await page.locator("#created-url").input_value()

    await tab_to(page, "el.id === 'copy-url'")
    await page.keyboard.press("Enter")
    await expect(page.locator("#status")).to_contain_text("copied")
    await tab_to(page, "el.id === 'created-done'")
    await page.keyboard.press("Enter")
    await expect(page.locator("#servers-title")).to_be_focused()

    await tab_to(page, "el.getAttribute('aria-label') === 'Revoke keyboard only'")
    await page.keyboard.press("Enter")
    await expect(page.locator("#confirm-cancel")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.locator("#confirm-ok")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#status")).to_contain_text("Revoked keyboard only")
    assert httpx.post(url, json=PING).status_code == 404


async def test_readable_on_a_phone(
    browser: Browser, ui: Yamcp, admin: httpx.Client, admin_token: str
) -> None:
    admin.post(
        "/integrated-account/acme/mcp",
        json={"name": "phone check", "config": {"methods": ["read"], "tags": ["bounces"]}},
    )
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        page = await context.new_page()
        await sign_in(page, ui, admin_token)
        await expect(page.locator("tr", has_text="phone check")).to_be_visible()
        # Nothing wider than the screen: the table turns into one card per server.
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        await page.screenshot(path=shot("admin-phone.png"), full_page=False)
        # The "Connect an account" form fits too: one credential field under the other.
        await page.get_by_role("button", name="Connect an account").click()
        await expect(page.locator("#connect-title")).to_be_focused()
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        await page.locator("#connect").screenshot(path=shot("admin-phone-connect.png"))
    finally:
        await context.close()
    picture = read_png(shot("admin-phone.png"))
    assert (picture.width, picture.height) == (780, 1688)  # 390 x 844 CSS pixels at 2x
    assert_shows_the_page(picture)


def test_docs_screenshot_shows_the_page_as_it_looks_now() -> None:
    """docs/admin-page.png is a laptop-wide capture of the page in today's palette."""
    picture = read_png(ROOT / "docs" / "admin-page.png")
    assert picture.width == 1280 and picture.height >= 900, (picture.width, picture.height)
    assert_shows_the_page(picture)
