"""A person approves what cannot be undone: the gate in front of a call that needs one.

A tool the server's policy marks for approval (`approval:` in a server config, a named
policy or the guardrails) runs its validation and the integration's checks as any call
does; then, instead of going upstream, the call is kept as a pending request and the
agent gets a link to show the user. A person opens the link, sees exactly what would be
sent, and approves or denies with a credential the agent does not have (the admin token
or an API token of that server). The agent calls again with the same arguments: an
approved request goes upstream exactly once.

A request is bound to the server, the tool and the SHA-256 of the canonical arguments
(keys sorted, the account's defaults filled in), so different arguments need their own
approval, and a further identical call after it was sent needs a new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from .forward import CallOutcome, Hold, UpstreamRequest, error_outcome, tool_result
from .metrics import record_approval
from .store import ApprovalRecord, ServerRecord, Store, utcnow
from .tokens import hash_token

if TYPE_CHECKING:
    from .accounts import Account
    from .gateway import Gateway
    from .hooks import HookContext
    from .tools import Tool

log = logging.getLogger("yamcp")
audit = logging.getLogger("yamcp.audit")
PAGE_PREFIX = "/approve/"


def arguments_hash(server_id: str, tool: str, arguments: dict[str, Any]) -> str:
    canonical = orjson.dumps(
        {"server": server_id, "tool": tool, "arguments": arguments}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()


def approval_url(public_url: str, approval_id: str) -> str:
    return f"{public_url}{PAGE_PREFIX}{approval_id}"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_of(tool: Tool, arguments: dict[str, Any], preview: dict[str, Any] | None) -> str:
    """One line for the list, the webhook and the page title: the tool, then the preview
    hook's `summary` (who it goes to, what about), or else its first short arguments.
    Never a body."""
    given = preview.get("summary") if preview else None
    if isinstance(given, str) and given:
        return f"{tool.name} {_short(given, 160)}"
    shown = [
        f"{key}={_short(str(value))}"
        for key, value in arguments.items()
        if isinstance(value, str | int) and not isinstance(value, bool) and len(str(value)) < 200
    ][:3]
    return " ".join([tool.name, *shown])


def log_approval(event: str, record: ApprovalRecord, **fields: Any) -> None:
    """The audit line of a request's life: requested, approved, denied, expired, executed."""
    line = {
        "event": f"approval_{event}",
        "approval": record.id,
        "server": record.server_id,
        "account": record.account,
        "tool": record.tool,
        **fields,
    }
    audit.info(orjson.dumps(line).decode())
    record_approval(event)


def _result(structured: dict[str, Any], text: str, outcome: str) -> CallOutcome:
    return CallOutcome(tool_result(structured, text), outcome)


def required(record: ApprovalRecord, public_url: str) -> CallOutcome:
    url = approval_url(public_url, record.id)
    expires = record.expires_at.isoformat()
    structured = {
        "status": "approval_required",
        "approval_id": record.id,
        "approval_url": url,
        "expires_at": expires,
    }
    text = (
        f"Nothing was sent: {record.tool} needs a person's approval. Show the user this link "
        f"to review and approve the request: {url} . Once they say it is approved, call "
        f"{record.tool} again with exactly the same arguments. The request waits until "
        f"{expires}."
    )
    return _result(structured, text, "approval_required")


def _used(record: ApprovalRecord) -> CallOutcome:
    message = (
        f"Nothing was sent by this call: the approval {record.id} was used by an identical "
        "call that is being sent now. Do not repeat it; one approval sends once."
    )
    return error_outcome("approval_used", message, approval_id=record.id)


def _closed(record: ApprovalRecord) -> CallOutcome:
    if record.status == "denied":
        note = f" Their note: {record.note}" if record.note else ""
        message = (
            f"Nothing was sent: a person denied this request ({record.id}).{note} Do not "
            "send it again unless the user asks; a new call asks for a new approval."
        )
        return error_outcome("approval_denied", message, approval_id=record.id, note=record.note)
    message = (
        f"Nothing was sent: nobody decided on request {record.id} before it expired. Call "
        "again to ask for a new approval."
    )
    return error_outcome("approval_expired", message, approval_id=record.id)


