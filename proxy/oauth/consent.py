"""`/oauth/authorize`: the page where a person signs a client in to one MCP server.

The page names the server, its account, the tools it grants, when it expires and which
client asks; the person proves they may grant it with one of the server's API tokens.
It is a plain HTML form: no script, no cookie, no session. Every parameter of the
authorization request travels in the form and is checked again on the POST, so any
instance can answer either half, and there is no session state to forge.

A request whose client or redirect URI cannot be trusted gets an error page and never a
redirect (RFC 6749 4.1.2.1); once both are known good, errors go back to the client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..errors import ClientRedirect, PageError
from ..pages import PAGE, escape, page_headers, same_origin
from ..secrets import SecretKeyError
from ..store import StoreUnavailable, utcnow
from ..tokens import hash_token
from .clients import Client, ClientError
from .forms import read_form
from .grants import issue_code
from .metadata import AUTHORIZE

if TYPE_CHECKING:
    from ..gateway import Gateway, Live

PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
    "scope",
)
MAX_PARAM = 4096
WRITE_MARK = ' <span class="write">write</span>'
_CSP_SOURCE = re.compile(r"[a-z][a-z0-9+.-]*:(//([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\])(:[0-9]+)?)?")


@dataclass(frozen=True, slots=True)
class AuthRequest:
    client: Client
    redirect_uri: str
    state: str | None
    code_challenge: str
    resource: str
    live: Live
    params: dict[str, str]


def _with_query(uri: str, values: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def _redirect_error(
    uri: str, state: str | None, issuer: str, error: str, description: str
) -> ClientRedirect:
    return ClientRedirect(
        _with_query(
            uri, {"error": error, "error_description": description, "state": state, "iss": issuer}
        )
    )


async def check_request(gw: Gateway, params: dict[str, str]) -> AuthRequest:
    """The authorization request, checked: PageError or ClientRedirect when it is wrong."""
    issuer = gw.settings.public_url
    if any(len(v) > MAX_PARAM for v in params.values()):
        raise PageError("Request too large", "A parameter of this sign-in request is too long.")
    client_id = params.get("client_id", "")
    try:
        client = await gw.oauth_clients.find(client_id)
    except ClientError as exc:
        raise PageError("Unknown client", exc.description) from None
    if client is None:
        raise PageError(
            "Unknown client",
            "No client is registered with this client_id. The app asking to sign in must "
            "register with yamcp first; start again from the app.",
        )
    redirect_uri = params.get("redirect_uri") or (
        client.redirect_uris[0] if len(client.redirect_uris) == 1 else ""
    )
    if redirect_uri not in client.redirect_uris:
        raise PageError(
            "Redirect mismatch",
            "The redirect_uri is not one this client registered, so yamcp will not send "
            "anything there.",
        )
    state = params.get("state")

    def fail(error: str, description: str) -> ClientRedirect:
        return _redirect_error(redirect_uri, state, issuer, error, description)

    if params.get("response_type") != "code":
        raise fail("unsupported_response_type", "Only response_type=code is supported.")
    challenge = params.get("code_challenge", "")
    if params.get("code_challenge_method") != "S256" or not 43 <= len(challenge) <= 128:
        raise fail("invalid_request", "PKCE is required: code_challenge with method S256.")
    resource = params.get("resource", "")
    prefix = f"{issuer}/mcp/"
    if not resource.startswith(prefix):
        raise fail("invalid_target", "resource must be the URL of a yamcp MCP server.")
    try:
        live = await gw.live(resource[len(prefix) :])
    except (StoreUnavailable, SecretKeyError):
        raise PageError(
            "Try again shortly", "yamcp cannot reach its store right now.", 503
        ) from None
    if live is None:
        raise PageError(
            "No such MCP server",
            "This MCP server URL is unknown, revoked or expired. Ask for a new one.",
            404,
        )
    if not live.served.effective.require_api_token_auth:
        raise PageError(
            "No sign-in needed",
            "This MCP server does not ask for sign-in: connect to its URL with no authentication.",
        )
    if client.accounts and live.account.id not in client.accounts:
        raise PageError(
            "Not for this account",
            f"The client {client.label!r} is configured for other accounts' servers only.",
            403,
        )
    kept = {k: params[k] for k in PARAMS if params.get(k)}
    kept["redirect_uri"] = redirect_uri
    return AuthRequest(client, redirect_uri, state, challenge, resource, live, kept)


# --- the page ---


def _redirect_source(uri: str) -> str:
    """The CSP source that lets the form's answer redirect to the client: Chromium holds
    a redirect after a form post to `form-action` too. Only a plain origin is written
    into the header; anything else (a `;` would start a new directive) is left out."""
    parts = urlsplit(uri)
    source = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    return f" {source}" if _CSP_SOURCE.fullmatch(source) else ""


def error_page(error: PageError) -> Response:
    body = f'<h1>{escape(error.title)}</h1>\n<p class="error">{escape(error.message)}</p>'
    return HTMLResponse(
        PAGE.format(title=escape(error.title), body=body), error.status, headers=page_headers()
    )


def consent_page(request: AuthRequest, problem: str = "", status: int = 200) -> Response:
    live = request.live
    tools = live.served.view.tools
    reads = sorted(n for n, t in tools.items() if t.access == "read")
    writes = sorted(n for n, t in tools.items() if t.access != "read")
    expires = live.expires_at.strftime("%Y-%m-%d %H:%M UTC") if live.expires_at else "never"
    target = urlsplit(request.redirect_uri)
    where = target.netloc or f"{target.scheme}:"
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in request.params.items()
    )
    listing = "".join(
        f"<li><code>{escape(n)}</code>{WRITE_MARK if n in writes else ''}</li>"
        for n in [*writes, *reads]
    )
    alert = f'<p class="error" role="alert">{escape(problem)}</p>' if problem else ""
    body = f"""<h1>Sign in to an MCP server</h1>
