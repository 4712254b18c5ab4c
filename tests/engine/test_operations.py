"""What operators watch: health, readiness, metrics, and a shutdown that finishes its work."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time

import httpx
import pytest
import redis

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.serving import Yamcp, free_port, start_yamcp, stop_yamcp, write_workdir


async def test_health_and_readiness(yamcp: Yamcp) -> None:
    assert httpx.get(f"{yamcp.base}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{yamcp.base}/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and "postmark" in body["integrations"] and body["tools"] > 80


def _redis_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_connect_timeout=0.2).ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def _ready_status(base: str, want: int) -> httpx.Response:
    """/readyz, asked until it answers `want` or 10 s pass (the store reconnects on its own)."""
    deadline = time.monotonic() + 10
    while True:
        response = httpx.get(f"{base}/readyz", timeout=10)
        if response.status_code == want or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_readyz_is_503_while_the_store_is_down_and_200_when_it_answers(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A yamcp whose Redis is not there is alive (/healthz) but not ready (/readyz)."""
    port = free_port()  # nothing listens here yet
    workdir = tmp_path_factory.mktemp("readyz")
    write_workdir(workdir, fake_postmark.url)
    server = start_yamcp(workdir, {"YAMCP_STORE_URL": f"redis://127.0.0.1:{port}/0"})
    redis_proc = None
    try:
        assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200
        down = httpx.get(f"{server.base}/readyz", timeout=10)
        assert down.status_code == 503
        assert down.json() == {"status": "unavailable", "store": "unreachable"}

        redis_proc = _redis_server(port)
        up = _ready_status(server.base, 200)
        assert up.status_code == 200, up.text
        assert up.json()["status"] == "ready" and "postmark" in up.json()["integrations"]

        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        redis_proc = None
        gone = _ready_status(server.base, 503)
        assert gone.status_code == 503 and gone.json()["store"] == "unreachable"
        assert server.proc.poll() is None
    finally:
        stop_yamcp(server)
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


async def test_metrics_count_calls_outcomes_and_rate_limits_without_secrets(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    url = await yamcp.mint()
    postmark.fail_next("status", status=429, path="/deliverystats")
    async with mcp_client(url) as client:
        await client.call_tool("list_all_postmark_bounces", {"limit": 1})
        await client.call_tool("get_single_postmark_delivery_stat_by_id", {})
        await client.call_tool("get_single_postmark_bounce_by_id", {"id": "x"})
    httpx.post(url + "nope", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    scrape = httpx.get(f"{yamcp.base}/metrics")
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    assert (
        'yamcp_tool_calls_total{integration="postmark",outcome="ok",tool="list_all_postmark_bounces"}'
        in text
    )
    assert 'outcome="rate_limited",tool="get_single_postmark_delivery_stat_by_id"' in text
    assert 'outcome="invalid_arguments",tool="get_single_postmark_bounce_by_id"' in text
    assert 'yamcp_rate_limited_total{integration="postmark"}' in text
    assert 'yamcp_upstream_request_seconds_bucket{integration="postmark"' in text
    assert 'yamcp_mcp_requests_total{status="404"}' in text
    token = url.rsplit("/", 1)[1]
    assert token not in text and postmark.server_token not in text and "srv_" not in text


async def test_sigterm_finishes_in_flight_calls(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fake_postmark.reset()
    workdir = tmp_path_factory.mktemp("shutdown")
    write_workdir(workdir, fake_postmark.url)
    server = start_yamcp(workdir)
    url = await server.mint()
    fake_postmark.fail_next("stall", path="/bounces")
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "list_all_postmark_bounces", "arguments": {"limit": 1}},
    }
    async with httpx.AsyncClient(timeout=30) as client:
        in_flight = asyncio.create_task(client.post(url, json=message))
        await asyncio.to_thread(fake_postmark.wait_stalled, 1, 5)
        server.proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        assert server.proc.poll() is None  # still finishing the call
        fake_postmark.release()
        response = await in_flight
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["isError"] is False and len(result["structuredContent"]["result"]) == 1
    deadline = time.monotonic() + 10
    while server.proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    # uvicorn re-raises the signal once it has shut down cleanly, so -SIGTERM is a clean exit.
    assert server.proc.returncode in (0, -signal.SIGTERM)
    assert "Finished server process" in server.log() or "Shutting down" in server.log()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.base}/healthz", timeout=1)
    assert json.loads(server.log().splitlines()[-1])["message"]
