"""The OAuth endpoints: discovery documents, token, registration and revocation, and the
routes that put them and the consent page on the app."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..endpoint import CANONICAL, NOT_FOUND
from ..secrets import SecretKeyError
from ..store import StoreUnavailable
from . import consent, grants
from .clients import Client, ClientError, register
from .forms import MAX_BODY, read_form
from .metadata import (
    AUTHORIZE,
    REGISTER,
    REVOKE,
    TOKEN,
    WELL_KNOWN_RESOURCE,
    WELL_KNOWN_SERVER,
    resource_metadata,
    server_metadata,
)

if TYPE_CHECKING:
    from ..gateway import Gateway

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
PUBLIC = {"access-control-allow-origin": "*", "cache-control": "max-age=300"}


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    headers = dict(NO_STORE)
    if status == 401:
        headers["www-authenticate"] = 'Basic realm="yamcp"'
    return JSONResponse({"error": error, "error_description": description}, status, headers)


async def authorization_server(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    return JSONResponse(server_metadata(gw.settings.public_url), headers=PUBLIC)


async def protected_resource(request: Request) -> Response:
    """RFC 9728 metadata of one server URL: only for a live server that asks for sign-in.
    Anything else gets the MCP endpoint's own 404, byte for byte: the path carries the
    server's token, and the answer must not tell a guess from a revoked URL."""
    gw: Gateway = request.app.state.gateway
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    match = CANONICAL.fullmatch(raw[len(WELL_KNOWN_RESOURCE) :])
    live, token = None, match.group(1).decode() if match is not None else ""
    if match is not None:
        try:
            live = await gw.live(token)
        except (StoreUnavailable, SecretKeyError):
            return JSONResponse({"error": "unavailable"}, 503)
    if live is None or not live.served.effective.require_api_token_auth:
        return Response(NOT_FOUND.body, 404, NOT_FOUND.headers)
    document = resource_metadata(gw.settings.public_url, token, live.served.view.name)
    return JSONResponse(document, headers={"access-control-allow-origin": "*", **NO_STORE})


async def _client(gw: Gateway, request: Request, form: dict[str, str]) -> Client:
    """The authenticated client of a token or revocation request (RFC 6749 2.3)."""
    client_id, secret = form.get("client_id", ""), form.get("client_secret")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ClientError("invalid_client", "The Basic credentials do not decode.") from None
        client_id, secret = unquote(user), unquote(password)
    try:
        client = await gw.oauth_clients.find(client_id)
    except ClientError:
        client = None
    if client is None:
        raise ClientError("invalid_client", "No client is registered with this client_id.")
    if not client.secret_ok(secret):
        raise ClientError("invalid_client", "The client's secret is missing or wrong.")
    return client


async def token(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    form = await read_form(request)
    if form is None:
        return _oauth_error(
            "invalid_request", "Send application/x-www-form-urlencoded, at most 16 KiB."
        )
    try:
        client = await _client(gw, request, form)
        seconds = gw.settings.oauth_access_token_seconds
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            missing = [f for f in ("code", "redirect_uri", "code_verifier") if not form.get(f)]
            if missing:
                return _oauth_error("invalid_request", f"Missing {', '.join(missing)}.")
            issued = await grants.redeem_code(
                gw.store,
                code=form["code"],
                client_id=client.client_id,
                redirect_uri=form["redirect_uri"],
                verifier=form["code_verifier"],
                resource=form.get("resource"),
                access_seconds=seconds,
            )
        elif grant_type == "refresh_token":
            if not form.get("refresh_token"):
                return _oauth_error("invalid_request", "Missing refresh_token.")
            issued = await grants.refresh(
                gw.store,
                token=form["refresh_token"],
                client_id=client.client_id,
                resource=form.get("resource"),
                access_seconds=seconds,
            )
        else:
            return _oauth_error(
                "unsupported_grant_type", "Use authorization_code or refresh_token."
            )
    except ClientError as exc:
        return _oauth_error(exc.error, exc.description, 401)
    except grants.GrantError as exc:
        return _oauth_error(exc.error, exc.description)
    except StoreUnavailable:
        return _oauth_error("temporarily_unavailable", "The store is unavailable.", 503)
    return JSONResponse(issued.response(), headers=NO_STORE)


async def registration(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    body = await request.body()
    if len(body) > MAX_BODY:
        return _oauth_error("invalid_client_metadata", "The registration is over 16 KiB.")
    try:
        answer = await register(gw.store, body)
    except ClientError as exc:
        return _oauth_error(exc.error, exc.description)
    except StoreUnavailable:
        return _oauth_error("temporarily_unavailable", "The store is unavailable.", 503)
    return JSONResponse(answer, 201, headers=NO_STORE)


async def revocation(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    form = await read_form(request)
    if form is None or not form.get("token"):
        return _oauth_error("invalid_request", "Send the token, form-encoded.")
    try:
        client = await _client(gw, request, form)
        await grants.revoke(gw.store, form["token"], client.client_id)
    except ClientError as exc:
        return _oauth_error(exc.error, exc.description, 401)
    except StoreUnavailable:
        return _oauth_error("temporarily_unavailable", "The store is unavailable.", 503)
    return Response(status_code=200, headers=NO_STORE)


def routes() -> list[BaseRoute]:
    return [
        Route(WELL_KNOWN_SERVER, authorization_server, methods=["GET"]),
        Route(WELL_KNOWN_SERVER + "/{rest:path}", authorization_server, methods=["GET"]),
        Route(WELL_KNOWN_RESOURCE + "/{rest:path}", protected_resource, methods=["GET"]),
        Route(AUTHORIZE, consent.authorize_get, methods=["GET"]),
        Route(AUTHORIZE, consent.authorize_post, methods=["POST"]),
        Route(TOKEN, token, methods=["POST"]),
        Route(REGISTER, registration, methods=["POST"]),
        Route(REVOKE, revocation, methods=["POST"]),
    ]
