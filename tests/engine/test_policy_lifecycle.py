"""What a named policy and the guardrails do to servers already minted, on the wire.

One yamcp runs with its own policies folder (the shipped files plus two of ours) and a
non-default `YAMCP_ALLOWED_ORIGINS`, so each feature is seen doing something a server
without it would not.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from proxy.policy import load_policies
from proxy.store import ServerConfig, ServerRecord, SQLiteStore, utcnow
from proxy.tokens import hash_token, new_id, new_token
from tests.support.fake_postmark import FakePostmark
from tests.support.paths import ROOT
from tests.support.plain_http import admin_client, create
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 3,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}},
}
ORIGINS = "https://app.example.com, http://tools.example.org:8080"


def lapsing(expires_at: datetime) -> str:
    return f"methods: [read]\ntags: [bounces]\nexpires_at: '{expires_at.isoformat()}'\n"


@pytest.fixture(scope="module")
def lifecycle(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("lifecycle")
    write_workdir(workdir, fake_postmark.url)
    policies = workdir / "policies"
    shutil.copytree(ROOT / "policies", policies)
    (policies / "lapsing.yaml").write_text(lapsing(datetime.now(UTC) + timedelta(days=1)))
    # `domains` is a guardrail tag that needs API-token auth: with it, the policy shows it.
    (policies / "gated.yaml").write_text(
        "methods: [read]\ntags: [bounces, domains]\nrequire_api_token_auth: true\n"
    )
    server = start_yamcp(
        workdir, {"YAMCP_POLICIES_DIR": str(policies), "YAMCP_ALLOWED_ORIGINS": ORIGINS}
    )
    yield server
    stop_yamcp(server)


def reload(server: Yamcp) -> None:
    admin = server.cli("admin-token", "create").stdout.strip()
    response = httpx.post(
        f"{server.base}/admin/reload", headers={"authorization": f"Bearer {admin}"}, timeout=10
    )
    assert response.status_code == 200, response.text


async def stored(server: Yamcp, server_id: str) -> ServerRecord | None:
    store = SQLiteStore(server.settings.data_dir)
    try:
        return await store.get_server(server_id)
    finally:
        await store.close()


def unknown_url(server: Yamcp) -> str:
    return f"{server.base}/mcp/{new_token()}"


async def test_servers_under_a_policy_stop_answering_once_its_expires_at_passes(
    lifecycle: Yamcp,
) -> None:
    created = json.loads(
        lifecycle.cli("mint", "--account", "acme", "--policy", "lapsing", "--json").stdout
    )
    url = created["url"]
    assert httpx.post(url, json=PING, timeout=10).status_code == 200
    # The server's own expiry (the guardrail's lifetime) lies beyond the policy's end.
    record = await stored(lifecycle, created["id"])
    assert record is not None and record.expires_at > utcnow() + timedelta(days=2)

    policy = lifecycle.workdir / "policies" / "lapsing.yaml"
    original = policy.read_text()
    policy.write_text(lapsing(datetime.now(UTC) - timedelta(seconds=1)))
    try:
        reload(lifecycle)
        for message in (PING, LIST, INITIALIZE):
            lapsed = httpx.post(url, json=message, timeout=10)
            unknown = httpx.post(unknown_url(lifecycle), json=message, timeout=10)
            assert lapsed.status_code == unknown.status_code == 404
            assert lapsed.content == unknown.content
            assert lapsed.headers["content-type"] == unknown.headers["content-type"]
        # The store still holds the record: only the request-time check of the effective
        # expiry (the policy's) refuses it.
        assert await stored(lifecycle, created["id"]) is not None
    finally:
        policy.write_text(original)
        reload(lifecycle)
    # A policy pushed back out revives its servers: the record was never touched.
    assert httpx.post(url, json=PING, timeout=10).status_code == 200


async def test_guardrail_lifetime_ends_a_server_the_store_still_holds(lifecycle: Yamcp) -> None:
    """A record stored without an expiry (as before the guardrail existed) still ends when
    the guardrail's longest lifetime since its creation has passed."""
    days = load_policies(lifecycle.settings.policies_dir).guardrails.max_lifetime_days
    assert days is not None
    now = utcnow()
    young, old = new_token(), new_token()
    store = SQLiteStore(lifecycle.settings.data_dir)
    try:
        for token, age in ((young, timedelta(days=days - 1)), (old, timedelta(days=days, hours=1))):
            record = ServerRecord(
                id=new_id("srv"),
                name="from-before",
                account="acme",
                config=ServerConfig(methods=["read"]),
                created_at=now - age,
            )
            await store.create_server(record, hash_token(token))
    finally:
        await store.close()

    assert httpx.post(f"{lifecycle.base}/mcp/{young}", json=PING, timeout=10).status_code == 200
    ended = httpx.post(f"{lifecycle.base}/mcp/{old}", json=PING, timeout=10)
    unknown = httpx.post(unknown_url(lifecycle), json=PING, timeout=10)
    assert ended.status_code == 404 and ended.content == unknown.content
    store = SQLiteStore(lifecycle.settings.data_dir)
    try:
        held = await store.resolve(hash_token(old))
    finally:
        await store.close()
    assert held is not None and held.expires_at is None  # the store alone would serve it


