"""Editing a policy file changes every server using it: on SIGHUP or the reload endpoint."""

from __future__ import annotations

import asyncio
import shutil
import signal
from collections.abc import Iterator

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.plain_http import admin_client, create, initialize
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir


@pytest.fixture(scope="module")
def reloadable(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("reload")
    write_workdir(workdir, fake_postmark.url)
    shutil.copytree(ROOT / "policies", workdir / "policies")
    (workdir / "policies" / "agent.yaml").write_text("methods: [read]\ntags: [bounces]\n")
    server = start_yamcp(workdir, {"YAMCP_POLICIES_DIR": str(workdir / "policies")})
    yield server
    stop_yamcp(server)


async def names(url: str) -> set[str]:
    async with mcp_client(url) as client:
        return {t.name for t in (await client.list_tools()).tools}


async def test_sighup_reloads_named_policies(reloadable: Yamcp) -> None:
    url = await reloadable.mint(config={"policy": "agent"})
    assert "list_all_postmark_templates" not in await names(url)
    (reloadable.workdir / "policies" / "agent.yaml").write_text(
        "methods: [read]\ntags: [templates]\n"
    )
    reloadable.proc.send_signal(signal.SIGHUP)
    for _ in range(50):
        if "list_all_postmark_templates" in await names(url):
            break
        await asyncio.sleep(0.1)
    current = await names(url)
    assert "list_all_postmark_templates" in current
    assert "list_all_postmark_bounces" not in current


async def test_reload_endpoint_and_no_dropped_requests(
    reloadable: Yamcp, postmark: FakePostmark
) -> None:
    admin = reloadable.cli("admin-token", "create").stdout.strip()
    url = await reloadable.mint(config={"policy": "agent"})
    (reloadable.workdir / "policies" / "agent.yaml").write_text(
        "methods: [read]\ntags: [bounces]\n"
    )

    async def ping(client: httpx.AsyncClient) -> int:
        response = await client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        return response.status_code

    async with httpx.AsyncClient(timeout=10) as client:
        calls = [asyncio.create_task(ping(client)) for _ in range(100)]
        for _ in range(5):
            reloaded = await client.post(
                f"{reloadable.base}/admin/reload", headers={"authorization": f"Bearer {admin}"}
            )
            assert reloaded.status_code == 200
            reloadable.proc.send_signal(signal.SIGHUP)
        assert set(await asyncio.gather(*calls)) == {200}
    assert "list_all_postmark_bounces" in await names(url)


async def test_broken_policy_file_keeps_the_running_policies(reloadable: Yamcp) -> None:
    url = await reloadable.mint(config={"policy": "agent"})
    before = await names(url)
    (reloadable.workdir / "policies" / "agent.yaml").write_text("methods: [explode]\n")
    reloadable.proc.send_signal(signal.SIGHUP)
    await asyncio.sleep(0.3)
    assert await names(url) == before
    assert "nothing reloaded, the running accounts and policies stay in force" in reloadable.log()
    (reloadable.workdir / "policies" / "agent.yaml").write_text(
        "methods: [read]\ntags: [bounces]\n"
    )


# --- a policy that cannot compile: the reload endpoint refuses it (issue 13's review) ---


def test_reload_with_a_broken_policy_is_refused_and_keeps_the_running_ones(
    reloadable: Yamcp,
) -> None:
    broken = reloadable.workdir / "policies" / "broken.yaml"
    with admin_client(reloadable) as admin:
        created = create(admin, config={"policy": "bounce-triage"})
        broken.write_text("methods: [read]\nconstraints:\n  '*':\n    To: {pattern: '('}\n")
        try:
            response = admin.post("/admin/reload")
            assert response.status_code == 422, response.text
            assert "broken.yaml" in response.json()["message"]
            assert initialize(created["url"]).status_code == 200
        finally:
            broken.unlink()
        assert admin.post("/admin/reload").status_code == 200
