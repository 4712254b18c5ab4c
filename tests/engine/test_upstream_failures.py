"""Every way an upstream can fail becomes a tool error a model can act on; nothing hangs.

A yamcp with short timeouts runs against the fake Postmark (faults injected per
request), a port where nothing listens, and a listener whose backlog is full so
connects hang. Each failure must say whether the request was never sent or may have
taken effect, and no call may make a second upstream request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.plain_http import EMAIL, tool_call
from tests.support.serving import Yamcp, free_port, start_yamcp, stop_yamcp, write_workdir

READ_TIMEOUT = 1.5
CONNECT_TIMEOUT = 0.5
BODY_LIMIT = 100_000


@pytest.fixture(scope="module")
def blackhole() -> Iterator[int]:
    """A port that accepts no connection and answers no SYN: connects time out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in (*fillers, server):
        sock.close()


@pytest.fixture(scope="module")
def impatient(
    fake_postmark: FakePostmark,
    blackhole: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("failures")
    account = (
        "  {name}:\n    integration: postmark\n    base_url: {url}\n"
        "    credentials:\n      server_token: ${{POSTMARK_SERVER_TOKEN}}\n"
    )
    write_workdir(
        workdir,
        fake_postmark.url,
        account.format(name="refused", url=f"http://127.0.0.1:{free_port()}")
        + account.format(name="blackhole", url=f"http://127.0.0.1:{blackhole}"),
    )
    server = start_yamcp(
        workdir,
        {
            "YAMCP_READ_TIMEOUT": str(READ_TIMEOUT),
            "YAMCP_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
            "YAMCP_MAX_UPSTREAM_BYTES": str(BODY_LIMIT),
        },
    )
    yield server
    stop_yamcp(server)


@pytest.fixture
async def url(impatient: Yamcp) -> str:
    return await impatient.mint()


BOUNCES = "list_all_postmark_bounces"


async def call(url: str, name: str = BOUNCES, arguments: dict | None = None) -> httpx.Response:
    """tools/call over raw HTTP, to see the response headers as well."""
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": {"limit": 2} if arguments is None else arguments},
    }
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, json=message)


def result_of(response: httpx.Response) -> dict:
    assert response.status_code == 200
    return response.json()["result"]


async def test_429_passes_through_once_with_ietf_headers(url: str, postmark: FakePostmark) -> None:
    reset_at = int(time.time()) + 30
    postmark.fail_next(
        "status",
        status=429,
        path="/bounces",
        headers={
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset_at),
            "Retry-After": "30",
        },
    )
    response = await call(url)
    result = result_of(response)
    assert result["isError"] is True
    error = result["structuredContent"]["error"]
    assert error["type"] == "rate_limited" and error["status"] == 429
    assert error["retry_after_seconds"] == 30
    assert "Rate limited: retry after 30 seconds" in result["content"][0]["text"]
    assert response.headers["ratelimit-limit"] == "100"
    assert response.headers["ratelimit-remaining"] == "0"
    assert 28 <= int(response.headers["ratelimit-reset"]) <= 30  # epoch made a delta
    assert response.headers["retry-after"] == "30"
    assert error["rate_limit"]["ratelimit-limit"] == "100"
    assert postmark.count("GET", "/bounces") == 1


async def test_429_without_headers_still_says_rate_limited(
    url: str, postmark: FakePostmark
) -> None:
    postmark.fail_next("status", status=429, path="/bounces")
    result = result_of(await call(url))
    assert result["structuredContent"]["error"]["type"] == "rate_limited"
    assert "wait before retrying" in result["content"][0]["text"]
    assert postmark.count("GET", "/bounces") == 1


async def test_success_carries_normalised_rate_limit_headers(
    url: str, postmark: FakePostmark
) -> None:
    postmark.fail_next(
        "status",
        status=200,
        path="/deliverystats",
        body={"InactiveMails": 1, "Bounces": []},
        headers={"RateLimit-Limit": "50", "RateLimit-Remaining": "49", "RateLimit-Reset": "7"},
    )
    response = await call(url, "get_single_postmark_delivery_stat_by_id", {})
    assert result_of(response)["isError"] is False
    assert response.headers["ratelimit-limit"] == "50"
    assert response.headers["ratelimit-remaining"] == "49"
    assert response.headers["ratelimit-reset"] == "7"


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (422, {"ErrorCode": 300, "Message": "Invalid 'To' address: 'x'."}, 300),
        (422, {"ErrorCode": 406, "Message": "You tried to send to inactive recipient(s)."}, 406),
        (401, {"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied."}, 10),
        (500, {"ErrorCode": 101, "Message": "Internal server error, Error ID 42"}, 101),
        (503, {"ErrorCode": 100, "Message": "Maintenance"}, 100),
    ],
)
async def test_upstream_errors_carry_status_code_and_message(
    url: str, postmark: FakePostmark, status: int, body: dict, code: int
) -> None:
    postmark.fail_next("status", status=status, body=body, path="/bounces")
    result = result_of(await call(url))
    error = result["structuredContent"]["error"]
    assert result["isError"] and error["status"] == status and error["code"] == code
    assert error["upstream_message"] == body["Message"]
    assert f"HTTP {status} (ErrorCode {code}): {body['Message']}" in result["content"][0]["text"]


