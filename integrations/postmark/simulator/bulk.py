"""Bulk sends: one message definition for many recipients (POST /email/bulk), and the
request's status (GET /email/bulk/{id}).

Each entry of `Messages` becomes a sent message, its content personalised with the entry's
TemplateModel as Postmark's bulk docs describe (`"Subject": "Hello {{FirstName}}"`), or
rendered from the stored template the request names, with its layout, as a templated send
is. The POST answers Accepted, as Postmark's does; the simulator then delivers at once, so
the status reads Completed at 100 % from the start. Postmark releases a large request over
time, which no test of an agent should have to wait for.
"""

from __future__ import annotations

import uuid
from typing import Any

from .. import mustachio
from .call import ApiError, Call, get, has, json_object, now
from .routing import route
from .sending import (
    Content,
    check_from,
    check_recipients,
    deliverable,
    record_sent,
    render_templated,
    resolve_template,
    send_stream,
    split_addresses,
)

_SHARED = ("From", "Tag", "TrackOpens", "TrackLinks")  # request fields every message has


def _render_inline(body: dict[str, Any], model: dict[str, Any]) -> tuple[Content, str]:
    """The request's own Subject and bodies with one entry's model; why it failed, or ""."""
    try:
        rendered = [
            mustachio.render(mustachio.parse(get(body, name)), model, escape=escape)
            for name, escape in (("Subject", False), ("HtmlBody", True), ("TextBody", False))
        ]
    except mustachio.RenderError as exc:
        return (str(get(body, "Subject") or ""), "", ""), str(exc)
    return (rendered[0], rendered[1], rendered[2]), ""


def _deliver(
    call: Call,
    body: dict[str, Any],
    item: dict[str, Any],
    stream: str,
    template: dict[str, Any] | None,
) -> None:
    """Record one entry of `Messages` as sent, to those of its recipients who are active."""
    msg = {name: get(body, name) for name in _SHARED}
    msg.update({name: get(item, name) for name in ("To", "Cc", "Bcc")})
    shared, own = get(body, "Metadata"), get(item, "Metadata")
    msg["Metadata"] = {
        **(shared if isinstance(shared, dict) else {}),
        **(own if isinstance(own, dict) else {}),
    }
    recipients = [
        a for name in ("To", "Cc", "Bcc") for a in split_addresses(str(get(item, name) or ""))
    ]
    try:
        recipients, _ = deliverable(call.state, stream, recipients)
    except ApiError:
        return  # every recipient inactive: Postmark delivers this one to no one
    if not recipients:
        return
    model = get(item, "TemplateModel")
    model = model if isinstance(model, dict) else {}
    if template is not None:
        content, failed = render_templated(call.state, template, model)
    else:
        content, failed = _render_inline(body, model)
    record_sent(call.state, msg, stream, recipients, content, failed, (str(uuid.uuid4()), now()))


def _send_bulk(call: Call) -> Any:
    body = json_object(call.body)
    check_recipients(body, need_to=False)
    stream = send_stream(call.state, body)
    check_from(call, body)
    messages = get(body, "Messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(300, "'Messages' must be a non-empty list of recipients.")
    for item in messages:
        if not isinstance(item, dict) or not get(item, "To"):
            raise ApiError(300, "Every entry of 'Messages' needs a 'To' address.")
    template = None
    if has(body, "TemplateId") or has(body, "TemplateAlias"):
        template = resolve_template(call.state, body)
        subject = template["Subject"]
    else:
        subject = get(body, "Subject")
        if not subject or not (get(body, "HtmlBody") or get(body, "TextBody")):
            raise ApiError(300, "Provide a Subject and HtmlBody or TextBody, or a template.")
    bulk_id, at = str(uuid.uuid4()), now()
    if not call.test_mode:
        for item in messages:
            _deliver(call, body, item, stream, template)
    call.state.bulk[bulk_id] = {
        "Id": bulk_id,
        "SubmittedAt": at,
        "TotalMessages": len(messages),
        "PercentageCompleted": 100.0,
        "Status": "Completed",
        "Subject": subject,
    }
    return {"ID": bulk_id, "Status": "Accepted", "SubmittedAt": at}


def _bulk_status(call: Call) -> Any:
    wanted = call.params["bulkRequestId"].lower()
    for bulk_id, status in call.state.bulk.items():
        if bulk_id.lower() == wanted:
            return status
    raise ApiError(12, "The bulk request was not found.", status=404)


ROUTES = (
    route("POST", "/email/bulk", _send_bulk, sending=True),
    route("GET", "/email/bulk/{bulkRequestId}", _bulk_status),
)
