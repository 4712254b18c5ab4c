"""Sending: one message, a batch, and templated ones (bulk requests are bulk.py's).

A send is validated as Postmark validates it, then recorded among the outbound messages
under the MessageID it answers (unless sent with the POSTMARK_API_TEST token). A templated
send renders its template and the template's layout by Mustachio's rules (mustachio.py);
one that fails to render is accepted, then bounces with the type TemplateRenderingFailed,
as Postmark reports it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from .. import mustachio
from . import records
from .call import EMAIL, ApiError, Call, get, json_object, now
from .routing import route
from .senders import check_sender
from .state import PostmarkState
from .suppressions import inactive_recipients


def split_addresses(value: str) -> list[str]:
    """Addresses from a Postmark recipient field: comma-separated, `Name <addr>` allowed."""
    parts, buf, quoted = [], "", False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    addresses = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        match = re.search(r"<([^<>]*)>\s*$", part)
        addresses.append(match.group(1).strip() if match else part)
    return addresses


def send_stream(state: PostmarkState, msg: dict[str, Any]) -> str:
    stream_id = get(msg, "MessageStream") or "outbound"
    stream = state.stream(str(stream_id))
    if stream is None or stream["ArchivedAt"] is not None:
        raise ApiError(1235, f"The stream provided: '{stream_id}' does not exist on this server.")
    if stream["MessageStreamType"] == "Inbound":
        raise ApiError(
            1236,
            f"Sending is not supported on the '{stream['ID']}' stream: it is an Inbound stream.",
        )
    return str(stream["ID"])


def check_from(call: Call, msg: dict[str, Any]) -> None:
    if call.test_mode:  # the test token is no account's: it has no signatures to check
        return
    sender = str(get(msg, "From"))
    check_sender(call.state, sender, split_addresses(sender)[0])


def check_recipients(msg: dict[str, Any], *, need_to: bool = True) -> list[str]:
    sender = get(msg, "From")
    if not isinstance(sender, str) or not sender.strip():
        raise ApiError(300, "Invalid 'From' address: a sender address is required.")
    if not all(EMAIL.match(a) for a in split_addresses(sender)):
        raise ApiError(300, f"Invalid 'From' address: '{sender}'.")
    recipients: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        value = get(msg, name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise ApiError(300, f"Invalid '{name}' address: it must be a string.")
        for address in split_addresses(value):
            if not EMAIL.match(address):
                raise ApiError(300, f"Invalid '{name}' address: '{address}'.")
            recipients.append(address)
    if need_to and not split_addresses(str(get(msg, "To") or "")):
        raise ApiError(300, "Zero recipients specified")
    if len(recipients) > 50:
        raise ApiError(
            300,
            f"You may not send to more than 50 recipients (To, Cc and Bcc); "
            f"this message has {len(recipients)}.",
        )
    return recipients


_INACTIVE_WHY = (
    "Inactive recipients are ones that have generated a hard bounce, a spam complaint, "
    "or a manual suppression."
)


def deliverable(state: PostmarkState, stream: str, recipients: list[str]) -> tuple[list[str], str]:
    """The recipients Postmark delivers to, and the send's answer Message. Postmark refuses
    a message only when every recipient is inactive (ErrorCode 406); otherwise it accepts it
    for the others and its "OK" names the ones it skips."""
    inactive = inactive_recipients(state, stream, recipients)
    if not inactive:
        return recipients, "OK"
    names = ", ".join(inactive)
    active = [a for a in recipients if a.lower() not in inactive]
    if not active:
        raise ApiError(
            406,
            "You tried to send to recipient(s) that have been marked as inactive. "
            f"Found inactive addresses: {names}. {_INACTIVE_WHY}",
        )
    return active, (
        f"Message OK, but will not deliver to these inactive addresses: {names}. {_INACTIVE_WHY}"
    )


def resolve_template(state: PostmarkState, msg: dict[str, Any]) -> dict[str, Any]:
    tid, alias = get(msg, "TemplateId"), get(msg, "TemplateAlias")
    if tid is None and not alias:
        raise ApiError(1101, "A 'TemplateId' or 'TemplateAlias' must be provided.")
    if tid is not None and alias:
        raise ApiError(1101, "Provide either 'TemplateId' or 'TemplateAlias', not both.")
    key = "TemplateId" if tid is not None else "TemplateAlias"
    template = state.template(str(tid if tid is not None else alias))
    if template is None or template["TemplateType"] != "Standard" or not template["Active"]:
        raise ApiError(
            1101, f"The '{key}' associated with this request is not valid or was not found."
        )
    return template


def render_template(
    state: PostmarkState, template: dict[str, Any], model: dict[str, Any]
) -> tuple[str, str, str]:
    parts = [mustachio.parse(template[p], strict=True) for p in ("Subject", "HtmlBody", "TextBody")]
    layout = state.template(template["LayoutTemplate"] or "")
    if layout is not None and layout["TemplateType"] == "Layout":
        # the content's tokens go in at {{{@content}}}, reading the scope around it
        for index, part in ((1, "HtmlBody"), (2, "TextBody")):
            outer = mustachio.parse(layout[part], strict=True)
            parts[index] = mustachio.with_layout(outer, parts[index])
    subject, html_body, text_body = (
        mustachio.render(tags, model, escape=index == 1) for index, tags in enumerate(parts)
    )
    return subject, html_body, text_body


Content = tuple[str, str, str]  # a sent message's Subject, HtmlBody and TextBody


def render_templated(
    state: PostmarkState, template: dict[str, Any], model: dict[str, Any]
) -> tuple[Content, str]:
    """What a templated send renders, and why it failed to render ("" when it did not):
    Postmark accepts a send that fails to render, then bounces it."""
    try:
        return render_template(state, template, model), ""
    except mustachio.RenderError as exc:
        return (str(template["Subject"] or ""), "", ""), str(exc)


def record_sent(
    state: PostmarkState,
    msg: dict[str, Any],
    stream: str,
    recipients: list[str],
    content: Content,
    failed: str,
    answered: tuple[str, str],
) -> None:
    """List a message among the outbound ones under the (MessageID, SubmittedAt) it was
    answered with; one that failed to render bounces for each recipient."""
    subject, html_body, text_body = content
    to = split_addresses(str(get(msg, "To")))
    sent = records.outbound(
        answered[0],
        to[0],
        subject,
        str(get(msg, "Tag") or ""),
        answered[1],
        stream=stream,
        sender=str(get(msg, "From")),
        metadata=get(msg, "Metadata") or {},
    )
    sent.update(
        To=[{"Email": a, "Name": None} for a in to],
        Recipients=recipients,
        Status="Sent",
        Cc=[{"Email": a, "Name": None} for a in split_addresses(str(get(msg, "Cc") or ""))],
        Bcc=[{"Email": a, "Name": None} for a in split_addresses(str(get(msg, "Bcc") or ""))],
        TextBody=text_body or "",
        HtmlBody=html_body or "",
        TrackOpens=bool(get(msg, "TrackOpens", False)),
        TrackLinks=get(msg, "TrackLinks") or "None",
    )
    state.outbound.insert(0, sent)
    if failed:
        bounce_rendering(state, sent, failed)


def _send_one(call: Call, msg: Any, *, templated: bool) -> dict[str, Any]:
    """Validate one message like Postmark, record it as sent, and answer its send result."""
    if not isinstance(msg, dict):
        raise ApiError(403, "Incompatible JSON: a message must be a JSON object.")
    failed = ""  # why the template did not render: accepted, then bounced, as Postmark does
    recipients = check_recipients(msg)
    stream = send_stream(call.state, msg)
    check_from(call, msg)
    if templated:
        template = resolve_template(call.state, msg)
        model = get(msg, "TemplateModel")
        if not isinstance(model, dict):
            raise ApiError(1120, "The 'TemplateModel' field is required and must be an object.")
        content, failed = render_templated(call.state, template, model)
    else:
        html_body, text_body = get(msg, "HtmlBody"), get(msg, "TextBody")
        if not html_body and not text_body:
            raise ApiError(300, "Provide either email TextBody or HtmlBody or both.")
        content = (str(get(msg, "Subject") or ""), html_body, text_body)
    message = "OK"
    if not call.test_mode:  # the test token is no server's: it has no suppressions to check
        recipients, message = deliverable(call.state, stream, recipients)
    result = {
        "To": get(msg, "To"),
        "SubmittedAt": now(),
        "MessageID": str(uuid.uuid4()),
        "ErrorCode": 0,
        "Message": message,
    }
    if not call.test_mode:
        answered = (result["MessageID"], result["SubmittedAt"])
        record_sent(call.state, msg, stream, recipients, content, failed, answered)
    return result


def bounce_rendering(state: PostmarkState, sent: dict[str, Any], reason: str) -> None:
    """Postmark accepts a templated send that fails to render, then reports a bounce of the
    type TemplateRenderingFailed for each recipient."""
    for address in sent["Recipients"]:
        bid = state.new_id("bounce", max(b["ID"] for b in state.bounces))
        bounce = records.bounce(
            bid,
            "TemplateRenderingFailed",
            address,
            details=f"Template rendering failed: {reason}",
            at=sent["ReceivedAt"],
            inactive=False,
            can_activate=False,
            dump=False,
            tag=sent["Tag"],
            message_id=sent["MessageID"],
            stream=sent["MessageStream"],
            sender=sent["From"],
            subject=sent["Subject"],
        )
        state.bounces.insert(0, bounce)
        sent["MessageEvents"].append(
            records.event(
                "Bounced",
                address,
                sent["ReceivedAt"],
                BounceID=str(bid),
                Summary="Template rendering failed",
            )
        )


def _send_email(call: Call) -> Any:
    return _send_one(call, json_object(call.body), templated=False)


def _send_with_template(call: Call) -> Any:
    return _send_one(call, json_object(call.body), templated=True)


def _batch(call: Call, messages: Any, *, templated: bool) -> list[dict[str, Any]]:
    """HTTP 200 with one result per message: failures carry only ErrorCode and Message."""
    if len(messages) > 500:
        raise ApiError(410, f"Too many batch messages: at most 500, got {len(messages)}.")
    results = []
    for msg in messages:
        try:
            results.append(_send_one(call, msg, templated=templated))
        except ApiError as exc:
            results.append({"ErrorCode": exc.code, "Message": exc.message})
    return results


def _send_batch(call: Call) -> Any:
    if not isinstance(call.body, list):
        raise ApiError(403, "Incompatible JSON: the batch body must be a JSON array of messages.")
    return _batch(call, call.body, templated=False)


def _send_batch_with_templates(call: Call) -> Any:
    messages = get(json_object(call.body), "Messages")
    if not isinstance(messages, list):
        raise ApiError(403, 'Incompatible JSON: the body must be {"Messages": [...]}.')
    return _batch(call, messages, templated=True)


ROUTES = (
    route("POST", "/email", _send_email, sending=True),
    route("POST", "/email/withTemplate", _send_with_template, sending=True),
    route("POST", "/email/batch", _send_batch, sending=True),
    route("POST", "/email/batchWithTemplates", _send_batch_with_templates, sending=True),
)
