"""Calls beyond the upstream pool wait for a connection; past the pool wait, "not sent".

A yamcp with a pool of two connections runs against the fake Postmark. Stalled
requests hold both connections, so the test knows exactly which calls are in flight
and which wait, and checks on the fake what actually arrived.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

POOL = 2
POOL_TIMEOUT = 1.0
BOUNCES = "list_all_postmark_bounces"


@pytest.fixture(scope="module")
def small_pool(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("pool")
    write_workdir(workdir, fake_postmark.url)
    server = start_yamcp(
        workdir,
        {
            "YAMCP_MAX_CONNECTIONS": str(POOL),
            "YAMCP_POOL_TIMEOUT": str(POOL_TIMEOUT),
            "YAMCP_READ_TIMEOUT": "10",
        },
    )
    yield server
    stop_yamcp(server)


async def call(url: str) -> dict:
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": BOUNCES, "arguments": {"limit": 2}},
    }
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(url, json=message)
    assert response.status_code == 200
    return response.json()["result"]


async def test_calls_beyond_the_pool_queue_and_all_reach_the_upstream(
    small_pool: Yamcp, postmark: FakePostmark
) -> None:
    url = await small_pool.mint()
    postmark.fail_next("stall", path="/bounces", times=POOL)
    calls = [asyncio.create_task(call(url)) for _ in range(3 * POOL)]
    await asyncio.to_thread(postmark.wait_stalled, POOL, 5)
    await asyncio.sleep(POOL_TIMEOUT / 3)
    # Both connections are busy: the other calls wait in yamcp and have not been sent.
    assert postmark.count("GET", "/bounces") == POOL
    assert not any(task.done() for task in calls)
    postmark.release()
    results = await asyncio.gather(*calls)
    assert [result["isError"] for result in results] == [False] * len(calls)
    assert postmark.count("GET", "/bounces") == len(calls)  # each exactly once


async def test_a_call_that_gets_no_connection_in_time_was_not_sent(
    small_pool: Yamcp, postmark: FakePostmark
) -> None:
    url = await small_pool.mint()
    postmark.fail_next("stall", path="/bounces", times=POOL)
    holding = [asyncio.create_task(call(url)) for _ in range(POOL)]
    await asyncio.to_thread(postmark.wait_stalled, POOL, 5)
    started = time.monotonic()
    result = await call(url)
    elapsed = time.monotonic() - started
    assert POOL_TIMEOUT * 0.8 <= elapsed < POOL_TIMEOUT + 1.5
    assert result["isError"]
    error = result["structuredContent"]["error"]
    assert error["type"] == "unreachable" and error["reason"] == "PoolTimeout"
    assert "The request was not sent" in result["content"][0]["text"]
    assert postmark.count("GET", "/bounces") == POOL  # the third call never arrived
    postmark.release()
    assert [result["isError"] for result in await asyncio.gather(*holding)] == [False] * POOL
