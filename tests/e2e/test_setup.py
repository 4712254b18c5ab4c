"""The README's set-up is true: CI runs its test command verbatim, and that command
provisions only what is missing before it runs the suite.

The provisioning itself (apt-get, npm, pip) is replaced here by recording stubs on PATH;
the real thing runs on a fresh machine in CI, through `.ci/run`.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support.paths import ROOT

FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _readme_test_command() -> str:
    setup = (ROOT / "README.md").read_text().split("## Set up", 1)[1].split("\n## ", 1)[0]
    after = setup.split("Then run the whole test suite", 1)[1]
    lang, body = FENCE.search(after).groups()  # type: ignore[union-attr]
    assert lang == "bash"
    (command,) = [line for line in body.splitlines() if line.strip()]
    return command


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    command = _readme_test_command()
    assert command == "scripts/test"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    steps = [line for line in ci if line.strip() and not line.lstrip().startswith("#")]
    assert steps[-1] == command
    assert os.access(ROOT / "scripts" / "test", os.X_OK)


def _stub(bin_dir: Path, name: str, log: Path) -> None:
    (bin_dir / name).write_text(f'#!/bin/bash\necho "{name} $*" >> {log}\n')
    (bin_dir / name).chmod(0o755)


def _run(tmp_path: Path, present: list[str]) -> list[str]:
    """scripts/test with PATH holding only the basics, `present` and recording stubs."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for tool in ("bash", "id", "seq", "sleep", "mkdir", "dirname", *present):
        (bin_dir / tool).symlink_to(subprocess.check_output(["which", tool], text=True).strip())
    for stub in ("apt-get", "sudo", "npm", "python3", "redis-server"):
        _stub(bin_dir, stub, log)
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "test"), "-k", "something"],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        check=True,
        timeout=60,
    )
    return log.read_text().splitlines()


def test_what_is_there_is_left_alone_and_the_suite_gets_the_arguments(tmp_path: Path) -> None:
    calls = _run(tmp_path, present=["docker-compose", "nginx"])
    # Redis answers on 127.0.0.1:6379 and Chromium is at /usr/bin/chromium on this machine
    assert calls == [
        "npm ci --prefix tests/clients --no-audit --no-fund",
        "python3 -m pip install -q -e .[test]",
        "python3 -m mypy",  # the engine's types, before the suite
        "python3 -m pytest -k something",
    ]


def test_a_missing_package_is_installed_from_debian(tmp_path: Path) -> None:
    calls = _run(tmp_path, present=["nginx"])  # no docker-compose on PATH
    installs = [c for c in calls if c.startswith(("apt-get", "sudo"))]
    as_root = "" if os.getuid() == 0 else "sudo "
    assert installs == [
        f"{as_root}apt-get update -qq",
        f"{as_root}apt-get install -y -qq --no-install-recommends docker-compose",
    ]
    assert calls[-1] == "python3 -m pytest -k something"


def test_the_readme_names_the_sdk_version_the_tests_pin() -> None:
    """The snippet after the first command needs the MCP SDK, which `pip install -e .` does
    not bring: the README says which, and it is the one the tests drive."""
    (named,) = re.findall(r"`pip install mcp==([0-9.]+)`", (ROOT / "README.md").read_text())
    (pinned,) = re.findall(r'"mcp==([0-9.]+)"', (ROOT / "pyproject.toml").read_text())
    assert named == pinned
