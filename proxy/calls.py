"""One tool call, start to end: account defaults, the policy's argument checks, an approval
window if one applies, then `forward` under the call deadline; every failure becomes a tool
result here, and every call is counted and logged here, whichever way it ended.

Discovery mode's three tools end here too: `call_tool` is a call of the tool it names.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from . import approvals
from .accounts import Account, with_defaults
from .discovery import SCHEMA, SEARCH, MetaTool
from .forward import CallOutcome, Hold, error_outcome, forward, tool_result
from .logs import log_call
from .metrics import record_call
from .policy import check_arguments
from .store import ServerRecord
from .tools import Tool

if TYPE_CHECKING:
    from .gateway import Gateway, Served

log = logging.getLogger("yamcp")


async def call(
    gw: Gateway,
    record: ServerRecord,
    account: Account,
    served: Served,
    tool: Tool,
    arguments: dict[str, Any],
) -> CallOutcome:
    """One tool call: policy constraints, then forward; audited and counted either way."""
    started = time.perf_counter()
    integration = gw.registry.integrations[account.integration]
    assert gw.upstream is not None
    await gw.touch(record)
    if account.defaults:  # before the policy: a constraint holds for a default too
        arguments = with_defaults(arguments, account.defaults, tool.input_schema, tool.like)
    rules = served.rules[tool.name]
    denied = check_arguments(rules, arguments)
    try:
        if denied:
            message = "Refused by policy, nothing was sent:\n- " + "\n- ".join(denied)
            outcome = error_outcome("policy_denied", message, rules=denied)
        else:
            deadline = gw.settings.call_deadline

            async def run(hold: Hold | None) -> CallOutcome:
                assert gw.upstream is not None
                return await forward(
                    gw.upstream,
                    integration,
                    account,
                    tool,
                    arguments,
                    max_body_bytes=gw.settings.max_upstream_bytes,
                    rules=rules,
                    hold=hold,
                )

            window = served.approvals.get(tool.name)
            try:
                # However slowly the answer trickles in, a call ends: read timeouts only
                # bound the gaps between bytes. Lookups made by checks count too.
                async with asyncio.timeout(deadline):
                    if window is None:
                        outcome = await run(None)
                    else:
                        outcome = await approvals.gate(
                            gw, record, account, tool, arguments, window, run
                        )
            except TimeoutError:
                outcome = error_outcome(
                    "unreachable",
                    f"yamcp gave up on {integration.title} after {deadline:g} seconds, the "
                    "deadline for a whole call. The request may have taken effect: check "
                    "before repeating a write.",
                    reason="CallDeadline",
                )
    except Exception:  # a bug of ours must not take the connection down with it
        log.exception("tool call failed inside yamcp (server=%s tool=%s)", record.id, tool.name)
        outcome = error_outcome(
            "internal_error",
            "yamcp failed to handle this call (a bug; see its log). If it got as far as "
            "the upstream, the request may have taken effect: check before repeating a write.",
        )
    record_call(tool.integration, tool.name, outcome.outcome, outcome.upstream_seconds)
    log_call(
        server=record.id,
        account=record.account,
        tool=tool.name,
        status=outcome.upstream_status,
        outcome=outcome.outcome,
        ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return outcome


def _unknown(name: object) -> dict:
    """A tool the policy hides reads exactly as one that does not exist."""
    text = str(name)[:100]
    return error_outcome("unknown_tool", f"Unknown tool: {text}. search_tools finds tools.").result


async def call_meta(
    gw: Gateway,
    record: ServerRecord,
    account: Account,
    served: Served,
    tool: MetaTool,
    arguments: dict[str, Any],
) -> tuple[dict, dict[str, str]]:
    """Discovery mode's three tools, over the server's decided tools only."""
    assert served.discovery is not None
    if tool.name == SEARCH:
        query, limit = arguments.get("query"), arguments.get("limit", 5)
        if not isinstance(query, str) or not query.strip():
            message = "Invalid arguments for search_tools:\n- query: a non-empty string"
            return error_outcome("invalid_arguments", message).result, {}
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 20:
            message = "Invalid arguments for search_tools:\n- limit: an integer from 1 to 20"
            return error_outcome("invalid_arguments", message).result, {}
        found = served.discovery.index.search(query, limit)
        return tool_result({"tools": found}), {}
    name = arguments.get("name")
    definition = served.discovery.definitions.get(name) if isinstance(name, str) else None
    if definition is None or not isinstance(name, str):
        return _unknown(name), {}
    if tool.name == SCHEMA:
        return tool_result(definition), {}
    inner = arguments.get("arguments", {})
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        message = "Invalid arguments for call_tool:\n- arguments: an object"
        return error_outcome("invalid_arguments", message).result, {}
    outcome = await call(gw, record, account, served, served.tools[name], inner)
    return outcome.result, outcome.headers
