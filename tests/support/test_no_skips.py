"""A test that skips fails the run: the browser test without Chromium, say, is an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def test_a_skip_fails_the_run_and_an_expected_failure_does_not(tmp_path: Path) -> None:
    (tmp_path / "test_cases.py").write_text(
        "import pytest\n"
        "def test_passes():\n    pass\n"
        "def test_skips_at_run_time():\n    pytest.skip('no /usr/bin/chromium')\n"
        "@pytest.mark.skip(reason='marked')\n"
        "def test_marked_skip():\n    pass\n"
        "@pytest.mark.xfail(reason='a known bug, tracked')\n"
        "def test_known_bug():\n    assert False\n"
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.support.no_skips",
            "-q",
            "-rA",
            "-c",
            "/dev/null",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout
    assert "skips are not allowed here: Skipped: no /usr/bin/chromium" in run.stdout
    assert "1 failed, 1 passed, 1 xfailed, 1 error" in run.stdout, run.stdout
