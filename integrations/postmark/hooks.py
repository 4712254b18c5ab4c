"""Postmark checks a manifest cannot declare: stream types and template models.

Named by `checks:` and `transform:` in the manifest; the engine calls them with a
context that can run this integration's own read tools (results cached briefly).

* A transactional send tool refuses a stream that is not Transactional, and a broadcast
  one (the broadcast and bulk tools) a stream that is not Broadcasts, message by message in
  a batch: the tool's name states the intent, and the check holds it. Streams are looked up
  once a minute per account.
* Only Postmark's "not found" (422 with ErrorCode 1226 or 1101) makes a lookup say a stream
  or template does not exist; any other failure ends the call as the lookup ended.
* A templated send refuses a TemplateModel that its template (in its layout) would render
  blank or fail to render with, by Mustachio's rules (mustachio.py); a bulk send, each
  recipient's, against its template or its own templated Subject and bodies.
* Under a recipient constraint (`email_domains`), a send refuses To/Cc/Bcc (and Resent-*)
  given as custom `Headers`, where the constraint would not see them, and header names or
  values that could inject another header.
"""

from __future__ import annotations

import re
from typing import Any

from proxy.errors import HookRefused
from proxy.hooks import HookContext, LookupFailed

from . import mustachio

LOOKUP_TTL = 60.0

# --- message streams -----------------------------------------------------------------


# Postmark's "not found" answers to the lookups (HTTP 422 with this ErrorCode); any other
# failure is not evidence that the stream or template is missing, and says what it was.
STREAM_NOT_FOUND = 1226
TEMPLATE_NOT_FOUND = 1101
# What Postmark answers a send on a stream that does not exist, or one it cannot send on
# (an Inbound stream): a refusal carries the code the agent would have had from Postmark.
SEND_STREAM_MISSING = 1235
SEND_STREAM_CANNOT_SEND = 1236

TRANSACTIONAL_TOOLS = (
    "create_a_postmark_email, create_a_postmark_templated_email or their batch tools"
)
BROADCAST_TOOLS = (
    "create_a_postmark_broadcast_email, create_a_postmark_templated_broadcast_email, their "
    "batch tools, or create_a_postmark_bulk_email (one message to many recipients)"
)


class Missing(HookRefused):
    """A stream or template the call names is not on the server; the message says which,
    and `code` is Postmark's answer to a send naming it."""


async def _lookup(
    ctx: HookContext,
    key: tuple,
    tool: str,
    arguments: dict[str, Any],
    missing: str,
    not_found: int,
    send_code: int,
) -> dict[str, Any]:
    """A read tool's result, cached a minute per account. Fails closed: Postmark's own
    "not found" raises Missing with `missing` and `send_code`, what Postmark answers a send
    naming it; any other failure ends the call as the lookup
    ended (a 429 is the caller's 429), saying nothing was sent."""

    async def load() -> dict[str, Any]:
        try:
            return await ctx.call(tool, arguments)
        except LookupFailed as exc:
            if exc.status == 422 and exc.code == not_found:
                raise Missing(missing, code=send_code) from None
            what = f"{key[0]} {key[1]!r}"
            if exc.status == 401:
                raise LookupFailed(
                    f"Postmark refused this account's credentials (HTTP 401, ErrorCode "
                    f"{exc.code}) when yamcp looked up {what} before sending; the account's "
                    "server_token is wrong or was revoked.",
                    exc.outcome,
                ) from None
            raise LookupFailed(
                f"yamcp could not look up {what} before sending: {exc}", exc.outcome
            ) from None

    return await ctx.cached(key, LOOKUP_TTL, load)


async def _stream_type(ctx: HookContext, stream: str) -> str:
    """The stream's type; Missing, with Postmark's ErrorCode 1235, when there is none."""
    found = await _lookup(
        ctx,
        ("stream", stream),
        "get_single_postmark_message_stream_by_id",
        {"id": stream},
        f"MessageStream {stream!r} is not on this server (Postmark answers ErrorCode "
        f"{SEND_STREAM_MISSING}: \"The stream provided: '{stream}' does not exist on this "
        'server."); list_all_postmark_message_streams shows the streams.',
        STREAM_NOT_FOUND,
        SEND_STREAM_MISSING,
    )
    return str(found.get("MessageStreamType", ""))