async def test_5xx_with_a_non_json_body(url: str, postmark: FakePostmark) -> None:
    postmark.fail_next("status", status=502, body=b"<html>Bad gateway</html>", path="/bounces")
    error = result_of(await call(url))["structuredContent"]["error"]
    assert error["status"] == 502 and "Bad gateway" in error["upstream_message"]


async def test_non_json_success_body_is_an_error(url: str, postmark: FakePostmark) -> None:
    postmark.fail_next("non_json", path="/bounces")
    result = result_of(await call(url))
    assert result["isError"] and "not valid JSON" in result["content"][0]["text"]


async def test_truncated_body_is_an_error(url: str, postmark: FakePostmark) -> None:
    postmark.fail_next("truncated", path="/bounces")
    result = result_of(await call(url))
    assert result["isError"]
    assert result["structuredContent"]["error"]["type"] == "unreachable"
    assert "lost the connection" in result["content"][0]["text"]


async def test_body_over_the_limit_is_an_error(url: str, postmark: FakePostmark) -> None:
    postmark.fail_next("huge", size=BODY_LIMIT * 3, path="/bounces")
    result = result_of(await call(url))
    assert result["isError"] and f"larger than {BODY_LIMIT} bytes" in result["content"][0]["text"]


async def test_connection_reset_mid_response_is_not_retried(
    url: str, postmark: FakePostmark
) -> None:
    assert not result_of(await call(url))["isError"]  # a pooled connection to reuse
    postmark.fail_next("reset", path="/bounces")
    result = result_of(await call(url))
    assert result["isError"] and result["structuredContent"]["error"]["type"] == "unreachable"
    assert "lost the connection" in result["content"][0]["text"]
    assert postmark.count("GET", "/bounces") == 2  # exactly one for the failed call


async def test_pooled_connection_dropped_after_the_request_may_have_taken_effect(
    url: str, postmark: FakePostmark
) -> None:
    """The upstream read the request on a reused connection, then dropped it unanswered.

    The request arrived, so this is never "not sent", and it is not sent a second time.
    """
    assert not result_of(await call(url))["isError"]  # a pooled connection to reuse
    postmark.fail_next("reset", path="/bounces", partial=b"")
    result = result_of(await call(url))
    assert result["isError"] and result["structuredContent"]["error"]["type"] == "unreachable"
    assert "may have taken effect" in result["content"][0]["text"]
    assert "not sent" not in result["content"][0]["text"]
    assert postmark.count("GET", "/bounces") == 2  # exactly one for the failed call


async def test_connect_refused(impatient: Yamcp) -> None:
    url = await impatient.mint(account="refused")
    started = time.monotonic()
    result = result_of(await call(url))
    assert time.monotonic() - started < CONNECT_TIMEOUT + 1
    assert result["isError"]
    assert "could not connect to Postmark" in result["content"][0]["text"]
    assert result["structuredContent"]["error"]["reason"] == "ConnectError"


async def test_connect_timeout(impatient: Yamcp) -> None:
    url = await impatient.mint(account="blackhole")
    started = time.monotonic()
    result = result_of(await call(url))
    elapsed = time.monotonic() - started
    assert CONNECT_TIMEOUT * 0.8 <= elapsed < CONNECT_TIMEOUT + 1.5
    assert "timed out connecting to Postmark" in result["content"][0]["text"]
    assert result["structuredContent"]["error"]["reason"] == "ConnectTimeout"


async def test_read_timeout_and_a_stall_blocks_no_other_call(
    url: str, postmark: FakePostmark
) -> None:
    postmark.fail_next("stall", path="/bounces")
    started = time.monotonic()
    stalled = asyncio.create_task(call(url))
    await asyncio.to_thread(postmark.wait_stalled, 1, 5)
    async with mcp_client(url) as client:
        for _ in range(10):  # other calls complete while the first one hangs
            other = await client.call_tool("get_single_postmark_delivery_stat_by_id", {})
            assert not other.is_error
    assert not stalled.done()
    result = result_of(await stalled)
    elapsed = time.monotonic() - started
    assert READ_TIMEOUT * 0.8 <= elapsed < READ_TIMEOUT + 2
    assert "timed out waiting for an answer from Postmark" in result["content"][0]["text"]
    assert result["structuredContent"]["error"]["reason"] == "ReadTimeout"
    postmark.release()


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def test_failures_leak_no_connections(
    impatient: Yamcp, url: str, postmark: FakePostmark
) -> None:
    for _ in range(3):  # warm the pool first
        await call(url)
    before = open_fds(impatient.proc.pid)
    for kind in ("reset", "truncated", "non_json", "huge", "status") * 4:
        options = {"size": BODY_LIMIT * 2} if kind == "huge" else {}
        postmark.fail_next(kind, path="/bounces", **options)
        assert result_of(await call(url))["isError"]
    await asyncio.sleep(0.2)
    assert open_fds(impatient.proc.pid) <= before + 2
    assert impatient.proc.poll() is None
    healthy = result_of(await call(url))
    assert not healthy["isError"]


