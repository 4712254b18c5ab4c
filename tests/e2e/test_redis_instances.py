"""Several yamcp instances on one Redis: what one mints or revokes, all see at once."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.serving import Yamcp, free_port, start_yamcp, stop_yamcp, write_workdir

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.fixture(scope="module")
def prefix() -> Iterator[str]:
    prefix = f"yamcp-it-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis(host="127.0.0.1", port=6379)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(scope="module")
def pair(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory, prefix: str
) -> Iterator[tuple[Yamcp, Yamcp]]:
    env = {
        "YAMCP_STORE_URL": "redis://127.0.0.1:6379/0",
        "YAMCP_STORE_PREFIX": prefix,
        # A long cache: a revocation must still be refused everywhere at once (pub/sub).
        "YAMCP_TOKEN_CACHE_SECONDS": "300",
    }
    started = []
    for name in ("one", "two"):
        workdir = tmp_path_factory.mktemp(name)
        write_workdir(workdir, fake_postmark.url)
        started.append(start_yamcp(workdir, env))
    yield started[0], started[1]
    for server in started:
        stop_yamcp(server)


async def test_minted_on_one_works_on_the_other_and_revocation_is_seen_at_once(
    pair: tuple[Yamcp, Yamcp], prefix: str
) -> None:
    one, two = pair
    created = json.loads(one.cli("mint", "--account", "acme", "--json").stdout)
    token_path = created["url"].split("/mcp/", 1)[1]
    on_two = f"{two.base}/mcp/{token_path}"
    async with mcp_client(on_two) as client:
        assert (await client.list_tools()).tools
    for _ in range(3):  # both instances now hold the token in their caches
        assert httpx.post(f"{one.base}/mcp/{token_path}", json=PING).status_code == 200
        assert httpx.post(on_two, json=PING).status_code == 200

    admin = two.cli("admin-token", "create").stdout.strip()
    revoked = httpx.delete(
        f"{two.base}/integrated-account/acme/mcp/{created['id']}",
        headers={"authorization": f"Bearer {admin}"},
    )
    assert revoked.status_code == 204
    assert httpx.post(f"{one.base}/mcp/{token_path}", json=PING).status_code == 404
    assert httpx.post(on_two, json=PING).status_code == 404

    keys = [k.decode() for k in redis.Redis(port=6379).scan_iter(match=f"{prefix}*")]
    assert not any(token_path in k for k in keys)


def _start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            if redis.Redis(port=port, socket_connect_timeout=0.2).ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


async def test_redis_outage_is_503_and_the_process_recovers(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    port = free_port()
    redis_proc = _start_redis(port)
    workdir = tmp_path_factory.mktemp("outage")
    write_workdir(workdir, fake_postmark.url)
    # Uncached, every lookup asks Redis: the outage shows at once. (With the cache on, a
    # token seen in the last YAMCP_TOKEN_CACHE_SECONDS keeps working through the outage.)
    server = start_yamcp(
        workdir,
        {"YAMCP_STORE_URL": f"redis://127.0.0.1:{port}/0", "YAMCP_TOKEN_CACHE_SECONDS": "0"},
    )
    try:
        url = json.loads(server.cli("mint", "--account", "acme", "--json").stdout)["url"]
        assert httpx.post(url, json=PING).status_code == 200
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        down = httpx.post(url, json=PING, timeout=10)
        assert down.status_code == 503
        assert "unavailable" in down.json()["error"]["message"]
        assert server.proc.poll() is None
        redis_proc = _start_redis(port)
        # The data went with the old Redis; a fresh mint on the new one must work.
        url = json.loads(server.cli("mint", "--account", "acme", "--json").stdout)["url"]
        assert httpx.post(url, json=PING, timeout=10).status_code == 200
    finally:
        stop_yamcp(server)
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
