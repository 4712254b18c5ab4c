"""The fixtures every test folder shares: the fake Postmark, a `yamcp serve` process on it,
the MCP JSON Schema checker. The helpers behind them are in `tests/support/`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import SchemaChecker
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

# coverage_floor prints line and branch coverage and holds the floor (pyproject.toml);
# no_skips fails a test that skips (a missing Chromium is an error, never a pass);
# store_instances: a `yamcp serve` on SQLite and one on Redis, once per session.
pytest_plugins = [
    "tests.support.coverage_floor",
    "tests.support.no_skips",
    "tests.support.inprocess",
    "tests.support.store_instances",
]


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


@pytest.fixture(scope="session")
def schema_checker() -> SchemaChecker:
    return SchemaChecker()
