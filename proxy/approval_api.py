"""`/approvals`: the approval requests over the admin API, the way the page decides them.

An admin token sees and decides every request; an API token only those of its own
server. `GET /approvals?status=pending`, `GET /approvals/{id}`,
`POST /approvals/{id}/approve` and `POST /approvals/{id}/deny`, with `{"note": "..."}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .admin import _error, _json, same_origin
from .approvals import approval_url, decide, decider
from .store import ApprovalRecord, StoreUnavailable
from .tokens import hash_token

if TYPE_CHECKING:
    from .gateway import Gateway

STATUSES = ("pending", "approved", "denied", "expired", "executing", "done")


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _shown(gw: Gateway, record: ApprovalRecord) -> dict:
    return {**record.public(), "url": approval_url(gw.settings.public_url, record.id)}


async def list_approvals(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    status = request.query_params.get("status")
    if status is not None and status not in STATUSES:
        return _error(422, "validation_error", f"status: one of {', '.join(STATUSES)}")
    bearer = _bearer(request)
    if not bearer:
        return _error(401, "unauthorized", "An admin token or an API token is required")
    try:
        admin = await gw.store.check_admin_token(hash_token(bearer))
        records = await gw.store.list_approvals(request.query_params.get("server"))
        if not admin:
            # an API token: the requests of its own server, and nothing else
            servers = {r.server_id for r in records}
            mine = {s for s in servers if await gw.store.api_token_id(s, hash_token(bearer))}
            if servers and not mine:
                return _error(401, "unauthorized", "An admin token or an API token is required")
            records = [r for r in records if r.server_id in mine]
    except StoreUnavailable:
        return _error(503, "store_unavailable", "The store is unavailable; try again shortly")
    if status is not None:
        records = [r for r in records if r.status == status]
    return _json([_shown(gw, r) for r in records])


async def _authorized(request: Request) -> tuple[ApprovalRecord, str] | Response:
    gw: Gateway = request.app.state.gateway
    record = await gw.store.get_approval(request.path_params["approval_id"])
    by = await decider(gw.store, record, _bearer(request)) if record is not None else None
    if record is None or by is None:
        # the same answer for an unknown id and a credential of another server
        return _error(404, "not_found", "No such approval request for this credential")
    return record, by


async def get_approval(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    try:
        found = await _authorized(request)
    except StoreUnavailable:
        return _error(503, "store_unavailable", "The store is unavailable; try again shortly")
    return found if isinstance(found, Response) else _json(_shown(gw, found[0]))


async def _decide(request: Request, approve: bool) -> Response:
    gw: Gateway = request.app.state.gateway
    if not same_origin(request):
        return _error(403, "forbidden_origin", "Cross-origin requests may not change anything")
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        return _error(422, "validation_error", "body: not valid JSON")
    note = body.get("note") if isinstance(body, dict) else None
    if note is not None and not isinstance(note, str):
        return _error(422, "validation_error", "note: a string")
    try:
        found = await _authorized(request)
        if isinstance(found, Response):
            return found
        record, by = found
        decided = await decide(gw.store, record.id, approve, by, note)
    except StoreUnavailable:
        return _error(503, "store_unavailable", "The store is unavailable; try again shortly")
    if decided is None:
        return _error(409, "not_pending", f"The request is {record.status}, not pending")
    return _json(_shown(gw, decided))


async def approve(request: Request) -> Response:
    return await _decide(request, True)


async def deny(request: Request) -> Response:
    return await _decide(request, False)


def routes() -> list[BaseRoute]:
    return [
        Route("/approvals", list_approvals, methods=["GET"]),
        Route("/approvals/{approval_id}", get_approval, methods=["GET"]),
        Route("/approvals/{approval_id}/approve", approve, methods=["POST"]),
        Route("/approvals/{approval_id}/deny", deny, methods=["POST"]),
    ]
