"""Fixtures that start real things: the fake Postmark, `yamcp serve`, the official MCP client."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from referencing import Registry, Resource

from proxy.policy import load_policies
from proxy.servers import ServerRequest, create_server
from proxy.settings import Settings
from proxy.store import SQLiteStore
from tests.fake_postmark import FakePostmark

# coverage_floor prints line and branch coverage and holds the floor (pyproject.toml);
# no_skips fails a test that skips (a missing Chromium is an error, never a pass).
pytest_plugins = ["tests.coverage_floor", "tests.no_skips", "tests.inprocess"]

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(base: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"yamcp exited with {proc.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError("yamcp did not start in time")


@dataclass
class Yamcp:
    """A running `yamcp serve` process and the folder it was started in."""

    base: str
    workdir: Path
    env: dict[str, str]
    proc: subprocess.Popen
    log_file: Path
    settings: Settings = field(repr=False)

    async def mint(self, account: str = "acme", **request: Any) -> str:
        """Create an MCP server through the same code path as `yamcp mint`; return its URL."""
        request.setdefault("name", "test")
        store = SQLiteStore(self.settings.data_dir)
        try:
            created = await create_server(
                store,
                self.settings,
                load_policies(self.settings.policies_dir),
                account,
                ServerRequest.model_validate(request),
            )
        finally:
            await store.close()
        return created.url

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "proxy.cli", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def log(self) -> str:
        return self.log_file.read_text()


def write_workdir(workdir: Path, upstream: str, extra_accounts: str = "") -> None:
    (workdir / "accounts.yaml").write_text(
        "accounts:\n"
        "  acme:\n"
        "    integration: postmark\n"
        f"    base_url: {upstream}\n"
        "    credentials:\n"
        "      server_token: ${POSTMARK_SERVER_TOKEN}\n"
        "      account_token: ${POSTMARK_ACCOUNT_TOKEN}\n" + extra_accounts
    )


def start_yamcp(
    workdir: Path, env_extra: dict[str, str] | None = None, port: int | None = None
) -> Yamcp:
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "YAMCP_INTEGRATIONS_DIRS": str(ROOT / "integrations"),
        "YAMCP_POLICIES_DIR": str(ROOT / "policies"),
        "YAMCP_DATA_DIR": str(workdir / "data"),
        "YAMCP_PUBLIC_BASE_URL": base,
        "YAMCP_LOG_FORMAT": "json",
        "POSTMARK_SERVER_TOKEN": FakePostmark.server_token,
        "POSTMARK_ACCOUNT_TOKEN": FakePostmark.account_token,
        **(env_extra or {}),
    }
    log_file = workdir / f"yamcp-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=log_file.open("wb"),
        stderr=subprocess.STDOUT,
    )
    wait_until_serving(base, proc)
    settings = Settings(
        _env_file=None,
        data_dir=workdir / "data",
        public_base_url=base,
        accounts_file=workdir / "accounts.yaml",
        integrations_dirs=[ROOT / "integrations"],
        policies_dir=Path(env["YAMCP_POLICIES_DIR"]),
    )
    return Yamcp(base, workdir, env, proc, log_file, settings)


def stop_yamcp(server: Yamcp) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture(scope="session")
def fake_postmark() -> Iterator[FakePostmark]:
    with FakePostmark() as fake:
        yield fake


@pytest.fixture
def postmark(fake_postmark: FakePostmark) -> FakePostmark:
    """The shared fake, with its requests, faults and data reset for this test."""
    fake_postmark.reset()
    return fake_postmark


@pytest.fixture(scope="session")
def yamcp(fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("yamcp")
    write_workdir(workdir, fake_postmark.url)
    server = start_yamcp(workdir)
    yield server
    stop_yamcp(server)


# --- the official MCP client, with every response checked against the MCP schema ---


def _schema_validator(version: str, definition: str) -> Draft202012Validator:
    schema = json.loads((DATA / f"{version}.json").read_text())
    sid = f"urn:mcp:{version}"
    registry = Registry().with_resource(sid, Resource.from_contents({**schema, "$id": sid}))
    return Draft202012Validator({"$ref": f"{sid}#/$defs/{definition}"}, registry=registry)


RESULTS = {
    "2025-11-25": {
        "initialize": "InitializeResult",
        "tools/list": "ListToolsResult",
        "tools/call": "CallToolResult",
        "ping": "EmptyResult",
    },
    "2026-07-28": {
        "server/discover": "DiscoverResult",
        "tools/list": "ListToolsResult",
        "tools/call": "CallToolResult",
    },
}


class SchemaChecker:
    """Validates each JSON-RPC response against the official schema of its era."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Draft202012Validator] = {}
        self.checked = 0

    def validator(self, version: str, definition: str) -> Draft202012Validator:
        key = (version, definition)
        if key not in self._cache:
            self._cache[key] = _schema_validator(version, definition)
        return self._cache[key]

    def check(self, method: str, response: dict[str, Any], version: str = "2025-11-25") -> None:
        if "error" in response:
            self.validator(version, "JSONRPCErrorResponse").validate(response)
        else:
            self.validator(version, "JSONRPCResultResponse").validate(response)
            definition = RESULTS[version].get(method)
            if definition:
                self.validator(version, definition).validate(response["result"])
        self.checked += 1


@pytest.fixture(scope="session")
def schema_checker() -> SchemaChecker:
    return SchemaChecker()


@contextlib.asynccontextmanager
async def mcp_client(
    url: str,
    checker: SchemaChecker | None = None,
    *,
    mode: str = "legacy",
    headers: dict[str, str] | None = None,
) -> AsyncIterator[Client]:
    """The official SDK client over Streamable HTTP; every answer is schema-checked."""
    sent: dict[str, str] = {}

    async def on_request(request: httpx2.Request) -> None:
        with contextlib.suppress(ValueError):
            message = json.loads(request.content)
            if "id" in message:
                sent[json.dumps(message["id"])] = message["method"]

    async def on_response(response: httpx2.Response) -> None:
        if checker is None or response.status_code == 202:
            return
        await response.aread()
        body = response.json()
        method = sent.get(json.dumps(body.get("id")), "")
        version = response.request.headers.get("mcp-protocol-version", "2025-11-25")
        checker.check(method, body, "2026-07-28" if version == "2026-07-28" else "2025-11-25")

    hooks = {"request": [on_request], "response": [on_response]}
    async with (
        httpx2.AsyncClient(headers=headers or {}, event_hooks=hooks, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode, cache=None) as client,
    ):
        yield client
