"""After a full run, no token or credential is found at rest or in any log line."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import redis

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir


async def exercise(server: Yamcp, postmark: FakePostmark) -> list[str]:
    """Mint, authenticate, call, fail and revoke; return every secret that was used."""
    admin = server.cli("admin-token", "create").stdout.strip()
    created = json.loads(
        server.cli("mint", "--account", "acme", "--json", "--require-api-token-auth").stdout
    )
    api = server.cli("api-token", "create", "--server", created["id"]).stdout.strip()
    url = created["url"]
    async with mcp_client(url, headers={"authorization": f"Bearer {api}"}) as client:
        await client.list_tools()
        await client.call_tool("list_all_postmark_bounces", {"limit": 2})
        await client.call_tool("get_single_postmark_bounce_by_id", {"id": "not-a-number"})
        await client.call_tool(
            "create_a_postmark_email",
            {
                "From": "a@example.com",
                "To": "b@example.com",
                "TextBody": "x",
                "MessageStream": "nope",
            },
        )
    httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})  # 401: no API token
    httpx.post(url + "x", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})  # 404
    httpx.get(
        f"{server.base}/integrated-account/acme/mcp", headers={"authorization": f"Bearer {admin}"}
    )
    httpx.delete(
        f"{server.base}/integrated-account/acme/mcp/{created['id']}",
        headers={"authorization": f"Bearer {admin}"},
    )
    token = url.rsplit("/", 1)[1]
    return [token, api, admin, postmark.server_token, postmark.account_token,
            *await exercise_api_account(server, postmark, admin)]  # fmt: skip


async def exercise_api_account(server: Yamcp, postmark: FakePostmark, admin: str) -> list[str]:
    """Connect an account over the admin API (refused, then accepted), call it, rotate,
    delete; no answer carries a credential. Returns the credentials that were sent."""
    refused_token = f"refused-{uuid.uuid4().hex}"
    rotated_token = f"rotated-{uuid.uuid4().hex}"
    sent = [refused_token, rotated_token]
    answers = []
    with httpx.Client(
        base_url=server.base, headers={"authorization": f"Bearer {admin}"}, timeout=30
    ) as client:
        account = {"id": "customer", "integration": "postmark", "base_url": postmark.url}
        answers.append(
            client.post(
                "/integrated-account",
                json={**account, "credentials": {"server_token": refused_token}, "verify": True},
            )
        )
        assert answers[-1].status_code == 422
        answers.append(
            client.post(
                "/integrated-account",
                json={**account, "credentials": {"server_token": postmark.server_token}},
            )
        )
        assert answers[-1].status_code == 201
        created = client.post("/integrated-account/customer/mcp", json={"name": "c"}).json()
        async with mcp_client(created["url"]) as mcp:
            assert not (await mcp.call_tool("list_all_postmark_bounces", {"limit": 1})).is_error
        answers.append(
            client.patch(
                "/integrated-account/customer",
                json={"credentials": {"server_token": rotated_token}},
            )
        )
        async with mcp_client(created["url"]) as mcp:
            assert (await mcp.call_tool("list_all_postmark_bounces", {"limit": 1})).is_error
        answers += [client.get("/integrated-account"), client.get("/integrated-account/customer")]
        answers.append(client.delete("/integrated-account/customer"))
        sent.append(created["url"].rsplit("/", 1)[1])
    for answer in answers:
        assert_absent([*sent, postmark.server_token], answer.content, "an admin API answer")
    return sent


def assert_absent(secrets: list[str], haystack: bytes, where: str) -> None:
    for secret in secrets:
        assert secret.encode() not in haystack, f"a secret was found in {where}"


async def test_sqlite_run_leaves_no_secret(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir = tmp_path_factory.mktemp("secrets-sqlite")
    write_workdir(workdir, fake_postmark.url)
    server = start_yamcp(workdir)
    try:
        secrets = await exercise(server, fake_postmark)
    finally:
        stop_yamcp(server)
    for file in (workdir / "data").rglob("*"):
        assert_absent(secrets, file.read_bytes(), file.name)
    log = server.log_file.read_bytes()
    assert b"tool call" in log and b"/mcp/<redacted>" in log
    assert_absent(secrets, log, "the log")


async def test_redis_run_leaves_no_secret(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    prefix = f"yamcp-secrets-{uuid.uuid4().hex[:8]}:"
    workdir = tmp_path_factory.mktemp("secrets-redis")
    write_workdir(workdir, fake_postmark.url)
    server = start_yamcp(
        workdir, {"YAMCP_STORE_URL": "redis://127.0.0.1:6379/0", "YAMCP_STORE_PREFIX": prefix}
    )
    client = redis.Redis(port=6379)
    try:
        secrets = await exercise(server, fake_postmark)
        dump = b""
        for key in client.scan_iter(match=f"{prefix}*"):
            kind = client.type(key)
            if kind == b"string":
                value = client.get(key) or b""
            elif kind == b"hash":
                value = b" ".join(k + b"=" + v for k, v in client.hgetall(key).items())
            else:
                value = b" ".join(client.smembers(key))
            dump += key + b" " + value + b"\n"
        assert dump, "the run wrote nothing to Redis"
        assert_absent(secrets, dump, "Redis")
    finally:
        stop_yamcp(server)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()
    assert_absent(secrets, server.log_file.read_bytes(), "the log")