async def test_audit_log_has_one_line_per_call_without_arguments(
    impatient: Yamcp, url: str, postmark: FakePostmark
) -> None:
    secret_subject = "subject-that-must-not-be-logged"
    send = {"From": "a@example.com", "To": "b@example.com", "TextBody": "x"}
    broadcasts = f"news-{uuid.uuid4().hex[:8]}"  # never looked up before: not cached
    postmark.state.streams[broadcasts] = postmark.state.streams["broadcasts"] | {"ID": broadcasts}
    before = len(impatient.log().splitlines())
    postmark.fail_next("status", status=429, path="/bounces")
    calls = [
        # The send looks its stream up first: a lookup is part of the call, not a call.
        ("create_a_postmark_email", send | {"Subject": secret_subject}, "ok", 200),
        (BOUNCES, {"limit": 2}, "rate_limited", 429),
        (BOUNCES, {"limit": "two"}, "invalid_arguments", None),
        ("create_a_postmark_email", send | {"MessageStream": broadcasts}, "refused", None),
        (BOUNCES, {"limit": 2}, "ok", 200),
    ]
    for name, arguments, _, _ in calls:
        assert (await call(url, name, arguments)).status_code == 200
    assert postmark.count("GET", f"/message-streams/{broadcasts}") == 1  # a lookup went out
    new_lines = impatient.log().splitlines()[before:]
    entries = [json.loads(line) for line in new_lines if '"tool call"' in line]
    assert [(e["tool"], e["outcome"], e["status"]) for e in entries] == [
        (name, outcome, status) for name, _, outcome, status in calls
    ]
    for entry in entries:
        assert {"server", "account", "tool", "status", "outcome", "ms"} <= set(entry)
        assert entry["server"] == entries[0]["server"] and entry["server"].startswith("srv_")
        assert entry["account"] == "acme"
    assert secret_subject not in impatient.log()


# --- a call that reached the upstream is never "yamcp failed" (issue 13's review) ---


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Limit": "1e999"},
        {"X-RateLimit-Reset": "inf"},
        {"X-RateLimit-Remaining": "-inf"},
        {"Retry-After": "nan"},
        {"Retry-After": "1e400"},
        {"X-RateLimit-Limit": "caf\u00e9"},  # a Latin-1 byte, not UTF-8
        {"X-RateLimit-Limit": "\u00c3\u00a9"},  # UTF-8 bytes of é
        {"X-Request-Id": "\u00ff\u00fe\u00fd"},
    ],
)
def test_odd_upstream_headers_are_ignored(url: str, postmark: FakePostmark, headers: dict) -> None:
    postmark.fail_next(
        "status",
        status=200,
        body={"TotalCount": 0, "Bounces": []},
        path="/bounces",
        headers=headers,
    )
    response, result = tool_call(url, "list_all_postmark_bounces", {"limit": 2})
    assert result["isError"] is False, result
    assert result["structuredContent"]["result"] == []
    # Ignored: nothing of it is passed on as IETF rate-limit data.
    assert not [k for k in response.headers if k.startswith("ratelimit") or k == "retry-after"]
    assert postmark.count("GET", "/bounces") == 1


def test_a_429_with_an_infinite_retry_after_is_still_rate_limited(
    url: str, postmark: FakePostmark
) -> None:
    postmark.fail_next("status", status=429, path="/bounces", headers={"Retry-After": "inf"})
    _, result = tool_call(url, "list_all_postmark_bounces", {"limit": 2})
    error = result["structuredContent"]["error"]
    assert error["type"] == "rate_limited" and error["retry_after_seconds"] is None


@pytest.mark.parametrize("depth", [300, 2000])
def test_an_answer_too_deep_to_relay_may_have_taken_effect(
    url: str, postmark: FakePostmark, depth: int
) -> None:
    body = b'{"MessageID":' + b"[" * depth + b"]" * depth + b"}"
    postmark.fail_next("status", status=200, body=body, path="/email")
    _, result = tool_call(url, "create_a_postmark_email", EMAIL)
    assert result["isError"] is True
    error = result["structuredContent"]["error"]
    assert error["type"] == "upstream_error" and error["status"] == 200
    assert "may have taken effect" in result["content"][0]["text"]
    assert "yamcp failed" not in result["content"][0]["text"]
    assert postmark.count("POST", "/email") == 1


# --- a redirect is not a success (issue 13's review) ---


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirected_call_is_an_error_that_says_where(
    url: str, postmark: FakePostmark, status: int
) -> None:
    postmark.fail_next(
        "status",
        status=status,
        body=b"",
        path="/email",
        headers={"Location": "https://elsewhere.example/email"},
    )
    _, result = tool_call(url, "create_a_postmark_email", EMAIL)
    assert result["isError"] is True
    text = result["content"][0]["text"]
    assert f"HTTP {status}" in text and "https://elsewhere.example/email" in text
    assert "may have taken effect" in text
    error = result["structuredContent"]["error"]
    assert error["status"] == status and error["location"] == "https://elsewhere.example/email"
    assert postmark.count("POST", "/email") == 1
