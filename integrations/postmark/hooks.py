"""Postmark checks a manifest cannot declare: stream types and template models.

Named by `checks:` and `transform:` in the manifest; the engine calls them with a
context that can run this integration's own read tools (results cached briefly).

* A transactional send tool refuses a stream that is not Transactional, and a broadcast
  one (the broadcast and bulk tools) a stream that is not Broadcasts: the tool's name states
  the intent, and the check holds it. Streams are looked up once a minute per account.
* Only Postmark's "not found" (422 with ErrorCode 1226 or 1101) makes a lookup say a stream
  or template does not exist; any other failure ends the call as the lookup ended.
* A templated send refuses a TemplateModel that lacks a variable its template (or the
  template's layout) uses: Postmark would render it as an empty string and send.
* Under a recipient constraint (`email_domains`), a send refuses To/Cc/Bcc (and Resent-*)
  given as custom `Headers`, where the constraint would not see them, and header names or
  values that could inject another header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from proxy.errors import HookRefused
from proxy.hooks import HookContext, LookupFailed

LOOKUP_TTL = 60.0

# {{name}}, {{{raw}}}, {{#each items}}, {{#section}}, {{^inverted}}, {{/end}}, {{! comment }}
_TOKEN = re.compile(r"\{\{(\{?)\s*([#^/!>&]?)\s*(.*?)\s*\}?\}\}", re.S)


# --- message streams -----------------------------------------------------------------


# Postmark's "not found" answers to the lookups (HTTP 422 with this ErrorCode); any other
# failure is not evidence that the stream or template is missing, and says what it was.
STREAM_NOT_FOUND = 1226
TEMPLATE_NOT_FOUND = 1101

TRANSACTIONAL_TOOLS = (
    "create_a_postmark_email, create_a_postmark_templated_email or their batch tools"
)
BROADCAST_TOOLS = (
    "create_a_postmark_broadcast_email (one message) or create_a_postmark_bulk_email "
    "(one message to many recipients)"
)


async def _lookup(
    ctx: HookContext,
    key: tuple,
    tool: str,
    arguments: dict[str, Any],
    missing: str,
    not_found: int,
) -> dict[str, Any]:
    """A read tool's result, cached a minute per account. Fails closed: Postmark's own
    "not found" refuses with `missing`; any other failure ends the call as the lookup
    ended (a 429 is the caller's 429), saying nothing was sent."""

    async def load() -> dict[str, Any]:
        try:
            return await ctx.call(tool, arguments)
        except LookupFailed as exc:
            if exc.status == 422 and exc.code == not_found:
                raise HookRefused(f"{missing} Nothing was sent.") from None
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
    found = await _lookup(
        ctx,
        ("stream", stream),
        "get_single_postmark_message_stream_by_id",
        {"id": stream},
        f"There is no message stream {stream!r} on this server; "
        "list_all_postmark_message_streams shows the streams.",
        STREAM_NOT_FOUND,
    )
    return str(found.get("MessageStreamType", ""))


def _messages(arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """The single message, or every message of a batch."""
    batch = arguments.get("Messages")
    return batch if isinstance(batch, list) else [arguments]


async def check_transactional_stream(ctx: HookContext, arguments: dict[str, Any]) -> None:
    """Transactional tools send on Transactional streams only."""
    streams = {m.get("MessageStream") or "outbound" for m in _messages(arguments)}
    for stream in sorted(streams):
        kind = await _stream_type(ctx, stream)
        if kind != "Transactional":
            raise HookRefused(
                f"MessageStream {stream!r} is a {kind or 'non-transactional'} stream; this tool "
                "sends transactional mail and accepts only Transactional streams (usually "
                f'"outbound"). Broadcast (marketing) mail goes through {BROADCAST_TOOLS}, on '
                "a Broadcasts stream. Nothing was sent."
            )


async def check_broadcast_stream(ctx: HookContext, arguments: dict[str, Any]) -> None:
    """Broadcast tools send on a Broadcasts stream, named by the call (no default)."""
    stream = arguments.get("MessageStream")
    if not stream:
        raise HookRefused(
            "MessageStream is required: name a Broadcasts stream "
            "(list_all_postmark_message_streams shows them). Nothing was sent."
        )
    kind = await _stream_type(ctx, stream)
    if kind != "Broadcasts":
        raise HookRefused(
            f"MessageStream {stream!r} is a {kind or 'non-broadcast'} stream; this tool sends "
            "broadcast (marketing) mail and accepts only Broadcasts streams. Transactional "
            f"mail goes through {TRANSACTIONAL_TOOLS}, on a Transactional stream. "
            "Nothing was sent."
        )


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


@dataclass
class Node:
    """A variable a template uses: a value, an object of fields, a list, or a section."""

    kind: str = "value"  # value | object | array | section
    children: dict[str, Node] = field(default_factory=dict)

    def child(self, name: str, kind: str) -> Node:
        node = self.children.get(name)
        if node is None:
            node = self.children[name] = Node(kind)
        elif kind != "value" and node.kind == "value":
            node.kind = kind  # used as {{a}} and as {{a.b}}: it is an object
        return node


def template_variables(*texts: str | None) -> Node:
    """Every variable Postmark's Mustachio syntax would look up in these texts."""
    root = Node("object")
    for text in texts:
        if text:
            _walk(text, root)
    return root


def _walk(text: str, root: Node) -> None:
    scopes: list[Node | None] = [root]  # None: inside an inverted section, nothing required
    for match in _TOKEN.finditer(text):
        _, sigil, name = match.groups()
        if sigil in ("!", ">"):
            continue
        if sigil == "/":
            if len(scopes) > 1:
                scopes.pop()
            continue
        scope = scopes[-1]
        if sigil == "^":
            scopes.append(None)
            continue
        if sigil == "#":
            each = name.startswith("each ")
            path = name[5:].strip() if each else name
            target = _resolve(scope, path, "array" if each else "section", scopes)
            scopes.append(target)
            continue
        _resolve(scope, name, "value", scopes)


def _resolve(scope: Node | None, path: str, kind: str, scopes: list[Node | None]) -> Node | None:
    if scope is None or not path or path in (".", "this") or path.startswith("@"):
        return None
    depth = len(scopes) - 1
    while path.startswith("../"):
        path, depth = path[3:], max(depth - 1, 0)
        scope = scopes[depth]
        if scope is None:
            return None
    parts = [p for p in path.split(".") if p]
    if parts and parts[0] == "this":
        parts = parts[1:]
    node = scope
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        node = node.child(part, kind if last else "object")
    return node if parts else None


def missing_variables(tree: Node, model: Any, prefix: str = "") -> list[str]:
    """Paths the template uses that the model does not provide."""
    missing: list[str] = []
    for name, node in tree.children.items():
        path = f"{prefix}{name}"
        value = model.get(name) if isinstance(model, dict) else None
        present = isinstance(model, dict) and name in model
        if node.kind == "section":
            # {{#x}} renders only when x is truthy: its content is needed only then.
            if isinstance(value, list):
                for i, item in enumerate(value):
                    missing += missing_variables(node, item, f"{path}[{i}].")
            elif isinstance(value, dict):
                missing += missing_variables(node, value, f"{path}.")
            continue
        if not present:
            if node.kind == "value":
                missing.append(path)
            else:  # name every leaf the template reads under it
                sub = Node("object", {name: node})
                missing += required_paths(sub, prefix)
        elif node.kind == "object":
            missing += missing_variables(node, value, f"{path}.")
        elif node.kind == "array" and isinstance(value, list):
            for i, item in enumerate(value):
                missing += missing_variables(node, item, f"{path}[{i}].")
    return missing


def suggested_model(tree: Node) -> dict[str, Any]:
    """A TemplateModel skeleton, shaped like Postmark's own SuggestedTemplateModel."""
    out: dict[str, Any] = {}
    for name, node in tree.children.items():
        if node.kind == "value":
            out[name] = f"{name}_Value"
        elif node.kind == "array":
            out[name] = [suggested_model(node)]
        else:
            out[name] = suggested_model(node)
    return out


def required_paths(tree: Node, prefix: str = "") -> list[str]:
    paths: list[str] = []
    for name, node in tree.children.items():
        if node.kind == "section":
            continue
        if node.kind == "value":
            paths.append(f"{prefix}{name}")
        elif node.kind == "array":
            inner = required_paths(node, f"{prefix}{name}[].")
            paths += inner or [f"{prefix}{name}[]"]
        else:
            paths += required_paths(node, f"{prefix}{name}.")
    return paths


async def _template(ctx: HookContext, id_or_alias: str) -> dict[str, Any]:
    return await _lookup(
        ctx,
        ("template", id_or_alias),
        "get_single_postmark_template_by_id",
        {"id": id_or_alias},
        f"There is no template {id_or_alias!r} on this server; "
        "list_all_postmark_templates shows them.",
        TEMPLATE_NOT_FOUND,
    )


async def _variables(
    ctx: HookContext, id_or_alias: str, template: dict[str, Any] | None = None
) -> tuple[dict[str, Any], Node]:
    """A template and the variables it and its layout use."""
    template = template or await _template(ctx, id_or_alias)
    texts = [template.get("Subject"), template.get("HtmlBody"), template.get("TextBody")]
    layout = template.get("LayoutTemplate")
    if layout:
        outer = await _template(ctx, str(layout))
        texts += [outer.get("HtmlBody"), outer.get("TextBody")]
    return template, template_variables(*texts)


async def check_template_model(ctx: HookContext, arguments: dict[str, Any]) -> None:
    """Refuse a templated send whose TemplateModel lacks a variable the template uses."""
    problems = []
    for index, message in enumerate(_messages(arguments)):
        ref = message.get("TemplateId", message.get("TemplateAlias"))
        if ref is None:
            continue  # the argument schema already said it is required
        _, tree = await _variables(ctx, str(ref))
        missing = missing_variables(tree, message.get("TemplateModel") or {})
        if missing:
            where = f"Messages[{index}]: " if "Messages" in arguments else ""
            problems.append(f"{where}template {ref!r} uses {', '.join(missing)}")
    if problems:
        raise HookRefused(
            "TemplateModel is missing variables the template uses (Postmark would send them "
            "blank). Nothing was sent.\n- " + "\n- ".join(problems) + "\n"
            "get_single_postmark_template_model_by_id shows the model a template expects."
        )


async def template_model(
    ctx: HookContext, arguments: dict[str, Any], result: dict[str, Any]
) -> dict[str, Any]:
    """The model a template expects: a skeleton to fill in and the required paths."""
    _, tree = await _variables(ctx, str(arguments["id"]), result)
    return {
        "TemplateId": result.get("TemplateId"),
        "Alias": result.get("Alias"),
        "Name": result.get("Name"),
        "LayoutTemplate": result.get("LayoutTemplate"),
        "TemplateModel": suggested_model(tree),
        "RequiredVariables": required_paths(tree),
    }
