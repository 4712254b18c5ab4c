"""Nothing hangs past its deadline: an upstream that drips its answer ends at the whole-call
deadline (`YAMCP_CALL_DEADLINE`), a client that trickles its body is cut off with 408
(`YAMCP_REQUEST_BODY_TIMEOUT`), and trickled headers hold no one else up.

Regressions of issue 13's adversarial review; each reproduced a finding first.
`sqlite_instance` (tests/support/store_instances.py) runs with the short deadlines.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import httpx

from tests.support.fake_postmark import FakePostmark
from tests.support.plain_http import EMAIL, initialize, tool_call
from tests.support.serving import Yamcp
from tests.support.store_instances import CALL_DEADLINE


def test_a_dripping_upstream_ends_at_the_whole_call_deadline(
    sqlite_instance: Yamcp, postmark: FakePostmark
) -> None:
    url = asyncio.run(sqlite_instance.mint())
    postmark.fail_next("drip", path="/email", every=0.1)
    _, result = tool_call(url, "create_a_postmark_email", EMAIL)
    error = result["structuredContent"]["error"]
    assert error["type"] == "unreachable" and error["reason"] == "CallDeadline"
    text = result["content"][0]["text"]
    assert f"{CALL_DEADLINE:g} seconds" in text and "may have taken effect" in text


def _raw_request(port: int, head: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head)
    return sock


def test_a_trickled_request_body_is_cut_off_with_408(sqlite_instance: Yamcp) -> None:
    url = asyncio.run(sqlite_instance.mint())
    port = int(sqlite_instance.base.rsplit(":", 1)[1])
    path = url.split(sqlite_instance.base, 1)[1]
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
    ).encode()
    sock = _raw_request(port, head)
    try:
        # Meanwhile the server answers everyone else.
        assert initialize(url).status_code == 200
        answer = b""
        with contextlib.suppress(OSError):
            for _ in range(100):  # one byte every 0.05 s: never idle, never finished
                sock.sendall(b" ")
                time.sleep(0.05)
        sock.settimeout(10)
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                answer += chunk
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_trickled_headers_hold_no_one_else_up(yamcp: Yamcp) -> None:
    # uvicorn sets no deadline for headers: the proxy in front cuts them off
    # (test_deploy.py::test_nginx_cuts_off_trickled_headers); yamcp serves everyone else.
    port = int(yamcp.base.rsplit(":", 1)[1])
    socks = [
        _raw_request(port, b"POST /mcp/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        for _ in range(20)
    ]
    try:
        assert httpx.get(f"{yamcp.base}/healthz", timeout=5).status_code == 200
    finally:
        for sock in socks:
            sock.close()
