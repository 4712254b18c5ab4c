"""Prometheus metrics. Labels are integration, tool and outcome names: never a token,
a server id or an account credential, so nothing secret can reach a scrape."""

from __future__ import annotations

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


def record_call(integration: str, tool: str, outcome: str, upstream_seconds: float | None) -> None:
    TOOL_CALLS.labels(integration, tool, outcome).inc()
    if upstream_seconds is not None:
        UPSTREAM_SECONDS.labels(integration, tool).observe(upstream_seconds)
    if outcome == "rate_limited":
        RATE_LIMITED.labels(integration).inc()


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
