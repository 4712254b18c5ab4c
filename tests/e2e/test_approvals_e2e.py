"""Human approval against real `yamcp serve` processes and real clients: the official SDK
in both MCP eras on both stores, two instances sharing Redis, ten identical calls at
once after one approval, and the review page in headless Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser

from tests.support.chromium import chromium
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.serving import Yamcp, free_port, start_yamcp, stop_yamcp, write_workdir

SEND = "create_a_postmark_email"
TEMPLATED = "create_a_postmark_templated_email"
EMAIL = {
    "From": "sender@example.com",
    "To": "receiver@example.com",
    "Subject": "Your receipt",
    "TextBody": "Thanks for your order",
}
WELCOME = {
    "From": "sender@example.com",
    "To": "customer@example.com",
    "TemplateAlias": "welcome",
    "TemplateModel": {
        "name": "Ann",
        "product_name": "Acme",
        "items": [{"title": "Docs"}],
        "company": {"address": "1 Road"},
    },
}


def sends(postmark: FakePostmark) -> int:
    return sum(1 for r in postmark.requests if r.method == "POST" and r.path.startswith("/email"))


def mint_approved(yamcp: Yamcp) -> str:
    out = yamcp.cli(
        "mint", "--account", "acme", "--json", "--policy", "transactional-sender-approved"
    )
    return json.loads(out.stdout)["url"]


def admin_token(yamcp: Yamcp) -> str:
    return yamcp.cli("admin-token", "create").stdout.strip()


def approve(base: str, approval_id: str, token: str, decision: str = "approve") -> httpx.Response:
    return httpx.post(
        f"{base}/approvals/{approval_id}/{decision}",
        json={"note": "checked"},
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )


@pytest.fixture(scope="module")
def redis_pair(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Yamcp, Yamcp]]:
    prefix = f"yamcp-approvals-{free_port()}:"
    env = {"YAMCP_STORE_URL": "redis://127.0.0.1:6379/0", "YAMCP_STORE_PREFIX": prefix}
    with contextlib.ExitStack() as stack:
        started = []
        port = free_port()
        for name in ("one", "two"):
            workdir = tmp_path_factory.mktemp(f"approvals-{name}")
            write_workdir(workdir, fake_postmark.url)
            server = start_yamcp(
                workdir, {**env, "YAMCP_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
            )
            stack.callback(stop_yamcp, server)
            started.append(server)
        yield started[0], started[1]


@pytest.fixture(params=["sqlite", "redis"])
def instance(request: pytest.FixtureRequest, yamcp: Yamcp) -> Yamcp:
    if request.param == "sqlite":
        return yamcp
    return request.getfixturevalue("redis_pair")[0]


def on(yamcp: Yamcp, url: str) -> str:
    """The URL as this instance serves it (two instances share one public base)."""
    return f"{yamcp.base}/mcp/{url.rsplit('/mcp/', 1)[1]}"


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_the_sdk_sees_nothing_sent_before_approval_and_one_send_after(
    instance: Yamcp, postmark: FakePostmark, schema_checker: object, mode: str
) -> None:
    url = on(instance, mint_approved(instance))
    token = admin_token(instance)
    async with mcp_client(url, schema_checker, mode=mode) as client:  # type: ignore[arg-type]
        held = await client.call_tool(SEND, EMAIL)
        assert not held.is_error
        pending = held.structured_content
        assert pending["status"] == "approval_required"
        assert sends(postmark) == 0
        # changed arguments are another request; a denial sends nothing
        other = (await client.call_tool(SEND, {**EMAIL, "Subject": "Other"})).structured_content
        assert other["approval_id"] != pending["approval_id"]
        assert approve(instance.base, other["approval_id"], token, "deny").status_code == 200
        denied = await client.call_tool(SEND, {**EMAIL, "Subject": "Other"})
        assert denied.is_error and denied.structured_content["error"]["note"] == "checked"
        assert sends(postmark) == 0

        assert approve(instance.base, pending["approval_id"], token).status_code == 200
        sent = await client.call_tool(SEND, EMAIL)
        assert not sent.is_error, sent.content
        assert sent.structured_content["approval"]["approved_by"] == "admin"
        assert sends(postmark) == 1
        again = await client.call_tool(SEND, EMAIL)
        assert again.structured_content["status"] == "approval_required"
        assert sends(postmark) == 1


async def test_two_instances_agree_and_ten_calls_send_once(
    redis_pair: tuple[Yamcp, Yamcp], postmark: FakePostmark
) -> None:
    one, two = redis_pair
    public = mint_approved(one)
    token = admin_token(two)
    async with httpx.AsyncClient(timeout=30) as http:

        async def call(yamcp: Yamcp) -> dict:
            message = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": SEND, "arguments": EMAIL},
            }
            answer = await http.post(
                on(yamcp, public), json=message, headers={"mcp-protocol-version": "2025-11-25"}
            )
            return answer.json()["result"]

        held = (await call(one))["structuredContent"]
        # the other instance knows the request at once, and takes the decision
        listed = httpx.get(
            f"{two.base}/approvals?status=pending", headers={"authorization": f"Bearer {token}"}
        ).json()
        assert held["approval_id"] in [a["id"] for a in listed]
        assert (await call(two))["structuredContent"]["approval_id"] == held["approval_id"]
        assert approve(two.base, held["approval_id"], token).status_code == 200
        assert sends(postmark) == 0

        results = await asyncio.gather(*(call(one if i % 2 else two) for i in range(10)))
    assert sends(postmark) == 1
    went = [r for r in results if "MessageID" in r["structuredContent"]]
    assert len(went) == 1
    # the others were sent nothing: the approval was in use, or (after it was spent) they
    # are a further identical call, which asks for a new approval
    others = [r["structuredContent"] for r in results if r not in went]
    assert len(others) == 9
    assert all(
        o.get("status") == "approval_required" or o["error"]["type"] == "approval_used"
        for o in others
    )


async def test_the_review_page_in_chromium_shows_the_rendered_email(
    yamcp: Yamcp, postmark: FakePostmark, tmp_path: Path
) -> None:
    url = mint_approved(yamcp)
    token = admin_token(yamcp)
    async with mcp_client(url) as client:
        held = (await client.call_tool(TEMPLATED, WELCOME)).structured_content
    browser: Browser
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        page = await context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        await page.goto(held["approval_url"])
        main = await page.locator("main").inner_text()
        assert "Welcome to Acme, Ann!" in main and "customer@example.com" in main
        frame = page.frame_locator("iframe.mail")
        assert await frame.locator("h1").inner_text() == "Hello Ann"
        assert await frame.locator("li").inner_text() == "Docs"
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        # without a credential the form does not go; with a wrong one it is refused
        await page.click("button[value=approve]")
        assert await page.locator("h1").inner_text() == "Approve a request"
        await page.fill("#credential", "guess")
        await page.click("button[value=approve]")
        assert "neither the admin token" in await page.locator("[role=alert]").inner_text()
        assert sends(postmark) == 0
        await page.fill("#credential", token)
        await page.fill("#note", "ok to send")
        await page.click("button[value=approve]")
        assert "approved by admin" in await page.locator("main").inner_text()
        await page.screenshot(path=str(tmp_path / "approval.png"), full_page=True)
        await context.close()
    assert not [p for p in problems if "Content Security Policy" in p], problems
    async with mcp_client(url) as client:
        sent = await client.call_tool(TEMPLATED, WELCOME)
    assert not sent.is_error and sends(postmark) == 1
