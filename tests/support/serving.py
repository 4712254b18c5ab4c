"""`yamcp serve` as a real process, for the tests where the process is what is tested:
start-up, signals, the CLI, several instances, coverage of `serve` itself. Everything else
drives the app in process (`tests.support.inprocess`)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from proxy.policy import load_policies
from proxy.servers import ServerRequest, create_server
from proxy.settings import Settings
from proxy.store import SQLiteStore
from tests.support.fake_postmark import FakePostmark
from tests.support.paths import ROOT


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