def _messages(arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """The single message, or every message of a batch."""
    batch = arguments.get("Messages")
    return batch if isinstance(batch, list) else [arguments]


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "AEIOU" else f"a {kind}"


def _wrong_stream(stream: str, kind: str, want: str) -> HookRefused | None:
    """Why a send meant for `want` streams cannot go on `stream` of type `kind`, if not."""
    if kind == want:
        return None
    if kind == "Inbound":
        return HookRefused(
            f"MessageStream {stream!r} is an Inbound stream, which receives mail and sends "
            f"none (Postmark answers ErrorCode {SEND_STREAM_CANNOT_SEND}).",
            code=SEND_STREAM_CANNOT_SEND,
        )
    if want == "Transactional":
        return HookRefused(
            f"MessageStream {stream!r} is {_a(kind or 'non-transactional')} stream; this tool "
            "sends transactional mail and accepts only Transactional streams (usually "
            f'"outbound"). Broadcast (marketing) mail goes through {BROADCAST_TOOLS}, on a '
            "Broadcasts stream."
        )
    return HookRefused(
        f"MessageStream {stream!r} is {_a(kind or 'non-broadcast')} stream; this tool sends "
        "broadcast (marketing) mail and accepts only Broadcasts streams. Transactional mail "
        f"goes through {TRANSACTIONAL_TOOLS}, on a Transactional stream."
    )


async def _stream_refusal(ctx: HookContext, stream: str, want: str) -> HookRefused | None:
    try:
        return _wrong_stream(stream, await _stream_type(ctx, stream), want)
    except Missing as exc:
        return exc


def _refuse(problems: list[tuple[str, HookRefused]]) -> None:
    """One refusal naming each message (`where`) with its problem; Postmark's code when
    every problem has the same one."""
    if not problems:
        return
    codes = {exc.code for _, exc in problems}
    code = codes.pop() if len(codes) == 1 else None
    if len(problems) == 1:
        where, exc = problems[0]
        raise HookRefused(f"{where}{exc} Nothing was sent.", code=code)
    lines = "\n".join(f"- {where}{exc}" for where, exc in problems)
    raise HookRefused(f"Nothing was sent:\n{lines}", code=code)


def _streams(arguments: dict[str, Any], default: str | None) -> dict[str | None, list[str]]:
    """Each stream a call sends on (None: not named, and no default), with where the call
    names it: "" for one message or a bulk send (whose Messages are recipients, on the
    send's one stream), "Messages[i]" for each message of a batch."""
    messages = arguments.get("Messages")
    if "MessageStream" in arguments or not isinstance(messages, list):
        return {arguments.get("MessageStream") or default: [""]}
    streams: dict[str | None, list[str]] = {}
    for index, message in enumerate(messages):
        stream = message.get("MessageStream") if isinstance(message, dict) else None
        streams.setdefault(stream or default, []).append(f"Messages[{index}]")
    return streams


async def _check_streams(
    ctx: HookContext, arguments: dict[str, Any], want: str, default: str | None
) -> None:
    """Refuse a send whose messages are not all on `want` streams; a batch's refusal names
    the messages that use each stream it refuses."""
    problems = []
    streams = _streams(arguments, default)
    for stream in sorted(streams, key=lambda s: (s is None, s or "")):
        if stream is None:
            refusal: HookRefused | None = HookRefused(
                f"MessageStream is required: name {_a(want)} stream "
                "(list_all_postmark_message_streams shows them)."
            )
        else:
            refusal = await _stream_refusal(ctx, stream, want)
        if refusal is not None:
            where = ", ".join(w for w in streams[stream] if w)
            problems.append((f"{where}: " if where else "", refusal))
    _refuse(problems)


async def check_transactional_stream(ctx: HookContext, arguments: dict[str, Any]) -> None:
    """Transactional tools send on Transactional streams only ("outbound" by default)."""
    await _check_streams(ctx, arguments, "Transactional", "outbound")


async def check_broadcast_stream(ctx: HookContext, arguments: dict[str, Any]) -> None:
    """Broadcast tools send on Broadcasts streams only, each message naming its own (no
    default: a broadcast is never sent on a stream the agent did not choose)."""
    await _check_streams(ctx, arguments, "Broadcasts", None)


# --- batch results -----------------------------------------------------------------------


async def batch_summary(
    ctx: HookContext, arguments: dict[str, Any], result: dict[str, Any]
) -> dict[str, Any]:
    """Postmark's per-message answers unchanged, and a count beside them: a batch answers
    HTTP 200 even when some messages were refused (ErrorCode other than 0)."""
    answers = result.get("result")
    if not isinstance(answers, list):
        return result
    failed = [
        i for i, a in enumerate(answers) if not isinstance(a, dict) or a.get("ErrorCode") != 0
    ]
    summary = {
        "accepted": len(answers) - len(failed),
        "failed": len(failed),
        "failed_indexes": failed,
    }
    return {**result, "summary": summary}


# --- recipient headers -----------------------------------------------------------------

# Headers that name recipients: Postmark's To/Cc/Bcc fields are where a policy checks them.
RECIPIENT_HEADERS = frozenset({"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"})
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII but ':'
_UNSAFE_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")  # tab is fine


def _recipients_constrained(ctx: HookContext) -> bool:
    return any(rule.constraint.email_domains for rule in ctx.rules)


def _header_lists(arguments: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every Headers list of a call: the message's, and each batch or bulk message's."""
    found = [("Headers", arguments.get("Headers"))]
    messages = arguments.get("Messages")
    if isinstance(messages, list):
        found += [
            (f"Messages[{i}].Headers", m.get("Headers"))
            for i, m in enumerate(messages)
            if isinstance(m, dict)
        ]
    return [(where, headers) for where, headers in found if headers is not None]


async def check_recipient_headers(ctx: HookContext, arguments: dict[str, Any]) -> None:
    """When the server's policy constrains recipients, a custom header cannot add one.

    Without such a constraint Headers pass as they are.
    """
    if not _recipients_constrained(ctx):
        return
    for where, headers in _header_lists(arguments):
        if not isinstance(headers, list):
            raise HookRefused(f"{where} must be a list of {{Name, Value}}. Nothing was sent.")
        for index, header in enumerate(headers):
            at = f"{where}[{index}]"
            name = header.get("Name") if isinstance(header, dict) else None
            value = header.get("Value") if isinstance(header, dict) else None
            if not isinstance(name, str) or not isinstance(value, str):
                raise HookRefused(f"{at} needs a string Name and Value. Nothing was sent.")
            if name.strip().lower() in RECIPIENT_HEADERS:
                raise HookRefused(
                    f"{at} is a {name.strip()!r} header: this server's policy constrains "
                    "recipients, so give them in To, Cc or Bcc, where it checks them. "
                    "Nothing was sent."
                )
            if not _FIELD_NAME.fullmatch(name.strip()) or _UNSAFE_VALUE.search(value):
                raise HookRefused(
                    f"{at}: a header Name is printable ASCII without ':', and a Value has no "
                    "line breaks or control characters. Nothing was sent."
                )


# --- template models ---------------------------------------------------------------------


async def _template(ctx: HookContext, id_or_alias: str) -> dict[str, Any]:
    """A stored template; Missing, with Postmark's ErrorCode 1101, when there is none."""
    return await _lookup(
        ctx,
        ("template", id_or_alias),
        "get_single_postmark_template_by_id",
        {"id": id_or_alias},
        f"There is no template {id_or_alias!r} on this server (Postmark answers ErrorCode "
        f"{TEMPLATE_NOT_FOUND}); list_all_postmark_templates shows them.",
        TEMPLATE_NOT_FOUND,
        TEMPLATE_NOT_FOUND,
    )


async def _parts(ctx: HookContext, template: dict[str, Any]) -> list[list[mustachio.Tag]]:
    """A stored template's Subject, HtmlBody and TextBody, parsed; a body in its layout's
    body, spliced in at `{{{@content}}}` as Mustachio does, so it reads the layout's scope."""
    parts = [mustachio.parse(template.get(part)) for part in ("Subject", "HtmlBody", "TextBody")]
    layout = template.get("LayoutTemplate")
    if layout:
        outer = await _template(ctx, str(layout))
        for index, part in ((1, "HtmlBody"), (2, "TextBody")):
            parts[index] = mustachio.with_layout(mustachio.parse(outer.get(part)), parts[index])
    return parts


async def _rendered_parts(
    ctx: HookContext, message: dict[str, Any]
) -> tuple[list[list[mustachio.Tag]], str]:
    """What a message renders its TemplateModel into: its template's parts (TemplateId or
    TemplateAlias), else its own Subject, HtmlBody and TextBody (a bulk send renders those
    too); and how a problem names them."""
    ref = message.get("TemplateId", message.get("TemplateAlias"))
    if ref is None:
        return [mustachio.parse(message.get(p)) for p in ("Subject", "HtmlBody", "TextBody")], ""
    return await _parts(ctx, await _template(ctx, str(ref))), f" (template {ref!r})"


def _model_problems(
    parts: list[list[mustachio.Tag]], model: Any, where: str, about: str
) -> list[str]:
    return [
        f"{where}.{problem}{about}" for part in parts for problem in mustachio.check(part, model)
    ]


def _refuse_models(problems: list[str]) -> None:
    if problems:
        raise HookRefused(
            "TemplateModel does not fit the template: Postmark would send these blank or fail "
            "to render. Nothing was sent.\n- " + "\n- ".join(dict.fromkeys(problems)) + "\n"
            "get_single_postmark_template_model_by_id shows the model a template expects."
        )


async def check_template_model(ctx: HookContext, arguments: dict[str, Any]) -> None:
    """Refuse a templated send whose template is not there, or whose TemplateModel would
    render blank or fail to render, message by message in a batch."""
    problems, missing = [], []
    batch = "Messages" in arguments
    for index, message in enumerate(_messages(arguments)):
        try:
            parts, about = await _rendered_parts(ctx, message)
        except Missing as exc:
            missing.append((f"Messages[{index}]: " if batch else "", exc))
            continue
        where = f"Messages[{index}].TemplateModel" if batch else "TemplateModel"
        problems += _model_problems(parts, message.get("TemplateModel"), where, about)
    _refuse(missing)
    _refuse_models(problems)


async def check_bulk_template_model(ctx: HookContext, arguments: dict[str, Any]) -> None:
    """A bulk send renders its one template, or its own Subject and bodies, with each
    recipient's TemplateModel: refuse the recipients whose model would render blank or
    fail to render, as a batch's messages are."""
    parts, about = await _rendered_parts(ctx, arguments)
    problems = []
    for index, recipient in enumerate(arguments.get("Messages") or []):
        model = recipient.get("TemplateModel") if isinstance(recipient, dict) else None
        problems += _model_problems(parts, model, f"Messages[{index}].TemplateModel", about)
    _refuse_models(problems)


async def template_model(
    ctx: HookContext, arguments: dict[str, Any], result: dict[str, Any]
) -> dict[str, Any]:
    """The model a template (and its layout) expects: a skeleton to fill in, and the paths
    that print blank when missing."""
    tree = mustachio.infer(*await _parts(ctx, result))
    return {
        "TemplateId": result.get("TemplateId"),
        "Alias": result.get("Alias"),
        "Name": result.get("Name"),
        "LayoutTemplate": result.get("LayoutTemplate"),
        "TemplateModel": mustachio.suggested_model(tree),
        "RequiredVariables": mustachio.required_paths(tree),
        "RequiredOneOf": mustachio.required_one_of(tree),
    }


# --- what a person approving a send sees ---

_FIELDS = (
    ("From", "From"),
    ("To", "To"),
    ("Cc", "Cc"),
    ("Bcc", "Bcc"),
    ("ReplyTo", "Reply-To"),
    ("Subject", "Subject"),
    ("MessageStream", "Stream"),
)


def _attachment_size(attachment: dict[str, Any]) -> int | str:
    content = attachment.get("Content")
    if not isinstance(content, str):
        return "?"
    stripped = content.strip().rstrip("=")
    return len(stripped) * 3 // 4  # base64: four characters carry three bytes


async def email_preview(ctx: HookContext, arguments: dict[str, Any]) -> dict[str, Any]:
    """The email as it will go out, in the engine's preview shape (`fields`, `html`,
    `text`, `attachments`, `summary`): the addresses, the stream, the bodies (a templated
    send's rendered by Postmark's own /templates/validate from the stored template and the
    model) and the attachments by name and size."""
    mail: dict[str, Any] = {k: arguments[k] for k, _ in _FIELDS if arguments.get(k)}
    mail.setdefault("MessageStream", "outbound")
    html, text = arguments.get("HtmlBody"), arguments.get("TextBody")
    template = None
    ref = arguments.get("TemplateId", arguments.get("TemplateAlias"))
    if ref is not None:
        stored = await _template(ctx, str(ref))
        template = f"{stored.get('Name', ref)} ({ref})"
        check = {
            "Subject": stored.get("Subject"),
            "HtmlBody": stored.get("HtmlBody"),
            "TextBody": stored.get("TextBody"),
            "TestRenderModel": arguments.get("TemplateModel") or {},
        }
        if stored.get("LayoutTemplate"):
            check["LayoutTemplate"] = stored["LayoutTemplate"]
        rendered = await ctx.call(
            "create_a_postmark_template_validation", {k: v for k, v in check.items() if v}
        )

        def content(part: str) -> Any:
            return (rendered.get(part) or {}).get("RenderedContent")

        mail["Subject"] = content("Subject") or mail.get("Subject")
        html, text = content("HtmlBody") or html, content("TextBody") or text
    fields = [[label, mail.get(key)] for key, label in _FIELDS]
    if template:
        fields.append(["Template", template])
    about = " ".join(f"{k}={mail[k]}" for k in ("To", "Subject") if mail.get(k))
    return {
        "fields": fields,
        "html": html,
        "text": text,
        "attachments": [
            {"name": a.get("Name", "?"), "size": _attachment_size(a)}
            for a in arguments.get("Attachments") or []
            if isinstance(a, dict)
        ],
        "summary": about,
    }