<p class="client"><strong>{escape(request.client.label)}</strong> asks to use this MCP server
on your behalf, and will receive access at <strong>{escape(where)}</strong>.</p>
<dl>
<dt>Server</dt><dd>{escape(live.record.name)}</dd>
<dt>Account</dt><dd>{escape(live.account.id)} ({escape(live.served.view.name)})</dd>
<dt>Expires</dt><dd>{escape(expires)}</dd>
<dt>Tools</dt><dd>{len(tools)}: {len(writes)} that change things, {len(reads)} that read</dd>
</dl>
<details><summary>The tools it grants</summary><ul class="tools">{listing}</ul></details>
{alert}
<form method="post" action="{AUTHORIZE}">
{hidden}
<label for="api_token">API token of this server</label>
<input id="api_token" name="api_token" type="password" autocomplete="off" spellcheck="false"
 required>
<p class="hint">The token the server's owner created with <code>yamcp api-token</code> or the
admin page. yamcp checks it and never shows it again.</p>
<div class="buttons">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" formnovalidate class="deny">Deny</button>
</div>
</form>"""
    return HTMLResponse(
        PAGE.format(title="Sign in", body=body),
        status,
        headers=page_headers(_redirect_source(request.redirect_uri)),
    )


# --- the handlers ---


async def authorize_get(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    params = {k: v for k, v in request.query_params.items() if k in PARAMS}
    try:
        checked = await check_request(gw, params)
    except PageError as exc:
        return error_page(exc)
    except ClientRedirect as exc:
        return RedirectResponse(exc.location, 303, headers={"cache-control": "no-store"})
    return consent_page(checked)


async def authorize_post(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    if not same_origin(request, gw.settings.public_url):
        return error_page(
            PageError("Refused", "This form may only be sent from yamcp's own page.", 403)
        )
    fields = await read_form(request)
    if fields is None:
        return error_page(PageError("Refused", "Send the form as the page does."))
    params = {k: v for k, v in fields.items() if k in PARAMS}
    try:
        checked = await check_request(gw, params)
    except PageError as exc:
        return error_page(exc)
    except ClientRedirect as exc:
        return RedirectResponse(exc.location, 303)
    issuer = gw.settings.public_url
    if fields.get("decision") != "approve":
        return RedirectResponse(
            _with_query(
                checked.redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The person declined.",
                    "state": checked.state,
                    "iss": issuer,
                },
            ),
            303,
        )
    record = checked.live.record
    keys = (f"server:{record.id}", f"client:{checked.client.client_id}")
    wait = gw.oauth_failures.wait(*keys)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        return consent_page(
            checked,
            f"Too many wrong API tokens for this server. Try again in {minutes} minute(s).",
            429,
        )
    api_token = fields.get("api_token", "").strip()
    try:
        token_id = (
            await gw.store.api_token_id(record.id, hash_token(api_token)) if api_token else None
        )
        if token_id is None:
            gw.oauth_failures.add(*keys)
            return consent_page(checked, "That is not an API token of this server.", 400)
        settings = gw.settings
        until = utcnow() + timedelta(seconds=settings.oauth_refresh_token_seconds)
        if checked.live.expires_at is not None:
            until = min(until, checked.live.expires_at)
        code = await issue_code(
            gw.store,
            client_id=checked.client.client_id,
            redirect_uri=checked.redirect_uri,
            code_challenge=checked.code_challenge,
            server_id=record.id,
            api_token_id=token_id,
            resource=checked.resource,
            expires_at=until,
        )
    except StoreUnavailable:
        return error_page(PageError("Try again shortly", "yamcp cannot reach its store.", 503))
    location = _with_query(
        checked.redirect_uri, {"code": code, "state": checked.state, "iss": issuer}
    )
    return RedirectResponse(location, 303, headers={"cache-control": "no-store"})
