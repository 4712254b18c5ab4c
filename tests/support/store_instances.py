"""A pytest plugin (registered in `tests/conftest.py`): two `yamcp serve` processes, once per
session, each with its own copy of `policies/`. `sqlite_instance` is on SQLite with a short
whole-call deadline and request-body timeout; `redis_instance` is on Redis (127.0.0.1:6379)
under a prefix of its own, whose keys go when the session ends."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.support.fake_postmark import FakePostmark
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

REDIS_URL = "redis://127.0.0.1:6379/0"
CALL_DEADLINE = 2.0  # YAMCP_CALL_DEADLINE of sqlite_instance
BODY_TIMEOUT = 1.0  # YAMCP_REQUEST_BODY_TIMEOUT of sqlite_instance


def _own_instance(
    tmp_path_factory: pytest.TempPathFactory, fake: FakePostmark, env: dict[str, str]
) -> Yamcp:
    workdir = tmp_path_factory.mktemp("store-instance")
    shutil.copytree(ROOT / "policies", workdir / "policies")
    write_workdir(workdir, fake.url)
    return start_yamcp(workdir, {"YAMCP_POLICIES_DIR": str(workdir / "policies"), **env})


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
def redis_instance(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    prefix = f"yamcp-store-instance-{uuid.uuid4().hex[:8]}:"
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
