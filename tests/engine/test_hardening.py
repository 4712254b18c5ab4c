"""Regressions for the adversarial review (issue 13): each test reproduced a finding first.

Hostile clients and hostile upstreams, on loopback: crafted input never becomes a 500,
a call that reached the upstream is never reported as yamcp's own failure, nothing
hangs past its deadline, and no secret reaches a log line or an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis

from proxy.accounts import load_accounts
from proxy.errors import ConfigError
from proxy.store import SQLiteStore
from tests.support.fake_postmark import FakePostmark
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, free_port, start_yamcp, stop_yamcp, write_workdir

REDIS_URL = "redis://127.0.0.1:6379/0"
CALL_DEADLINE = 2.0
BODY_TIMEOUT = 1.0
MODERN = "2026-07-28"
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
EMAIL = {
    "From": "sender@example.com",
    "To": "receiver@example.com",
    "Subject": "Hello",
    "TextBody": "Hi",
}


# --- instances: each with its own copy of policies/, one on SQLite and one on Redis ---


def _own_instance(
    tmp_path_factory: pytest.TempPathFactory, fake: FakePostmark, env: dict[str, str]
) -> Yamcp:
    workdir = tmp_path_factory.mktemp("hardening")
    shutil.copytree(ROOT / "policies", workdir / "policies")
    write_workdir(workdir, fake.url)
    return start_yamcp(workdir, {"YAMCP_POLICIES_DIR": str(workdir / "policies"), **env})


@pytest.fixture(scope="module")
def sqlite_instance(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    server = _own_instance(
        tmp_path_factory,
        fake_postmark,
        {
            "YAMCP_CALL_DEADLINE": str(CALL_DEADLINE),
            "YAMCP_REQUEST_BODY_TIMEOUT": str(BODY_TIMEOUT),
            "YAMCP_READ_TIMEOUT": "30",
        },
    )
    yield server
    stop_yamcp(server)


@pytest.fixture(scope="module")
def redis_instance(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    prefix = f"yamcp-hardening-{uuid.uuid4().hex[:8]}:"
    server = _own_instance(
        tmp_path_factory,
        fake_postmark,
        {"YAMCP_STORE_URL": REDIS_URL, "YAMCP_STORE_PREFIX": prefix},
    )
    yield server
    stop_yamcp(server)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def admin_client(server: Yamcp) -> httpx.Client:
    token = server.cli("admin-token", "create").stdout.strip()
    return httpx.Client(
        base_url=server.base, headers={"authorization": f"Bearer {token}"}, timeout=10
    )


def create(admin: httpx.Client, **body: object) -> dict:
    body.setdefault("name", "hardening")
    response = admin.post("/integrated-account/acme/mcp", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def initialize(url: str) -> httpx.Response:
    return httpx.post(
        url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}},
        },
        timeout=10,
    )


def rpc(url: str, message: dict, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(url, json=message, headers=headers or {}, timeout=30)


def tool_call(url: str, name: str, arguments: dict) -> tuple[httpx.Response, dict]:
    response = rpc(
        url,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        },
    )
    assert response.status_code == 200, response.text
    return response, response.json()["result"]


@pytest.fixture(scope="module")
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


# --- 1. a PATCH with null must not corrupt a server, on either store ---


@pytest.mark.parametrize("store", ["sqlite", "redis"])
@pytest.mark.parametrize(
    "patch", [{"name": None}, {"require_api_token_auth": None}, {"config": None}]
)
def test_patch_with_null_is_422_and_writes_nothing(
    request: pytest.FixtureRequest, store: str, patch: dict
) -> None:
    server: Yamcp = request.getfixturevalue(f"{store}_instance")
    with admin_client(server) as admin:
        created = create(admin, name="keep-me", config={"methods": ["read"]})
        path = f"/integrated-account/acme/mcp/{created['id']}"
        response = admin.patch(path, json=patch)
        assert response.status_code == 422, response.text
        (field,) = patch
        assert response.json()["errors"][0]["field"] == field
        shown = admin.get(path)
        assert shown.status_code == 200
        assert shown.json()["name"] == "keep-me"
        assert shown.json()["require_api_token_auth"] is False
        assert shown.json()["config"]["methods"] == ["read"]
        assert admin.get("/integrated-account/acme/mcp").status_code == 200
        assert initialize(created["url"]).status_code == 200
        assert admin.delete(path).status_code == 204


def test_a_record_corrupted_by_an_older_version_is_revoked_not_a_500(
    redis_instance: Yamcp,
) -> None:
    prefix = redis_instance.env["YAMCP_STORE_PREFIX"]
    raw = redis.Redis.from_url(REDIS_URL)
    with admin_client(redis_instance) as admin:
        created = create(admin, name="soon-corrupt")
        key = f"{prefix}server:{created['id']}"
        record = json.loads(raw.hget(key, "record"))
        raw.hset(key, "record", json.dumps({**record, "name": None}))  # what the bug stored
        listed = admin.get("/integrated-account/acme/mcp")
        assert listed.status_code == 200
        assert created["id"] not in [s["id"] for s in listed.json()]
        assert initialize(created["url"]).status_code == 404
        assert admin.get(f"/integrated-account/acme/mcp/{created['id']}").status_code == 404
    assert not raw.exists(key)
    assert "Traceback" not in redis_instance.log()


# --- 2. crafted input is a 4xx, never a 500 ---


@pytest.mark.parametrize("origin", ["http://[::1", "http://[", "://", "http://%zz", "\x7f"])
def test_unparsable_origin_is_403_before_anything(yamcp: Yamcp, origin: str) -> None:
    before = yamcp.log().count("Traceback")
    response = httpx.post(
        f"{yamcp.base}/mcp/whatever", json={}, headers={"origin": origin}, timeout=10
    )
    # 403 from yamcp; a control character never gets past uvicorn's parser (400).
    assert response.status_code == (400 if origin == "\x7f" else 403)
    assert yamcp.log().count("Traceback") == before


@pytest.mark.parametrize(
    "cursor", ["\u00b2", "\u0661", "\u0663", "1e3", " 1", "-1", "+1", "1_0", "9" * 30]
)
@pytest.mark.parametrize("modern", [False, True])
def test_odd_tools_list_cursors_are_invalid_params(url: str, cursor: str, modern: bool) -> None:
    message: dict = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/list",
        "params": {"cursor": cursor},
    }
    headers = {}
    if modern:
        message["params"]["_meta"] = {META_VERSION: MODERN, META_CAPABILITIES: {}}
        headers = {"mcp-protocol-version": MODERN, "mcp-method": "tools/list"}
    response = rpc(url, message, headers)
    assert response.status_code in (200, 400)
    assert response.json()["error"]["code"] == -32602


DEEP = "\x00DEEP\x00"


def rpc_text(url: str, text: str, headers: dict[str, str]) -> httpx.Response:
    headers = {"content-type": "application/json", **headers}
    return httpx.post(url, content=text.encode(), headers=headers, timeout=30)


@pytest.mark.parametrize("where", ["version", "capabilities", "meta", "name", "cursor", "id"])
def test_deeply_nested_params_are_a_clean_error(url: str, where: str) -> None:
    # 1,000 levels (objects and arrays alternate): within what a JSON parser accepts,
    # past what a recursive encoder or repr() survives. Built as text for that reason.
    deep = '{"x":[' * 500 + '"2026-07-28"' + "]}" * 500
    meta: dict = {META_VERSION: MODERN, META_CAPABILITIES: {}}
    params: dict = {"_meta": meta}
    message: dict = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": params}
    if where == "version":
        meta[META_VERSION] = DEEP
    elif where == "capabilities":
        meta[META_CAPABILITIES] = DEEP
    elif where == "meta":
        params["_meta"] = DEEP
    elif where == "name":
        message["method"], params["name"] = "tools/call", DEEP
    elif where == "cursor":
        params["cursor"] = DEEP
    else:
        message["id"] = DEEP
    text = json.dumps(message).replace(json.dumps(DEEP), deep)
    headers = {"mcp-protocol-version": MODERN, "mcp-method": message["method"]}
    response = rpc_text(url, text, headers)
    assert response.status_code < 500
    # Capabilities are the client's own business: a deep one is served like any other.
    assert ("result" if where == "capabilities" else "error") in response.json()
    # The legacy era reads the same fields.
    legacy = text.replace('"params": {"_meta"', '"params": {"protocolVersion": "2025-11-25", "_m"')
    assert rpc_text(url, legacy, {}).status_code < 500


async def test_a_deeply_nested_value_under_a_policy_rule_is_refused_cleanly(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    url = await yamcp.mint(
        config={
            "constraints": {
                "create_a_postmark_email": {
                    "MessageStream": {"enum": ["outbound"]},
                    "To": {"pattern": "@example\\.com$"},
                }
            }
        }
    )
    deep = "[" * 900 + '"outbound"' + "]" * 900
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "create_a_postmark_email",
            "arguments": {**EMAIL, "MessageStream": DEEP},
        },
    }
    text = json.dumps(call).replace(json.dumps(DEEP), deep)
    response = rpc_text(url, text, {})
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["isError"] is True
    assert result["structuredContent"]["error"]["type"] == "policy_denied"
    assert "plain value" in result["content"][0]["text"]
    assert postmark.count("POST", "/email") == 0


def _mcp_500_count(base: str) -> float:
    for line in httpx.get(f"{base}/metrics", timeout=10).text.splitlines():
        if line.startswith('yamcp_mcp_requests_total{status="500"}'):
            return float(line.split()[-1])
    return 0.0


async def test_a_bug_inside_yamcp_is_a_counted_json_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proxy.app import create_app
    from proxy.metrics import MCP_REQUESTS
    from proxy.settings import Settings

    app = create_app(
        Settings(
            _env_file=None,
            data_dir=tmp_path,
            accounts_file=tmp_path / "none.yaml",
            integrations_dirs=[ROOT / "integrations"],
            policies_dir=ROOT / "policies",
        )
    )

    async def broken(token_hash: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.gateway.store, "resolve", broken)
    before = MCP_REQUESTS.labels("500")._value.get()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.post("/mcp/sometoken", json={"jsonrpc": "2.0", "id": 1})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == -32603
    assert "sometoken" not in response.text
    assert MCP_REQUESTS.labels("500")._value.get() == before + 1


# --- 3. a call that reached the upstream is never "yamcp failed" ---


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


# --- 4. a redirect is not a success ---


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


# --- 6. constraints that cannot compile are refused where they are written ---

BAD_CONSTRAINTS = [
    ({"To": {"pattern": "("}}, "To"),
    ({"To[": {"enum": ["a"]}}, "To["),
    ({"To": {"regex": "x"}}, "To"),
    ({"To": {}}, "To"),
    ({"To": "x"}, "To"),
]


@pytest.mark.parametrize(("rule", "argument"), BAD_CONSTRAINTS)
def test_constraints_that_cannot_compile_are_422_everywhere(
    sqlite_instance: Yamcp, rule: dict, argument: str
) -> None:
    config = {"methods": ["read", "write"], "constraints": {"create_a_postmark_email": rule}}
    field_prefix = f"config.constraints.create_a_postmark_email.{argument}"
    with admin_client(sqlite_instance) as admin:
        for response in (
            admin.post("/integrated-account/acme/mcp", json={"name": "x", "config": config}),
            admin.post("/integrated-account/acme/mcp-preview", json={"config": config}),
        ):
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"].startswith(field_prefix)
        created = create(admin)
        path = f"/integrated-account/acme/mcp/{created['id']}"
        response = admin.patch(path, json={"config": config})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"].startswith(field_prefix)
        assert initialize(created["url"]).status_code == 200


def test_reload_with_a_broken_policy_is_refused_and_keeps_the_running_ones(
    sqlite_instance: Yamcp,
) -> None:
    broken = sqlite_instance.workdir / "policies" / "broken.yaml"
    with admin_client(sqlite_instance) as admin:
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


# --- 7. deadlines: a dripping upstream, a trickling client ---


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


# --- 8. only the canonical path serves, and every form of it is redacted ---


@pytest.mark.parametrize(
    "form",
    [
        "/%6Dcp/{t}",
        "/%6dcp/{t}",
        "/mcp%2F{t}",
        "/mcp%2f{t}",
        "/MCP/{t}",
        "/Mcp/{t}",
        "/mcp/{t}/",
        "/mcp//{t}",
        "/mcp/%2F{t}",
        "/mcp/{t}%00",
    ],
)
def test_only_the_canonical_path_serves_and_no_form_is_logged(
    yamcp: Yamcp, url: str, form: str
) -> None:
    token = url.rsplit("/", 1)[1]
    raw = form.format(t=token)
    with httpx.Client(base_url=yamcp.base, timeout=10) as client:
        response = client.post(
            httpx.URL(yamcp.base).copy_with(raw_path=raw.encode()),
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}},
            },
        )
    assert response.status_code == 404
    time.sleep(0.2)  # let the access log line land
    log = yamcp.log()
    assert token not in log
    assert token[5:25] not in log


# --- 9. no literal secret in accounts.yaml, and no YAML error echoes one ---


@pytest.mark.parametrize(
    ("base_url", "secret"),
    [
        ("https://user:hunter2@api.postmarkapp.com", "hunter2"),
        ("https://sk-live-abc@api.postmarkapp.com", "sk-live-abc"),
        ("https://api.postmarkapp.com?api_key=sk-live-abc", "sk-live-abc"),
        ("https://api.postmarkapp.com/v1?token=sk-live-abc", "sk-live-abc"),
        ("https://api.postmarkapp.com/#sk-live-abc", "sk-live-abc"),
    ],
)
def test_credentials_in_base_url_are_refused_without_echoing_them(
    tmp_path: Path, base_url: str, secret: str
) -> None:
    file = tmp_path / "accounts.yaml"
    file.write_text(f"accounts:\n  acme:\n    integration: postmark\n    base_url: {base_url}\n")
    with pytest.raises(ConfigError) as caught:
        load_accounts(file, {})
    assert "accounts.acme.base_url" in str(caught.value)
    assert secret not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "accounts:\n  acme:\n    credentials:\n      server_token: *sk-live-secret\n",
        "accounts:\n  acme: {credentials: {server_token: sk-live-secret}\n",
        "accounts:\n  acme:\n\tserver_token: sk-live-secret\n",
        "accounts: [sk-live-secret\n",
        "accounts:\n  acme: 'sk-live-secret\n",
    ],
)
def test_yaml_errors_do_not_echo_the_text(tmp_path: Path, text: str) -> None:
    file = tmp_path / "accounts.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_accounts(file, {})
    assert "sk-live-secret" not in str(caught.value)
    assert "line" in str(caught.value)


def test_an_empty_credential_variable_is_refused_like_an_unset_one(tmp_path: Path) -> None:
    file = tmp_path / "accounts.yaml"
    file.write_text(
        "accounts:\n  acme:\n    integration: postmark\n"
        "    credentials:\n      server_token: ${POSTMARK_SERVER_TOKEN}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_accounts(file, {"POSTMARK_SERVER_TOKEN": ""})
    assert "accounts.acme.credentials.server_token" in str(caught.value)
    assert "POSTMARK_SERVER_TOKEN is not set or empty" in str(caught.value)


# --- 10. the smaller findings ---


def _policy(server: Yamcp, name: str, expires_at: datetime) -> None:
    (server.workdir / "policies" / f"{name}.yaml").write_text(
        f"methods: [read]\ntags: [bounces]\nexpires_at: '{expires_at.isoformat()}'\n"
    )


def test_admin_api_shows_the_effective_expiry(sqlite_instance: Yamcp) -> None:
    soon = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    _policy(sqlite_instance, "short-lived", soon)
    with admin_client(sqlite_instance) as admin:
        assert admin.post("/admin/reload").status_code == 200
        created = create(admin, config={"policy": "short-lived"})
        assert datetime.fromisoformat(created["expires_at"]) == soon
        shown = admin.get(f"/integrated-account/acme/mcp/{created['id']}").json()
        assert datetime.fromisoformat(shown["expires_at"]) == soon
        listed = {s["id"]: s for s in admin.get("/integrated-account/acme/mcp").json()}
        assert datetime.fromisoformat(listed[created["id"]]["expires_at"]) == soon


def test_minting_under_an_expired_policy_is_refused(sqlite_instance: Yamcp) -> None:
    _policy(sqlite_instance, "bygone", datetime.now(UTC) - timedelta(days=1))
    with admin_client(sqlite_instance) as admin:
        assert admin.post("/admin/reload").status_code == 200
        response = admin.post(
            "/integrated-account/acme/mcp", json={"name": "late", "config": {"policy": "bygone"}}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "config.policy"
        assert "expired" in response.json()["errors"][0]["reason"]
    out = sqlite_instance.cli("mint", "--account", "acme", "--policy", "bygone", check=False)
    assert out.returncode != 0 and "expired" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "path", ["/metrics", "/readyz", "/healthz", "/admin", "/integrated-account", "/nowhere"]
)
def test_a_foreign_host_is_refused_on_every_path(yamcp: Yamcp, path: str) -> None:
    response = httpx.get(f"{yamcp.base}{path}", headers={"host": "evil.example"}, timeout=10)
    assert response.status_code == 421


@pytest.mark.parametrize("as_json", [True, False])
def test_upstream_messages_never_echo_a_credential(
    url: str, postmark: FakePostmark, as_json: bool
) -> None:
    message = f"Request token '{FakePostmark.server_token}' is not valid."
    body = {"ErrorCode": 10, "Message": message} if as_json else message.encode()
    postmark.fail_next("status", status=401, body=body, path="/bounces")
    response, result = tool_call(url, "list_all_postmark_bounces", {"limit": 2})
    assert result["isError"] is True
    assert FakePostmark.server_token not in response.text
    assert "<redacted>" in result["content"][0]["text"]


async def test_sqlite_files_are_private(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "data")
    try:
        await store.create_admin_token("adm_1", "0" * 64)
        files = [p for p in (tmp_path / "data").iterdir() if p.name.startswith("yamcp.sqlite3")]
        assert {p.name for p in files} >= {"yamcp.sqlite3", "yamcp.sqlite3-wal"}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    finally:
        await store.close()


@pytest.mark.parametrize(
    "args", [["servers", "list"], ["admin-token", "create"], ["mint", "--account", "acme"]]
)
def test_cli_with_redis_down_says_so_in_one_line(tmp_path: Path, args: list[str]) -> None:
    write_workdir(tmp_path, "http://127.0.0.1:9")
    env = {
        **os.environ,
        "YAMCP_STORE_URL": f"redis://127.0.0.1:{free_port()}/0",
        "YAMCP_INTEGRATIONS_DIRS": str(ROOT / "integrations"),  # mint counts their tools
    }
    out = subprocess.run(
        [sys.executable, "-m", "proxy.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and "unreachable" in out.stderr, out.stderr
