"""Prometheus metrics. Labels are integration, tool and outcome names: never a token,
a server id or an account credential, so nothing secret can reach a scrape."""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)

TOOL_CALLS = Counter(
    "yamcp_tool_calls",
    "Tool calls by integration, tool and outcome.",
    ["integration", "tool", "outcome"],
    registry=REGISTRY,
)
UPSTREAM_SECONDS = Histogram(
    "yamcp_upstream_request_seconds",
    "Time from sending an upstream request to having its whole answer.",
    ["integration", "tool"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "yamcp_rate_limited",
    "Upstream answers with HTTP 429, by integration.",
    ["integration"],
    registry=REGISTRY,
)
MCP_REQUESTS = Counter(
    "yamcp_mcp_requests",
    "MCP endpoint requests by HTTP status (the URL, which holds a token, is never a label).",
    ["status"],
    registry=REGISTRY,
)

APPROVALS = Counter(
    "yamcp_approvals",
    "Approval requests by event: requested (pending), approved, denied, expired, executed.",
    ["event"],
    registry=REGISTRY,
)


def record_approval(event: str) -> None:
    APPROVALS.labels(event).inc()


# Children by label values: `labels()` takes a lock and builds a key on every call.
_calls: dict[tuple[str, str, str], Any] = {}
_latency: dict[tuple[str, str], Any] = {}


def record_call(integration: str, tool: str, outcome: str, upstream_seconds: float | None) -> None:
    key = (integration, tool, outcome)
    counter = _calls.get(key)
    if counter is None:
        counter = _calls[key] = TOOL_CALLS.labels(*key)
    counter.inc()
    if upstream_seconds is not None:
        histogram = _latency.get(key[:2])
        if histogram is None:
            histogram = _latency[key[:2]] = UPSTREAM_SECONDS.labels(integration, tool)
        histogram.observe(upstream_seconds)
    if outcome == "rate_limited":
        RATE_LIMITED.labels(integration).inc()


_statuses: dict[int, Any] = {}


def record_mcp_status(status: int) -> None:
    counter = _statuses.get(status)
    if counter is None:
        counter = _statuses[status] = MCP_REQUESTS.labels(str(status))
    counter.inc()


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