async def gate(
    gw: Gateway,
    record: ServerRecord,
    account: Account,
    tool: Tool,
    arguments: dict[str, Any],
    window: float,
    run: Callable[[Hold | None], Awaitable[CallOutcome]],
) -> CallOutcome:
    """One call of a tool that needs approval. `run(hold)` forwards the call; with a hold,
    everything is checked and nothing is sent."""
    store = gw.store
    digest = arguments_hash(record.id, tool.name, arguments)
    found = await store.find_approval(record.id, digest)
    if found is not None and found.status == "approved":
        claimed = await store.set_approval(found.id, ("approved",), status="executing")
        if claimed is None:
            return _used(found)
        outcome = await run(None)
        done = await store.set_approval(
            found.id, ("executing",), status="done", outcome=outcome.outcome
        )
        log_approval("executed", done or claimed, outcome=outcome.outcome)
        structured = outcome.result.get("structuredContent")
        if isinstance(structured, dict):
            structured["approval"] = {"id": found.id, "approved_by": found.decided_by}
        return outcome
    if found is not None and found.status == "executing":
        return _used(found)
    if found is not None and found.status == "pending":
        return required(found, gw.settings.public_url)
    if found is not None and found.status in ("denied", "expired"):
        # Said once; the next identical call asks for a new approval.
        await store.set_approval(found.id, ("denied", "expired"), status="done")
        if found.status == "expired":
            log_approval("expired", found)
        return _closed(found)

    async def hold(request: UpstreamRequest, ctx: HookContext | None) -> CallOutcome:
        now = utcnow()
        shown: dict[str, Any] = {
            "method": request.method,
            "path": urlsplit(request.url).path,
        }
        if tool.preview is not None and ctx is not None:
            try:
                shown["preview"] = await tool.preview(ctx, arguments)
            except Exception:  # a preview is an aid: the arguments are shown regardless
                log.warning("the preview of %s failed; the page shows its arguments", tool.name)
        pending = ApprovalRecord(
            id=f"apr_{secrets.token_hex(16)}",
            server_id=record.id,
            account=record.account,
            tool=tool.name,
            arguments_hash=digest,
            arguments={"arguments": arguments, "request": shown},
            summary=summary_of(tool, arguments, shown.get("preview")),
            created_at=now,
            expires_at=now + timedelta(seconds=window),
        )
        await store.create_approval(pending)
        log_approval("requested", pending)
        notify(gw, pending, record.name)
        return required(pending, gw.settings.public_url)

    return await run(hold)


def webhook_payload(record: ApprovalRecord, public_url: str, server_name: str) -> dict[str, Any]:
    """What the operator's webhook receives: fits Slack's incoming-webhook `text`. Ids, the
    tool, the one-line summary and the link; never a secret or a body."""
    url = approval_url(public_url, record.id)
    return {
        "text": f"Approval needed: {record.summary} on {server_name} ({record.account}). "
        f"Review: {url}",
        "id": record.id,
        "server": record.server_id,
        "server_name": server_name,
        "account": record.account,
        "tool": record.tool,
        "summary": record.summary,
        "url": url,
        "expires_at": record.expires_at.isoformat(),
    }


def notify(gw: Gateway, record: ApprovalRecord, server_name: str) -> None:
    """Tell the operator's webhook of a new request, in the background: a slow hook must
    not hold the agent's answer."""
    url = gw.settings.approval_webhook
    if not url:
        return
    payload = webhook_payload(record, gw.settings.public_url, server_name)
    task = asyncio.get_running_loop().create_task(post_webhook(gw, url, payload))
    gw.background.add(task)
    task.add_done_callback(gw.background.discard)


async def post_webhook(gw: Gateway, url: str, payload: dict[str, Any]) -> None:
    """One POST to the operator's webhook through the upstream client (its timeouts, no
    redirects, no proxy); a failure is logged by kind, never with the URL."""
    assert gw.upstream is not None
    body = orjson.dumps(payload)
    try:
        async with asyncio.timeout(10):
            response = await gw.upstream.send(
                "POST", url, {}, body, {"content-type": "application/json"}, 64 * 1024
            )
        if response.status >= 300:
            log.warning("the approval webhook answered %d", response.status)
    except Exception as exc:
        log.warning("the approval webhook failed (%s)", type(exc).__name__)


# --- decisions: the page, the admin API and the CLI all decide through these ---

NOTE_MAX = 500


async def decider(store: Store, record: ApprovalRecord, bearer: str) -> str | None:
    """Who a credential makes the decider of a request: "admin" for an admin token, the
    API token's id for one of the request's own server; None for anything else."""
    if not bearer:
        return None
    digest = hash_token(bearer)
    if await store.check_admin_token(digest):
        return "admin"
    token_id = await store.api_token_id(record.server_id, digest)
    return f"api token {token_id}" if token_id else None


async def decide(
    store: Store, approval_id: str, approve: bool, by: str, note: str | None
) -> ApprovalRecord | None:
    """Approve or deny a pending request; None when it is not pending (any more)."""
    note = (note or "").strip()[:NOTE_MAX] or None
    status = "approved" if approve else "denied"
    decided = await store.set_approval(
        approval_id,
        ("pending",),
        status=status,
        decided_at=utcnow(),
        decided_by=by,
        note=note,
    )
    if decided is not None:
        log_approval(status, decided, by=by)
    return decided
