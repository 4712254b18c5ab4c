"""The container files, and the compose layout run as plain processes: two instances, one
Redis, a round-robin proxy in front."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from tests.conftest import ROOT, free_port, mcp_client, start_yamcp, stop_yamcp, write_workdir
from tests.fake_postmark import FakePostmark

DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
README = (ROOT / "README.md").read_text()


def instruction(name: str) -> list[str]:
    return [
        line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name + " ")
    ]


def test_dockerfile_is_slim_non_root_with_a_healthcheck_and_no_secrets() -> None:
    assert instruction("FROM") == ["python:3.11-slim"]
    assert instruction("USER") == ["yamcp"]
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    assert json.loads(instruction("CMD")[0]) == ["yamcp", "serve"]
    for line in DOCKERFILE.splitlines():
        if line.startswith(("ENV", "ARG")) or line.startswith("    YAMCP"):
            assert not re.search(r"TOKEN|SECRET|PASSWORD|KEY", line), line


def test_readme_documents_the_commands_the_container_runs() -> None:
    assert "docker build -f docker/Dockerfile -t yamcp ." in README
    assert "docker compose -f docker/compose.yaml up" in README
    assert "pip install ." in DOCKERFILE and "yamcp serve" in README


def test_compose_runs_two_instances_on_one_redis_behind_a_proxy() -> None:
    services = COMPOSE["services"]
    assert {"redis", "yamcp-1", "yamcp-2", "proxy"} <= set(services)
    for name in ("yamcp-1", "yamcp-2"):
        service = services[name]
        env = service["environment"]
        assert env["YAMCP_STORE_URL"] == "redis://redis:6379/0"
        assert "../accounts.yaml:/app/accounts.yaml:ro" in service["volumes"]
        assert "../policies:/app/policies:ro" in service["volumes"]
        for key, value in env.items():
            if "TOKEN" in key:
                assert str(value).startswith("${"), f"{key} must come from the environment"
    nginx = (ROOT / "docker" / "nginx.conf").read_text()
    assert "server yamcp-1:8000" in nginx and "server yamcp-2:8000" in nginx
    assert "/mcp/<redacted>" in nginx  # the access log must not print URL tokens


async def _round_robin(port: int, backends: list[int]) -> asyncio.Server:
    """A tiny TCP load balancer, as nginx does in compose: one backend per connection."""
    turn = 0

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal turn
        backend = backends[turn % len(backends)]
        turn += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    return await asyncio.start_server(handle, "127.0.0.1", port)


@contextlib.asynccontextmanager
async def compose_layout(
    fake: FakePostmark, tmp: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, list]]:
    prefix = f"yamcp-compose-{uuid.uuid4().hex[:8]}:"
    service_env = COMPOSE["x-yamcp"]["environment"]
    env = {
        key: str(value)
        for key, value in service_env.items()
        if key.startswith("YAMCP_") and key not in ("YAMCP_ACCOUNTS_FILE", "YAMCP_POLICIES_DIR")
    }
    env["YAMCP_STORE_URL"] = env["YAMCP_STORE_URL"].replace("redis:6379", "127.0.0.1:6379")
    env["YAMCP_STORE_PREFIX"] = prefix
    lb_port = free_port()
    env["YAMCP_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{lb_port}"
    env.pop("YAMCP_ALLOWED_HOSTS")
    instances = []
    for _ in range(2):
        workdir = tmp.mktemp("compose")
        write_workdir(workdir, fake.url)
        instances.append(start_yamcp(workdir, env))
    balancer = await _round_robin(lb_port, [int(i.base.rsplit(":", 1)[1]) for i in instances])
    try:
        yield f"http://127.0.0.1:{lb_port}", instances
    finally:
        balancer.close()
        for instance in instances:
            stop_yamcp(instance)
        client = redis.Redis(port=6379)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


async def test_compose_layout_as_plain_processes(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fake_postmark.reset()
    async with compose_layout(fake_postmark, tmp_path_factory) as (front, instances):
        created = json.loads(instances[0].cli("mint", "--account", "acme", "--json").stdout)
        assert created["url"].startswith(front)
        for _ in range(4):  # four connections: both instances answer
            async with mcp_client(created["url"]) as client:
                result = await client.call_tool("list_all_postmark_bounces", {"limit": 1})
                assert not result.is_error
        logs = [instance.log() for instance in instances]
        assert sum(log.count('"tool call"') for log in logs) == 4
        assert all("POST /mcp/<redacted>" in log for log in logs)  # both served the URL
        admin = instances[1].cli("admin-token", "create").stdout.strip()
        # The balancer runs on this event loop: only async clients may talk to it.
        async with httpx.AsyncClient(timeout=10) as http:
            revoked = await http.delete(
                f"{front}/integrated-account/acme/mcp/{created['id']}",
                headers={"authorization": f"Bearer {admin}"},
            )
            assert revoked.status_code == 204
            for _ in range(2):
                ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
                assert (await http.post(created["url"], json=ping)).status_code == 404


def test_example_accounts_file_loads(tmp_path: Path) -> None:
    from proxy.accounts import load_accounts

    accounts = load_accounts(
        ROOT / "accounts.example.yaml",
        {"POSTMARK_SERVER_TOKEN": "s", "POSTMARK_ACCOUNT_TOKEN": "a"},
    )
    assert accounts["acme"].integration == "postmark"


def test_every_setting_is_documented_in_the_readme_table() -> None:
    from proxy.settings import Settings

    table = README[README.index("## Settings") :]
    for name in Settings.model_fields:
        variable = f"YAMCP_{name.upper()}"
        assert variable in table, f"{variable} is missing from the README's settings table"
