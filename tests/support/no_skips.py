"""A skipped test fails the run: a test that cannot run here (no Chromium, no Redis, no
Node) is a machine that is not provisioned, and `scripts/test` provisions it. A skip would
count as passing what never ran."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and skips are not allowed here: {reason}"
    return report
