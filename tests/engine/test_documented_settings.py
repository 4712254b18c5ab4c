"""Settings the README's table documents, each run with a non-default value.

Every test starts a real `yamcp serve` with one `YAMCP_*` set away from its default and
checks what the setting changes on the wire, in the process tree or in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from proxy.settings import Settings
from tests.support.fake_postmark import FakePostmark
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, wait_until_serving, write_workdir

ACCEPT = {"accept": "application/json, text/event-stream"}
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "list_all_postmark_bounces", "arguments": {"limit": 1}},
}


@contextlib.contextmanager
def serving(
    fake: FakePostmark, tmp: pytest.TempPathFactory, env: dict[str, str]
) -> contextlib.AbstractContextManager[Yamcp]:
    workdir = tmp.mktemp("setting")
    write_workdir(workdir, fake.url)
    server = start_yamcp(workdir, env)
    try:
        yield server
    finally:
        stop_yamcp(server)


def readme_defaults() -> dict[str, str]:
    table = (ROOT / "README.md").read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for names, default in re.findall(r"^\| (`YAMCP_[^|]+) \| ([^|]+) \|", table, flags=re.M):
        names = re.findall(r"`(YAMCP_\w+)`", names)
        defaults = [d.strip().strip("`") for d in default.split(" / ")]
        rows.update(zip(names, defaults * (len(names) // len(defaults)), strict=True))
    return rows


def test_readme_settings_defaults_are_the_real_defaults() -> None:
    documented = readme_defaults()
    actual = Settings(_env_file=None).model_dump()
    assert set(documented) == {f"YAMCP_{name.upper()}" for name in actual}
    for var, said in documented.items():
        value = actual[var.removeprefix("YAMCP_").lower()]
        if said == "unset":
            assert value is None, var
        elif said == "empty":
            assert value == [], var
        elif isinstance(value, list):
            assert [str(v) for v in value] == said.split(","), var
        elif isinstance(value, bool):
            assert str(value).lower() == said, var
        elif isinstance(value, float):
            assert value == float(said), var
        else:
            assert str(value) == said, var


def test_serve_with_no_settings_listens_on_the_documented_defaults() -> None:
    """`yamcp serve` with nothing set binds where the README says; read from the settings it
    serves with, as a free port cannot be promised on a shared machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YAMCP_")}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from proxy.cli import build_parser; from proxy.cli.common import settings_from;"
            "s = settings_from(build_parser().parse_args(['serve']));"
            "print(s.host, s.port, s.data_dir, s.store_url)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert out == ["127.0.0.1", "8000", "data", "None"]


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _held_on_loopback(port: int) -> socket.socket | None:
    """127.0.0.1:port bound and not listening, so a connection there is refused whatever
    else runs (another test's server took that number once); None if it is taken."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    return sock


def test_host_and_port_choose_where_serve_listens(tmp_path: Path) -> None:
    host = "127.0.0.2"
    while True:
        port = _free_port(host)
        held = _held_on_loopback(port)
        if held is not None:
            break
    write_workdir(tmp_path, "http://127.0.0.1:9")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YAMCP_")}
    env |= {
        "YAMCP_HOST": host,
        "YAMCP_PORT": str(port),
        "YAMCP_PUBLIC_BASE_URL": f"http://{host}:{port}",
        "YAMCP_INTEGRATIONS_DIRS": str(ROOT / "integrations"),
        "YAMCP_POLICIES_DIR": str(ROOT / "policies"),
        "POSTMARK_SERVER_TOKEN": "pm-server",
        "POSTMARK_ACCOUNT_TOKEN": "pm-account",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "serve"],  # no --host, no --port
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://{host}:{port}", proc)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        held.close()


def _env_without_public_url(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YAMCP_")}
    return env | {
        "YAMCP_INTEGRATIONS_DIRS": str(ROOT / "integrations"),
        "YAMCP_POLICIES_DIR": str(ROOT / "policies"),
        "YAMCP_DATA_DIR": str(workdir / "data"),
        "POSTMARK_SERVER_TOKEN": FakePostmark.server_token,
        "POSTMARK_ACCOUNT_TOKEN": FakePostmark.account_token,
        **extra,
    }


def _cli(workdir: Path, env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def _lists_tools(url: str) -> bool:
    listed = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=ACCEPT, timeout=10
    )
    return listed.status_code == 200 and bool(listed.json()["result"]["tools"])


def test_minted_urls_follow_the_port_serve_listens_on(
    fake_postmark: FakePostmark, tmp_path: Path
) -> None:
    """With YAMCP_PUBLIC_BASE_URL unset, `yamcp mint` (same YAMCP_PORT) and the admin API of
    a `yamcp serve --port` hand out URLs on the port the server listens on, and they work."""
    write_workdir(tmp_path, fake_postmark.url)
    port = _free_port("127.0.0.1")
    env = _env_without_public_url(tmp_path, YAMCP_PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", proc)
        url = _cli(tmp_path, env, "mint", "--account", "acme").strip()
        assert url.startswith(f"http://127.0.0.1:{port}/mcp/"), "mint ignored YAMCP_PORT"
        assert _lists_tools(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    flag_port = _free_port("127.0.0.1")
    env = _env_without_public_url(tmp_path)  # no YAMCP_PORT: the flag alone says where
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "serve", "--port", str(flag_port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{flag_port}"
        wait_until_serving(base, proc)
        admin_token = _cli(tmp_path, env, "admin-token", "create").strip()
        created = httpx.post(
            f"{base}/integrated-account/acme/mcp",
            json={"name": "flag"},
            headers={"authorization": f"Bearer {admin_token}"},
            timeout=10,
        )
        assert created.status_code == 201
        url = created.json()["url"]
        assert url.startswith(f"{base}/mcp/"), "the admin API ignored serve --port"
        assert _lists_tools(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("0.0.0.0", "http://127.0.0.1:8123"),  # every interface: loopback reaches it here
        ("::", "http://127.0.0.1:8123"),
        ("::1", "http://[::1]:8123"),
        ("127.0.0.2", "http://127.0.0.2:8123"),
    ],
)
def test_minted_urls_name_a_reachable_host_for_the_listen_address(
    tmp_path: Path, host: str, base: str
) -> None:
    write_workdir(tmp_path, "http://127.0.0.1:9")
    env = _env_without_public_url(tmp_path, YAMCP_HOST=host, YAMCP_PORT="8123")
    url = _cli(tmp_path, env, "mint", "--account", "acme").strip()
    assert re.fullmatch(rf"{re.escape(base)}/mcp/[A-Za-z0-9_-]{{43}}", url)
    # a public base URL, when set, wins over where yamcp listens
    env["YAMCP_PUBLIC_BASE_URL"] = "https://mcp.example.com/"
    url = _cli(tmp_path, env, "mint", "--account", "acme").strip()
    assert re.fullmatch(r"https://mcp\.example\.com/mcp/[A-Za-z0-9_-]{43}", url)


def _children(pid: int) -> list[str]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(FileNotFoundError):
                kids.append(Path(f"/proc/{child}/cmdline").read_bytes().decode())
    return kids


def test_workers_starts_that_many_worker_processes(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with serving(fake_postmark, tmp_path_factory, {"YAMCP_WORKERS": "3"}) as server:
        workers = [cmd for cmd in _children(server.proc.pid) if "spawn_main" in cmd]
        assert len(workers) == 3
        assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200


def test_allowed_hosts_admits_a_listed_host_name(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    env = {"YAMCP_ALLOWED_HOSTS": "mcp.internal.example, other.example"}
    with serving(fake_postmark, tmp_path_factory, env) as server:
        for host in ("mcp.internal.example", "other.example:8443"):
            answer = httpx.get(f"{server.base}/healthz", headers={"host": host}, timeout=5)
            assert answer.status_code == 200, host
        refused = httpx.get(f"{server.base}/healthz", headers={"host": "evil.example"}, timeout=5)
        assert refused.status_code == 421


async def test_accounts_file_names_another_file(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir = tmp_path_factory.mktemp("accounts-file")
    write_workdir(workdir, fake_postmark.url)
    other = workdir / "elsewhere.yaml"
    other.write_text((workdir / "accounts.yaml").read_text().replace("  acme:", "  elsewhere:"))
    (workdir / "accounts.yaml").unlink()
    server = start_yamcp(workdir, {"YAMCP_ACCOUNTS_FILE": str(other)})
    try:
        url = server.cli("mint", "--account", "elsewhere").stdout.strip()
        listed = httpx.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=ACCEPT
        )
    finally:
        stop_yamcp(server)
    assert listed.status_code == 200
    assert listed.json()["result"]["tools"]


async def test_max_request_bytes_bounds_the_body(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    def ping(size: int) -> httpx.Response:
        body = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"'
        body += b"a" * (size - len(body) - 4) + b'"}}'
        assert len(body) == size - 1
        headers = {**ACCEPT, "content-type": "application/json"}
        return httpx.post(url, content=body, headers=headers, timeout=10)

    with serving(fake_postmark, tmp_path_factory, {"YAMCP_MAX_REQUEST_BYTES": "2048"}) as server:
        url = await server.mint()
        assert ping(2000).status_code == 200
        too_big = ping(3000)  # far below the default 64 MiB
    assert too_big.status_code == 413
    assert "larger than" in too_big.json()["error"]["message"]


async def test_shutdown_grace_bounds_an_in_flight_call(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With a 1 s grace, SIGTERM ends the process while the upstream still holds a call that
    no timeout would end for minutes; the default grace (30 s) would still be waiting."""
    fake_postmark.reset()
    env = {
        "YAMCP_SHUTDOWN_GRACE_SECONDS": "1",
        "YAMCP_READ_TIMEOUT": "300",
        "YAMCP_CALL_DEADLINE": "300",
    }
    with serving(fake_postmark, tmp_path_factory, env) as server:
        url = await server.mint()
        fake_postmark.fail_next("stall", path="/bounces")
        async with httpx.AsyncClient(timeout=300) as client:
            in_flight = asyncio.create_task(client.post(url, json=CALL, headers=ACCEPT))
            try:
                await asyncio.to_thread(fake_postmark.wait_stalled, 1, 5)
                server.proc.send_signal(signal.SIGTERM)
                # exits although the upstream never answered (a 30 s grace would still wait)
                await asyncio.to_thread(server.proc.wait, 20)
            finally:
                fake_postmark.release()
            try:
                answer = await in_flight
            except httpx.HTTPError:
                answer = None
    # the call was cut off, not finished: no tool result reached the client
    assert answer is None or answer.status_code != 200


async def test_log_level_warning_drops_the_audit_line(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory, yamcp: Yamcp
) -> None:
    fake_postmark.reset()
    # the default level writes the audit line of a call ...
    url = await yamcp.mint()
    before = len(_audit_lines(yamcp.log()))
    assert httpx.post(url, json=CALL, headers=ACCEPT, timeout=10).status_code == 200
    assert len(_audit_lines(yamcp.log())) > before
    # ... `warning` does not, and the call is served all the same
    with serving(fake_postmark, tmp_path_factory, {"YAMCP_LOG_LEVEL": "warning"}) as quiet:
        url = await quiet.mint()
        answer = httpx.post(url, json=CALL, headers=ACCEPT, timeout=10)
        assert answer.status_code == 200 and not answer.json()["result"]["isError"]
        assert _audit_lines(quiet.log()) == []
        assert len(fake_postmark.requests) == 2


def _audit_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if '"list_all_postmark_bounces"' in line]