async def test_a_policy_requiring_api_tokens_demands_them_of_its_servers(lifecycle: Yamcp) -> None:
    created = json.loads(
        lifecycle.cli("mint", "--account", "acme", "--policy", "gated", "--json").stdout
    )
    url = created["url"]
    record = await stored(lifecycle, created["id"])
    assert record is not None and record.require_api_token_auth is False  # the policy asks

    for headers in ({}, {"authorization": f"Bearer {new_token()}"}, {"authorization": "Basic x"}):
        for message in (INITIALIZE, PING, LIST):
            refused = httpx.post(url, json=message, headers=headers, timeout=10)
            assert refused.status_code == 401, (headers, message["method"])
            assert refused.headers["www-authenticate"].startswith("Bearer ")
            assert "Authorization: Bearer" in refused.json()["error"]["message"]

    token = lifecycle.cli("api-token", "create", "--server", created["id"]).stdout.strip()
    bearer = {"authorization": f"Bearer {token}"}
    assert httpx.post(url, json=INITIALIZE, headers=bearer, timeout=10).status_code == 200
    listed = httpx.post(url, json=LIST, headers=bearer, timeout=10)
    assert listed.status_code == 200
    names = {tool["name"] for tool in listed.json()["result"]["tools"]}
    # The guardrail shows `domains` tools only to servers with API-token auth.
    assert {"list_all_postmark_bounces", "list_all_postmark_domains"} <= names
    assert not any(name.startswith(("create_", "update_", "delete_")) for name in names)


@pytest.mark.parametrize("origin", ["https://app.example.com", "http://tools.example.org:8080"])
async def test_a_listed_browser_origin_is_accepted(
    lifecycle: Yamcp, yamcp: Yamcp, origin: str
) -> None:
    url = await lifecycle.mint()
    response = httpx.post(url, json=PING, headers={"origin": origin}, timeout=10)
    assert response.status_code == 200 and response.json()["result"] == {}
    # The same origin on a yamcp without YAMCP_ALLOWED_ORIGINS: the setting let it in.
    default = await yamcp.mint()
    assert httpx.post(default, json=PING, headers={"origin": origin}, timeout=10).status_code == 403


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "http://app.example.com",  # another scheme is another origin
        "https://app.example.com.evil.net",
        "http://tools.example.org",  # another port too
        "null",
    ],
)
async def test_an_unlisted_browser_origin_is_403(lifecycle: Yamcp, origin: str) -> None:
    url = await lifecycle.mint()
    response = httpx.post(url, json=PING, headers={"origin": origin}, timeout=10)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Origin not allowed"


# --- a policy's expiry in the admin API and at minting (issue 13's review) ---


def _policy(server: Yamcp, name: str, expires_at: datetime) -> None:
    (server.workdir / "policies" / f"{name}.yaml").write_text(lapsing(expires_at))


def test_admin_api_shows_the_effective_expiry(lifecycle: Yamcp) -> None:
    soon = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    _policy(lifecycle, "short-lived", soon)
    with admin_client(lifecycle) as admin:
        assert admin.post("/admin/reload").status_code == 200
        created = create(admin, config={"policy": "short-lived"})
        assert datetime.fromisoformat(created["expires_at"]) == soon
        shown = admin.get(f"/integrated-account/acme/mcp/{created['id']}").json()
        assert datetime.fromisoformat(shown["expires_at"]) == soon
        listed = {s["id"]: s for s in admin.get("/integrated-account/acme/mcp").json()}
        assert datetime.fromisoformat(listed[created["id"]]["expires_at"]) == soon


def test_minting_under_an_expired_policy_is_refused(lifecycle: Yamcp) -> None:
    _policy(lifecycle, "bygone", datetime.now(UTC) - timedelta(days=1))
    with admin_client(lifecycle) as admin:
        assert admin.post("/admin/reload").status_code == 200
        response = admin.post(
            "/integrated-account/acme/mcp", json={"name": "late", "config": {"policy": "bygone"}}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "config.policy"
        assert "expired" in response.json()["errors"][0]["reason"]
    out = lifecycle.cli("mint", "--account", "acme", "--policy", "bygone", check=False)
    assert out.returncode != 0 and "expired" in out.stderr and "Traceback" not in out.stderr
