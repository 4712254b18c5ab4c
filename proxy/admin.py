"""The admin REST API: MCP servers and API tokens per integrated account.

Bearer-authenticated with admin tokens (`yamcp admin-token create`). The URL of a
server is in the creation answer and nowhere else, ever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ConfigError
from .servers import (
    CHATGPT_NOTE,
    InvalidServer,
    ServerInfo,
    ServerPatch,
    ServerRequest,
    check_constraints,
    create_api_token,
    create_server,
    preview_server,
    update_server,
)
from .store import ServerConfig, ServerRecord, StoreUnavailable
from .tokens import hash_token

if TYPE_CHECKING:
    from .gateway import Gateway


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


def _error(status: int, error: str, message: str, **extra: Any) -> Response:
    headers = {"www-authenticate": 'Bearer realm="yamcp-admin"'} if status == 401 else None
    return _json({"error": error, "message": message, **extra}, status, headers)


def _invalid(errors: list[dict[str, str]]) -> Response:
    message = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return _error(422, "validation_error", message, errors=errors)


def _from_pydantic(exc: ValidationError) -> Response:
    errors = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "body"
        reason = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        errors.append({"field": field, "reason": reason.removeprefix("Value error, ")})
    return _invalid(errors)


async def _body(request: Request, model: type[BaseModel]) -> BaseModel | Response:
    try:
        data = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        return _invalid([{"field": "body", "reason": "not valid JSON"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return _from_pydantic(exc)


STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def same_origin(request: Request) -> bool:
    """CSRF guard: a browser's `Origin`, when sent, must name this very host.

    The admin page authenticates with `Authorization: Bearer`, never a cookie, so a
    cross-site request carries no credential anyway; this refuses it outright too."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "").lower()
    try:
        netloc = urlsplit(origin.strip()).netloc.lower()
    except ValueError:
        return False
    return bool(host) and netloc == host


def admin_endpoint(handler):  # type: ignore[no-untyped-def]
    """Refuse foreign origins, authenticate, resolve the account, and turn store
    outages into 503s."""

    async def endpoint(request: Request) -> Response:
        if request.method in STATE_CHANGING and not same_origin(request):
            return _error(
                403, "forbidden_origin", "Cross-origin requests may not change anything here"
            )
        gw: Gateway = request.app.state.gateway
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not await gw.store.check_admin_token(
                hash_token(token.strip())
            ):
                return _error(401, "unauthorized", "A valid admin token is required")
            account = request.path_params.get("account")
            if account is not None and account not in gw.accounts:
                return _error(404, "not_found", f"No integrated account {account!r}")
            return await handler(request, gw)
        except StoreUnavailable:
            return _error(503, "store_unavailable", "The store is unavailable; try again shortly")

    return endpoint


async def _server(request: Request, gw: Gateway) -> ServerRecord | Response:
    record = await gw.store.get_server(request.path_params["server_id"])
    if record is None or record.account != request.path_params["account"]:
        return _error(404, "not_found", "No such MCP server (revoked or expired)")
    return record


@admin_endpoint
async def list_accounts(request: Request, gw: Gateway) -> Response:
    return _json(
        [
            {"id": a.id, "integration": a.integration}
            for a in sorted(gw.accounts.values(), key=lambda a: a.id)
        ]
    )


@admin_endpoint
async def create(request: Request, gw: Gateway) -> Response:
    body = await _body(request, ServerRequest)
    if isinstance(body, Response):
        return body
    try:
        created = await create_server(
            gw.store, gw.settings, gw.policies, request.path_params["account"], body
        )
    except InvalidServer as exc:
        return _invalid([{"field": exc.field, "reason": exc.reason}])
    return _json(created, 201)


@admin_endpoint
async def list_servers(request: Request, gw: Gateway) -> Response:
    records = await gw.store.list_servers(request.path_params["account"])
    return _json([ServerInfo.of(r, gw.policies) for r in records])


@admin_endpoint
async def get_server(request: Request, gw: Gateway) -> Response:
    record = await _server(request, gw)
    return record if isinstance(record, Response) else _json(ServerInfo.of(record, gw.policies))


