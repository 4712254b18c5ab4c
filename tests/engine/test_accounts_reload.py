"""`accounts.yaml` is read again on SIGHUP and `POST /admin/reload`, with the policies, as one:
accounts added, changed or removed take effect at once, and a file that does not load is
refused whole."""

from __future__ import annotations

import asyncio
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from proxy.accounts import Account
from proxy.errors import ConfigError
from proxy.gateway import Gateway
from proxy.settings import Settings
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

STATS = "get_single_postmark_delivery_stat_by_id"


def _account(name: str, base_url: str, extra: str = "") -> str:
    return (
        f"  {name}:\n    integration: postmark\n    base_url: {base_url}\n"
        "    credentials:\n      server_token: ${POSTMARK_SERVER_TOKEN}\n" + extra
    )


@pytest.fixture
def reloadable(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("accounts-reload")
    write_workdir(workdir, fake_postmark.url)
    shutil.copytree(ROOT / "policies", workdir / "policies")
    server = start_yamcp(workdir, {"YAMCP_POLICIES_DIR": str(workdir / "policies")})
    server.settings.policies_dir = workdir / "policies"
    yield server
    stop_yamcp(server)


def _append(server: Yamcp, text: str) -> None:
    accounts = server.workdir / "accounts.yaml"
    accounts.write_text(accounts.read_text() + text)


async def _stats(url: str) -> tuple[bool, str]:
    async with mcp_client(url) as client:
        result = await client.call_tool(STATS, {})
    return result.is_error, result.content[0].text


def _reload(server: Yamcp, admin: str) -> httpx.Response:
    return httpx.post(
        f"{server.base}/admin/reload", headers={"authorization": f"Bearer {admin}"}, timeout=10
    )


async def test_an_account_appended_is_usable_after_sighup(
    reloadable: Yamcp, fake_postmark: FakePostmark
) -> None:
    _append(reloadable, _account("globex", fake_postmark.url))
    # minting reads the file itself; serving waits for the reload
    url = await reloadable.mint("globex")
    assert httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}).status_code == 404
    reloadable.proc.send_signal(signal.SIGHUP)
    for _ in range(50):
        probe = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        if probe.status_code == 200:
            break
        await asyncio.sleep(0.1)
    failed, text = await _stats(url)
    assert not failed, text
    assert "reloaded: 2 account(s)" in reloadable.log()


async def test_the_reload_endpoint_changes_and_removes_accounts(
    reloadable: Yamcp, fake_postmark: FakePostmark
) -> None:
    admin = reloadable.cli("admin-token", "create").stdout.strip()
    accounts = reloadable.workdir / "accounts.yaml"
    only_acme = accounts.read_text()
    accounts.write_text(only_acme + _account("globex", fake_postmark.url))
    answer = _reload(reloadable, admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accounts"] == ["acme", "globex"]
    url = await reloadable.mint("globex")
    assert not (await _stats(url))[0]

    # changed: globex now points at a port nothing listens on
    accounts.write_text(only_acme + _account("globex", "http://127.0.0.1:9"))
    assert _reload(reloadable, admin).status_code == 200
    failed, message = await _stats(url)
    assert failed and "could not connect to Postmark" in message, message

    # removed: its servers stop answering, acme's keep working
    accounts.write_text(only_acme)
    assert _reload(reloadable, admin).json()["accounts"] == ["acme"]
    gone = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)
    assert gone.status_code == 404
    assert not (await _stats(await reloadable.mint("acme")))[0]


@pytest.mark.parametrize(
    "broken",
    [
        "  globex: [not, a, mapping]\n",
        _account("globex", "ftp://127.0.0.1:1"),  # a base_url accounts refuse
        _account("globex", "http://127.0.0.1:1").replace("POSTMARK_SERVER_TOKEN", "NOT_SET_HERE"),
    ],
    ids=["not-a-mapping", "bad-base-url", "unset-variable"],
)
async def test_a_broken_accounts_file_is_refused_whole_with_the_policies(
    reloadable: Yamcp, broken: str
) -> None:
    admin = reloadable.cli("admin-token", "create").stdout.strip()
    agent = reloadable.workdir / "policies" / "agent.yaml"
    agent.write_text("methods: [read]\ntags: [bounces]\n")  # valid, but must not land alone
    _append(reloadable, broken)
    answer = _reload(reloadable, admin)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid_config"
    assert "accounts.yaml" in answer.json()["message"]
    assert "stay in force" in answer.json()["message"]
    # neither the accounts nor the policies changed: the new policy is unknown to serving
    assert httpx.get(f"{reloadable.base}/readyz", timeout=10).json()["accounts"] == 1
    url = await reloadable.mint("acme", config={"policy": "agent"})
    probe = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)
    assert probe.status_code == 404  # a server naming a policy the running set lacks
    assert not (await _stats(await reloadable.mint("acme")))[0]

    reloadable.proc.send_signal(signal.SIGHUP)
    for _ in range(50):
        if "nothing reloaded" in reloadable.log():
            break
        await asyncio.sleep(0.1)
    assert "nothing reloaded, the running accounts and policies stay in force" in reloadable.log()


def test_accounts_yamcp_was_started_with_stay_through_reloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sandbox's account is given to the gateway, not read from the file: a reload keeps
    it, and the file cannot take its id."""
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("accounts:\n" + _account("acme", "http://127.0.0.1:9"))
    settings = Settings(
        _env_file=None,
        integrations_dirs=[ROOT / "integrations"],
        policies_dir=ROOT / "policies",
        accounts_file=accounts,
        data_dir=tmp_path / "data",
    )
    pinned = Account(
        id="sandbox", integration="postmark", base_url="http://127.0.0.1:9", credentials={}
    )
    monkeypatch.setenv("POSTMARK_SERVER_TOKEN", FakePostmark.server_token)
    gateway = Gateway(settings, accounts={"sandbox": pinned})
    assert sorted(gateway.accounts) == ["acme", "sandbox"]
    accounts.write_text("accounts:\n" + _account("globex", "http://127.0.0.1:9"))
    gateway.reload()
    assert sorted(gateway.accounts) == ["globex", "sandbox"]
    assert gateway.accounts["sandbox"] is pinned
    accounts.write_text("accounts:\n" + _account("sandbox", "http://127.0.0.1:9"))
    with pytest.raises(ConfigError, match="taken by an account yamcp was started with"):
        gateway.reload()
    assert sorted(gateway.accounts) == ["globex", "sandbox"]
