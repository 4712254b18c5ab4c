"""The admin REST API: integrated accounts, and MCP servers and API tokens per account.

Bearer-authenticated with admin tokens (`yamcp admin-token create`). The URL of a
server is in the creation answer and nowhere else, ever; an account's credentials are
in no answer at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .accounts import Account, AccountSpec
from .connections import (
    AccountPatch,
    AccountRequest,
    account_problems,
    connect_account,
    file_account_message,
    file_account_public,
    input_problems,
    verify_account,
)
from .errors import AccountRefused, ConfigError
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
from .store import ServerConfig, ServerRecord, StoreUnavailable, utcnow
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
    return _invalid(input_problems(exc))


M = TypeVar("M", bound=BaseModel)


async def _body(request: Request, model: type[M]) -> M | Response:
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
            if account is not None:
                found = gw.accounts.get(account) or await gw.store.get_account(account)
                if found is None:
                    return _error(404, "not_found", f"No integrated account {account!r}")
                request.state.integration = found.integration
            return await handler(request, gw)
        except StoreUnavailable:
            return _error(503, "store_unavailable", "The store is unavailable; try again shortly")

    return endpoint


async def _server(request: Request, gw: Gateway) -> ServerRecord | Response:
    record = await gw.store.get_server(request.path_params["server_id"])
    if record is None or record.account != request.path_params["account"]:
        return _error(404, "not_found", "No such MCP server (revoked or expired)")
    return record


# --- integrated accounts: the accounts file's (read only here) and the API's ---


def _file_account_conflict(account_id: str) -> Response:
    return _error(409, "file_account", file_account_message(account_id))


@admin_endpoint
async def list_accounts(request: Request, gw: Gateway) -> Response:
    listed = [file_account_public(a) for a in gw.accounts.values()]
    listed += [record.public() for record in await gw.store.list_accounts()]
    return _json(sorted(listed, key=lambda a: a["id"]))


@admin_endpoint
async def create_account(request: Request, gw: Gateway) -> Response:
    body = await _body(request, AccountRequest)
    if isinstance(body, Response):
        return body
    try:
        record = await connect_account(gw, body)
    except AccountRefused as exc:
        if exc.errors:
            return _invalid(exc.errors)
        return _error(409, "account_exists", str(exc))
    return _json(record.public(), 201)


@admin_endpoint
async def get_account(request: Request, gw: Gateway) -> Response:
    account_id = request.path_params["account"]
    if account_id in gw.accounts:
        return _json(file_account_public(gw.accounts[account_id]))
    record = await gw.store.get_account(account_id)
    if record is None:
        return _error(404, "not_found", f"No integrated account {account_id!r}")
    return _json(record.public())


@admin_endpoint
async def patch_account(request: Request, gw: Gateway) -> Response:
    account_id = request.path_params["account"]
    if account_id in gw.accounts:
        return _file_account_conflict(account_id)
    patch = await _body(request, AccountPatch)
    if isinstance(patch, Response):
        return patch
    record = await gw.store.get_account(account_id)
    if record is None:
        return _error(404, "not_found", f"No integrated account {account_id!r}")
    base_url = patch.base_url if "base_url" in patch.model_fields_set else record.base_url
    merged = {
        "integration": record.integration,
        "base_url": base_url,
        "settings": record.settings if patch.settings is None else patch.settings,
        "defaults": record.defaults if patch.defaults is None else patch.defaults,
    }
    try:  # the accounts file's rules for a base URL and settings
        AccountSpec.model_validate(merged)
    except ValidationError as exc:
        return _from_pydantic(exc)
    new_credentials = patch.credentials is not None
    if new_credentials:
        credentials = patch.credentials
    elif patch.verify:
        credentials = gw.box.open(record.id, record.sealed_credentials)
    else:
        credentials = {}
    account = Account(
        id=record.id,
        integration=record.integration,
        base_url=base_url.rstrip("/") if base_url else None,
        credentials=credentials,
        defaults=merged["defaults"],
        settings=merged["settings"],
    )
    errors = account_problems(gw, account, credentials=new_credentials)
    if errors:
        return _invalid(errors)
    if patch.verify and (refused := await verify_account(gw, account)) is not None:
        return _invalid([refused])
    updated = record.model_copy(
        update={
            "base_url": account.base_url,
            "settings": account.settings,
            "defaults": account.defaults,
            "updated_at": utcnow(),
            **(
                {"sealed_credentials": gw.box.seal(record.id, account.credentials)}
                if new_credentials
                else {}
            ),
        }
    )
    if not await gw.store.update_account(updated):
        return _error(404, "not_found", f"No integrated account {account_id!r}")
    return _json(updated.public())


@admin_endpoint
async def delete_account(request: Request, gw: Gateway) -> Response:
    account_id = request.path_params["account"]
    if account_id in gw.accounts:
        return _file_account_conflict(account_id)
    if not await gw.store.delete_account(account_id):
        return _error(404, "not_found", f"No integrated account {account_id!r}")
    return Response(status_code=204)


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
        plan_for(
            gw,
            request.path_params["account"],
            request.state.integration,
            body.config,
            body.require_api_token_auth,
        )
    )


def plan_for(
    gw: Gateway, account: str, integration_name: str, config: ServerConfig, api_token_auth: bool
) -> dict[str, Any]:
    integration = gw.registry.integrations[integration_name]
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
    Route("/integrated-account", create_account, methods=["POST"]),
    Route("/integrated-account/{account}", get_account, methods=["GET"]),
    Route("/integrated-account/{account}", patch_account, methods=["PATCH"]),
    Route("/integrated-account/{account}", delete_account, methods=["DELETE"]),
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