@admin_endpoint
async def patch_server(request: Request, gw: Gateway) -> Response:
    record = await _server(request, gw)
    if isinstance(record, Response):
        return record
    patch = await _body(request, ServerPatch)
    if isinstance(patch, Response):
        return patch
    try:
        updated = await update_server(gw.store, gw.policies, record, patch)
    except InvalidServer as exc:
        return _invalid([{"field": exc.field, "reason": exc.reason}])
    return _json(ServerInfo.of(updated, gw.policies))


@admin_endpoint
async def delete_server(request: Request, gw: Gateway) -> Response:
    record = await _server(request, gw)
    if isinstance(record, Response):
        return record
    await gw.store.delete_server(record.id)
    return Response(status_code=204)


@admin_endpoint
async def create_token(request: Request, gw: Gateway) -> Response:
    record = await _server(request, gw)
    if isinstance(record, Response):
        return record
    info, token = await create_api_token(gw.store, record.id)
    return _json({**info.model_dump(mode="json"), "token": token, "note": CHATGPT_NOTE}, 201)


@admin_endpoint
async def list_tokens(request: Request, gw: Gateway) -> Response:
    record = await _server(request, gw)
    if isinstance(record, Response):
        return record
    return _json(await gw.store.list_api_tokens(record.id))


@admin_endpoint
async def delete_token(request: Request, gw: Gateway) -> Response:
    record = await _server(request, gw)
    if isinstance(record, Response):
        return record
    if not await gw.store.delete_api_token(record.id, request.path_params["token_id"]):
        return _error(404, "not_found", "No such API token")
    return Response(status_code=204)


class PreviewRequest(BaseModel):
    config: ServerConfig = ServerConfig()
    require_api_token_auth: bool = False


@admin_endpoint
async def preview(request: Request, gw: Gateway) -> Response:
    """The exact tools a configuration would expose, and why each other tool is left out."""
    body = await _body(request, PreviewRequest)
    if isinstance(body, Response):
        return body
    if body.config.policy is not None and body.config.policy not in gw.policies.named:
        return _invalid([{"field": "config.policy", "reason": "no such policy"}])
    try:
        check_constraints(body.config)
    except InvalidServer as exc:
        return _invalid([{"field": exc.field, "reason": exc.reason}])
    return _json(
        plan_for(gw, request.path_params["account"], body.config, body.require_api_token_auth)
    )


def plan_for(
    gw: Gateway, account: str, config: ServerConfig, api_token_auth: bool
) -> dict[str, Any]:
    integration = gw.registry.integrations[gw.accounts[account].integration]
    return preview_server(gw.policies, integration.tools.values(), account, config, api_token_auth)


@admin_endpoint
async def reload(request: Request, gw: Gateway) -> Response:
    try:
        gw.reload()
    except ConfigError as exc:
        return _error(
            422,
            "invalid_config",
            f"{exc}; nothing reloaded, the running accounts and policies stay in force",
            errors=[{"field": f"{exc.file}: {exc.path}".rstrip(": "), "reason": exc.reason}],
        )
    return _json({"accounts": sorted(gw.accounts), "policies": sorted(gw.policies.named)})


routes = [
    Route("/integrated-account", list_accounts, methods=["GET"]),
    Route("/integrated-account/{account}/mcp", create, methods=["POST"]),
    Route("/integrated-account/{account}/mcp", list_servers, methods=["GET"]),
    Route("/integrated-account/{account}/mcp-preview", preview, methods=["POST"]),
    Route("/integrated-account/{account}/mcp/{server_id}", get_server, methods=["GET"]),
    Route("/integrated-account/{account}/mcp/{server_id}", patch_server, methods=["PATCH"]),
    Route("/integrated-account/{account}/mcp/{server_id}", delete_server, methods=["DELETE"]),
    Route(
        "/integrated-account/{account}/mcp/{server_id}/api-tokens", create_token, methods=["POST"]
    ),
    Route("/integrated-account/{account}/mcp/{server_id}/api-tokens", list_tokens, methods=["GET"]),
    Route(
        "/integrated-account/{account}/mcp/{server_id}/api-tokens/{token_id}",
        delete_token,
        methods=["DELETE"],
    ),
    Route("/admin/reload", reload, methods=["POST"]),
]
