"""`/approve/{id}`: the page where a person reviews one request and approves or denies it.

It shows the request exactly as it will be sent: what an integration's `preview` hook
says (labelled fields, rendered bodies, attachments: for an email, its addresses, subject
and stream); for anything else the tool, its description, the upstream method and path,
and the arguments. The link alone does not approve: the form
asks for the admin token or an API token of that server, which the agent never has.

The rendered HTML body is served on its own address (`/approve/{id}/html`) into a
sandboxed frame, under a policy that lets it show its own styles and nothing else: no
script, no image fetched from elsewhere (a tracking pixel does not fire on review).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from .approvals import PAGE_PREFIX, decide, decider
from .oauth.failures import Failures
from .oauth.forms import read_form
from .pages import PAGE, escape, page_headers, same_origin
from .store import ApprovalRecord, StoreUnavailable

if TYPE_CHECKING:
    from .gateway import Gateway

FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'self'; sandbox"
)
_failures = Failures()


def _page(title: str, body: str, status: int = 200, frame: bool = False) -> Response:
    headers = page_headers()
    if frame:  # the rendered body, from this origin only
        headers["content-security-policy"] += "; frame-src 'self'"
    return HTMLResponse(PAGE.format(title=escape(title), body=body), status, headers=headers)


def _not_found() -> Response:
    body = (
        '<h1>No such request</h1>\n<p class="error">This approval link is unknown or was '
        "removed with its server.</p>"
    )
    return _page("No such request", body, 404)


def _preview(preview: dict[str, Any], approval_id: str) -> str:
    """A `preview` hook's answer: `fields` ([label, value] pairs), `html` and `text`
    bodies, `attachments` ([{name, size}]); every part optional."""
    rows = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>"
        for label, value in preview.get("fields") or []
        if value
    )
    parts = [f"<dl>{rows}</dl>"]
    if preview.get("html"):
        parts.append(
            f'<h2>HTML body</h2><iframe class="mail" sandbox title="The HTML body, rendered" '
            f'src="{PAGE_PREFIX}{escape(approval_id)}/html"></iframe>'
        )
    if preview.get("text"):
        parts.append(f'<h2>Text body</h2><pre class="mail">{escape(preview["text"])}</pre>')
    attachments = preview.get("attachments") or []
    if attachments:
        items = "".join(
            f"<li>{escape(a.get('name', '?'))} ({escape(a.get('size', '?'))} bytes)</li>"
            for a in attachments
        )
        parts.append(f"<h2>Attachments</h2><ul>{items}</ul>")
    return "\n".join(parts)


def review_page(
    gw: Gateway, record: ApprovalRecord, problem: str = "", status: int = 200
) -> Response:
    tool = None
    for integration in gw.registry.integrations.values():
        tool = integration.tools.get(record.tool) or tool
    kept = record.arguments
    request, arguments = kept.get("request", {}), kept.get("arguments", {})
    preview = request.get("preview")
    state = record.status
    decided = ""
    if state != "pending":
        by = f" by {escape(record.decided_by)}" if record.decided_by else ""
        note = f" Note: {escape(record.note)}" if record.note else ""
        decided = f'<p class="error" role="status">This request is {escape(state)}{by}.{note}</p>'
    shown = (
        _preview(preview, record.id)
        if isinstance(preview, dict)
        else f"<pre>{escape(orjson.dumps(arguments, option=orjson.OPT_INDENT_2).decode())}</pre>"
    )
    description = escape(tool.definition["description"]) if tool is not None else ""
    alert = f'<p class="error" role="alert">{escape(problem)}</p>' if problem else ""
    form = ""
    if state == "pending":
        form = f"""<form method="post" action="{PAGE_PREFIX}{escape(record.id)}">
<label for="credential">Admin token, or an API token of this server</label>
<input id="credential" name="credential" type="password" autocomplete="off" spellcheck="false"
 required>
<label for="note">Note for the agent (optional)</label>
<input id="note" name="note" type="text" maxlength="500">
<div class="buttons">
<button type="submit" name="decision" value="approve">Approve and allow one send</button>
<button type="submit" name="decision" value="deny" class="deny">Deny</button>
</div>
</form>"""
    body = f"""<h1>Approve a request</h1>
<p>An agent asks to run <code>{escape(record.tool)}</code> on account
<strong>{escape(record.account)}</strong>. Nothing has been sent. Approving lets the agent's
next identical call go out once.</p>
<p class="hint">{description}</p>
<dl>
<dt>Request</dt><dd><code>{escape(request.get("method", ""))} {escape(request.get("path", ""))}
</code></dd>
<dt>Asked</dt><dd>{escape(record.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"))}</dd>
<dt>Waits until</dt><dd>{escape(record.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC"))}</dd>
</dl>
{decided}
{shown}
{alert}
{form}"""
    return _page(f"Approve {record.tool}", body, status, frame=isinstance(preview, dict))


async def review(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    try:
        record = await gw.store.get_approval(request.path_params["approval_id"])
    except StoreUnavailable:
        return _page("Try again shortly", "<h1>Try again shortly</h1>", 503)
    return review_page(gw, record) if record is not None else _not_found()


async def rendered(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    record = await gw.store.get_approval(request.path_params["approval_id"])
    preview = record.arguments.get("request", {}).get("preview") if record else None
    if not isinstance(preview, dict) or not preview.get("html"):
        return Response(status_code=404)
    headers = {
        "content-security-policy": FRAME_CSP,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
    }
    return HTMLResponse(str(preview["html"]), headers=headers)


async def decide_here(request: Request) -> Response:
    gw: Gateway = request.app.state.gateway
    if not same_origin(request, gw.settings.public_url):
        return _page(
            "Refused",
            '<h1>Refused</h1><p class="error">Send this form from the approval page itself.</p>',
            403,
        )
    fields = await read_form(request)
    if fields is None:
        return _page(
            "Refused", '<h1>Refused</h1><p class="error">Send the form as the page does.</p>', 400
        )
    try:
        record = await gw.store.get_approval(request.path_params["approval_id"])
        if record is None:
            return _not_found()
        if record.status != "pending":
            return review_page(gw, record, f"This request is already {record.status}.", 409)
        key = f"approval-server:{record.server_id}"
        if _failures.wait(key) > 0:
            return review_page(gw, record, "Too many wrong tokens; try again later.", 429)
        by = await decider(gw.store, record, fields.get("credential", "").strip())
        if by is None:
            _failures.add(key)
            return review_page(
                gw,
                record,
                "That is neither the admin token nor an API token of this server.",
                401,
            )
        approve = fields.get("decision") == "approve"
        decided = await decide(gw.store, record.id, approve, by, fields.get("note"))
    except StoreUnavailable:
        return _page("Try again shortly", "<h1>Try again shortly</h1>", 503)
    if decided is None:
        fresh = await gw.store.get_approval(record.id)
        return review_page(gw, fresh or record, "Someone decided first.", 409)
    return review_page(gw, decided)


def routes() -> list[BaseRoute]:
    return [
        Route(PAGE_PREFIX + "{approval_id}", review, methods=["GET"]),
        Route(PAGE_PREFIX + "{approval_id}", decide_here, methods=["POST"]),
        Route(PAGE_PREFIX + "{approval_id}/html", rendered, methods=["GET"]),
    ]
