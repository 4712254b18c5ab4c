"""Work a test run does once, whichever pytest-xdist worker needs it first.

Importing a large OpenAPI document takes seconds under coverage, and several workers need
the same import: the first makes it in a folder all the workers of the run share, the
others wait on its lock and read what it made. The folder is only read afterwards; a test
that changes it works on a copy.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def run_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """`name` in the folder every worker of this run shares (xdist gives each worker its
    own basetemp, all under one parent; without xdist, the basetemp itself)."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name


def once(folder: Path, make: Callable[[Path], None]) -> Path:
    """`folder`, filled by `make(folder)` the first time in the run it is asked for.

    A failed `make` leaves nothing behind, so the next caller tries again (and fails with
    its own message) instead of reading half a folder."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    done = folder.with_name(folder.name + ".done")
    with folder.with_name(folder.name + ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            try:
                make(folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            done.touch()
    return folder
