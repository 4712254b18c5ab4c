"""Forward one tool call: build the upstream request, send it once, map the answer.

Every way a call can end becomes a `CallOutcome` here, in one place: a result for
the model, the IETF rate-limit headers for the HTTP response, and what the audit
log records. yamcp never retries: the caller decides.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from .accounts import Account, account_base_url, fill_base_url
from .credentials import apply_credential
from .encodings import JSON, encode_body
from .errors import (
    ConnectError,
    HookRefused,
    PoolTimeout,
    ReadTimeout,
    ToolArgumentError,
    UpstreamFailure,
)
from .hooks import HookContext, LookupFailed, TTLCache
from .paging import (
    CURSOR_STYLES,
    CursorSeal,
    NextPageRefused,
    PageAsk,
    ask_params,
    cursor_page,
    follow_url,
    page_result,
    read_ask,
)
from .query import FORM, query_pairs, scalar_text
from .ratelimit import normalise
from .registry import Integration
from .tools import Tool
from .upstream import Upstream, UpstreamResponse

if TYPE_CHECKING:
    from .policy import Rule

_CACHE = TTLCache()
log = logging.getLogger("yamcp")


@dataclass(slots=True)
class CallOutcome:
    result: dict[str, Any]
    outcome: str  # ok | invalid_arguments | refused | upstream_error | rate_limited | unreachable
    upstream_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    upstream_seconds: float | None = None


# Sees the request that passed every check, before it is sent; an outcome holds it back.
Hold = Callable[["UpstreamRequest", "HookContext | None"], Awaitable["CallOutcome | None"]]


def tool_result(structured: Any, text: str | None = None, *, error: bool = False) -> dict:
    """A CallToolResult: a text item plus the same data as an object."""
    if not isinstance(structured, dict):
        structured = {"result": structured}
    if text is None:
        text = orjson.dumps(structured).decode()
    return {
        "content": [{"type": "text", "text": text}],
        "structuredContent": structured,
        "isError": error,
    }


def error_outcome(outcome: str, message: str, **details: Any) -> CallOutcome:
    structured = {"error": {"type": outcome, "message": message, **details}}
    return CallOutcome(tool_result(structured, message, error=True), outcome)


def _refused(exc: HookRefused) -> CallOutcome:
    return error_outcome("refused", str(exc), **({} if exc.code is None else {"code": exc.code}))


def _header_value(name: str, value: Any) -> str:
    """OpenAPI's `simple` style: a scalar as text, an array joined by commas."""
    items = value if isinstance(value, list) else [value]
    text = ",".join(scalar_text(item) for item in items if item is not None)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ToolArgumentError(f"{name}: a header value cannot hold a control character")
    return text


def _path_segment(name: str, value: Any) -> str:
    text = str(value)
    if text in ("", ".", ".."):
        raise ToolArgumentError(f"{name}: {text!r} is not a valid identifier")
    # safe="" so '/', '?', '#' and '%' cannot leave the declared path.
    return quote(text, safe="")


@dataclass(slots=True)
class UpstreamRequest:
    method: str
    url: str
    params: dict[str, Any]
    body: bytes | None
    headers: dict[str, str]


def build_request(
    integration: Integration,
    account: Account,
    tool: Tool,
    arguments: dict[str, Any],
    paging_params: dict[str, Any] | None = None,
) -> UpstreamRequest:
    path = tool.path
    for name in tool.path_params:
        path = path.replace("{" + name + "}", _path_segment(name, arguments[name]))
    params: dict[str, Any] = {}
    for name in tool.query_params:
        if arguments.get(name) is None:
            continue
        prefix = tool.query_prefixed.get(name)
        if prefix is not None:
            pairs = query_pairs(name, {prefix + k: v for k, v in arguments[name].items()})
        else:
            pairs = query_pairs(name, arguments[name], tool.query_styles.get(name, FORM))
        for key, text in pairs:
            params.setdefault(key, []).append(text)
    params.update(tool.fixed_query)
    if paging_params:
        params.update(paging_params)
    body, content_type = None, JSON
    try:
        if tool.body_from is not None:
            body = orjson.dumps(arguments.get(tool.body_from, []))
        elif tool.body_params or tool.fixed_body:
            given = {k: arguments[k] for k in tool.body_params if k in arguments}
            fields = {**given, **tool.fixed_body}
            body, content_type = encode_body(
                fields, tool.body_encoding, tool.form_style, tool.file_fields
            )
    except orjson.JSONEncodeError as exc:  # nested past the encoder's depth limit
        raise ToolArgumentError(f"arguments cannot be sent as JSON: {exc}") from None
    # Names in lower case, so a constant `Accept` replaces the default rather than doubling it.
    headers = {"accept": "application/json", **tool.headers}
    for name in tool.header_params:
        if arguments.get(name) is not None:
            headers[name.lower()] = _header_value(name, arguments[name])
    if tool.credential is not None:
        apply_credential(integration.credentials[tool.credential], account, headers, params)
    if body is not None:
        headers["content-type"] = content_type  # a multipart one carries its boundary
    if tool.base_url is not None:
        base = fill_base_url(tool.base_url, account)
    else:
        base = account_base_url(account, integration.base_url)
    return UpstreamRequest(tool.http_method, base + path, params, body, headers)


async def forward(
    upstream: Upstream,
    integration: Integration,
    account: Account,
    tool: Tool,
    arguments: dict[str, Any],
    *,
    max_body_bytes: int,
    cache: TTLCache | None = None,
    run_hooks: bool = True,
    rules: tuple[Rule, ...] = (),
    hold: Hold | None = None,
) -> CallOutcome:
    """Validate, check, send once, and map. Never raises for anything the upstream does.

    `hold`, when given, sees the request once every check has passed, just before it
    would go out; an outcome from it is the answer and nothing is sent (an approval
    waiting for a person)."""
    problems = tool.validate(arguments)
    if problems:
        message = f"Invalid arguments for {tool.name}:\n- " + "\n- ".join(problems)
        return error_outcome("invalid_arguments", message, problems=problems)

    ask, seal, paging_params = PageAsk(0), None, None
    if tool.paging is not None and tool.paging.style in CURSOR_STYLES:
        seal = CursorSeal.for_call(tool.name, account.id, account.credentials.values())
    try:
        if tool.paging is not None:
            ask = read_ask(tool.paging, arguments, seal)
            paging_params = None if ask.url is not None else ask_params(tool.paging, ask)
        # A next URL's query is the upstream's whole state: the tool's filters stay out.
        sent = arguments
        if ask.url is not None:
            sent = {k: v for k, v in arguments.items() if k not in tool.query_params}
        # Built once, before any check's lookup: a call that cannot be sent (too large, a
        # credential missing) costs the upstream nothing.
        request = build_request(integration, account, tool, sent, paging_params)
        if tool.paging is not None and ask.url is not None:
            request.url = follow_url(tool.paging, ask, request.url)
            for key in tool.fixed_query:  # the next URL's query already says it
                request.params.pop(key, None)
        _check_body_size(tool, request)
        ctx = None
        if run_hooks and (tool.checks or tool.transform or tool.preview):

            async def lookup(other: Tool, lookup_arguments: dict[str, Any]) -> CallOutcome:
                return await forward(
                    upstream,
                    integration,
                    account,
                    other,
                    lookup_arguments,
                    max_body_bytes=max_body_bytes,
                    run_hooks=False,
                )

            ctx = HookContext(lookup, integration, account.id, cache or _CACHE, rules)
            for check in tool.checks:
                await check(ctx, arguments)
    except ToolArgumentError as exc:
        return error_outcome("invalid_arguments", str(exc))
    except LookupFailed as exc:
        return _lookup_failed(exc)
    except HookRefused as exc:
        return _refused(exc)
    if hold is not None:
        held = await hold(request, ctx)
        if held is not None:
            return held

    started = time.perf_counter()
    try:
        response = await upstream.send(
            request.method,
            request.url,
            request.params,
            request.body,
            request.headers,
            max_body_bytes,
        )
    except UpstreamFailure as exc:
        return _unreachable(integration, exc, started)
    elapsed = time.perf_counter() - started
    try:
        outcome = await _answer(
            integration,
            account,
            tool,
            arguments,
            response,
            ctx,
            (ask, seal, request.url),
            max_body_bytes,
        )
    except Exception:  # the request went out: whatever fails now must not read as "not sent"
        log.exception("mapping the answer of %s failed inside yamcp", tool.name)
        outcome = _unrelayable(integration, response.status)
    outcome.upstream_status = response.status
    outcome.upstream_seconds = elapsed
    if tool.invalidates and outcome.outcome == "ok":
        for prefix in tool.invalidates:
            (cache or _CACHE).drop((integration.name, account.id, prefix))
    return outcome


def _check_body_size(tool: Tool, request: UpstreamRequest) -> None:
    size, limit = len(request.body or b""), tool.max_body_bytes
    if limit is not None and size > limit:
        raise ToolArgumentError(
            f"{tool.name}: the request body would be {size:,} bytes, above the upstream's limit "
            f"of {limit:,} bytes. Nothing was sent: send less (smaller or fewer attachments, "
            "fewer messages per call)."
        )


# What a failed lookup says about its own request; the call's is that nothing was sent.
_LOOKUP_TAILS = re.compile(r"\s*The request (may have taken effect|was not sent)\b.*$", re.S)


def _lookup_failed(exc: LookupFailed) -> CallOutcome:
    """A check's own lookup failed: the call ends as that lookup did (a 429 is the caller's
    429, with its rate-limit data and headers), and says that nothing was sent."""
    looked = exc.outcome
    text = _LOOKUP_TAILS.sub("", str(exc)).rstrip()
    text = f"{text} Nothing was sent." if text.endswith(".") else f"{text}. Nothing was sent."
    error = {**looked.result["structuredContent"]["error"], "message": text}
    outcome = CallOutcome(tool_result({"error": error}, text, error=True), looked.outcome)
    outcome.headers = dict(looked.headers)
    outcome.upstream_status = looked.upstream_status
    outcome.upstream_seconds = looked.upstream_seconds
    return outcome


async def _answer(
    integration: Integration,
    account: Account,
    tool: Tool,
    arguments: dict[str, Any],
    response: UpstreamResponse,
    ctx: HookContext | None,
    window: tuple[PageAsk, CursorSeal | None, str],  # the page asked, its seal, the URL sent
    max_body_bytes: int,
) -> CallOutcome:
    """What the caller gets for the upstream's answer."""
    status, raw = response.status, response.body
    rate = normalise(response.headers, integration.rate_limit)
    if raw is None:
        outcome = error_outcome(
            "upstream_error",
            f"{integration.title} answered HTTP {status} with a body larger than "
            f"{max_body_bytes} bytes; narrow the request (filters, a smaller limit). "
            "The request may have taken effect: check before repeating a write.",
            status=status,
        )
    elif status >= 400:
        outcome = _upstream_error(integration, account, status, raw, rate)
    elif status >= 300:
        outcome = _redirected(integration, account, status, response.headers)
    elif _error_in_success(integration, raw):
        outcome = _upstream_error(integration, account, status, raw, rate)
    else:
        outcome = _success(integration, tool, raw, response, window)
        if ctx is not None and tool.transform is not None and outcome.outcome == "ok":
            try:
                shaped = await tool.transform(ctx, arguments, outcome.result["structuredContent"])
                outcome = CallOutcome(tool_result(shaped), "ok")
            except HookRefused as exc:
                outcome = _refused(exc)
    outcome.headers = rate
    return outcome


def _error_in_success(integration: Integration, raw: bytes) -> bool:
    """A 2xx answer the manifest's `errors.when` calls an error (`{"ok": false}`)."""
    if integration.error_when is None:
        return False
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return isinstance(body, dict) and bool(integration.error_when.search(body))


def _unrelayable(integration: Integration, status: int) -> CallOutcome:
    return error_outcome(
        "upstream_error",
        f"{integration.title} answered HTTP {status}, but yamcp could not relay the answer "
        "(see its log). The request may have taken effect: check before repeating a write.",
        status=status,
    )


def _redacted(account: Account, text: str) -> str:
    """`text` with every credential value of the account replaced: upstreams echo them."""
    for secret in account.credentials.values():
        if len(secret) >= 4:
            text = re.sub(re.escape(secret), "<redacted>", text, flags=re.IGNORECASE)
    return text


def _code_label(expression: str | None) -> str:
    """The code's field name before its value, where the manifest names a plain field that
    says it is a code (Postmark's `ErrorCode 406`, as its docs write it; `code 21211`);
    nothing for a `name` or a deeper JMESPath."""
    if expression and re.fullmatch(r"(?:[A-Za-z_][A-Za-z0-9_]*)?code", expression, re.IGNORECASE):
        return f"{expression} "
    return ""


def _redirected(
    integration: Integration, account: Account, status: int, headers: Mapping[str, str]
) -> CallOutcome:
    """yamcp follows no redirect: a credential would go wherever the upstream points."""
    try:
        location = headers.get("location")
    except ValueError:  # not text: as good as absent
        location = None
    details: dict[str, Any] = {"status": status}
    where = "without saying where"
    if location:
        details["location"] = _redacted(account, location.strip()[:500])
        where = f"to {details['location']}"
    message = (
        f"{integration.title} answered HTTP {status}, a redirect {where}; yamcp does not follow "
        "redirects, so the call did not complete as asked. Check the account's base_url. "
        "The request may have taken effect: check before repeating a write."
    )
    return error_outcome("upstream_error", message, **details)


def _unreachable(integration: Integration, exc: UpstreamFailure, started: float) -> CallOutcome:
    title = integration.title
    if isinstance(exc, PoolTimeout):
        what = f"Every connection to {title} stayed busy, so yamcp could not send the call"
    elif isinstance(exc, ConnectError):
        what = f"yamcp could not connect to {title}"
    elif not exc.sent:
        what = f"yamcp timed out connecting to {title}"
    elif isinstance(exc, ReadTimeout):
        what = f"yamcp timed out waiting for an answer from {title}"
    else:
        what = f"yamcp lost the connection to {title}"
    after = (
        "The request may have taken effect: check before repeating a write."
        if exc.sent
        else "The request was not sent; it is safe to try again later."
    )
    outcome = error_outcome("unreachable", f"{what}. {after}", reason=type(exc).__name__)
    outcome.upstream_seconds = time.perf_counter() - started
    return outcome


def _upstream_error(
    integration: Integration, account: Account, status: int, raw: bytes, rate: dict[str, str]
) -> CallOutcome:
    code = message = None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        if integration.error_code is not None:
            code = integration.error_code.search(body)
        if integration.error_message is not None:
            message = integration.error_message.search(body)
    if message is None:
        message = raw[:500].decode("utf-8", "replace").strip() or None
    if message is not None:
        message = _redacted(account, str(message)[:2000])
    details: dict[str, Any] = {"status": status}
    if code is not None:
        details["code"] = code
    if message:
        details["upstream_message"] = message
    text = f"{integration.title} answered HTTP {status}"
    if code is not None:
        text += f" ({_code_label(integration.errors.code)}{code})"
    if message:
        text += f": {message}"
    hint = integration.errors.hints.get(str(code)) if code is not None else None
    if hint:
        details["hint"] = hint
        text += f"{'' if text.endswith('.') else '.'} {hint}"
    kind = "upstream_error"
    if status == 429:
        kind = "rate_limited"
        wait = rate.get("retry-after") or rate.get("ratelimit-reset")
        details["retry_after_seconds"] = int(wait) if wait is not None else None
        text += (
            f". Rate limited: retry after {wait} seconds."
            if wait is not None
            else ". Rate limited: wait before retrying, and slow down."
        )
    if rate:
        details["rate_limit"] = rate
    return error_outcome(kind, text, **details)


def _success(
    integration: Integration,
    tool: Tool,
    raw: bytes,
    response: UpstreamResponse,
    window: tuple[PageAsk, CursorSeal | None, str],
) -> CallOutcome:
    if not raw.strip():
        return CallOutcome(tool_result({"status": response.status}), "ok")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        ctype = response.headers.get("content-type", "unknown")
        return error_outcome(
            "upstream_error",
            f"{integration.title} answered HTTP {response.status} with a body that is not "
            f"valid JSON ({ctype}, {len(raw)} bytes; truncated, corrupt or an error page from "
            "something in between). The request may have taken effect.",
            status=response.status,
        )
    if tool.paging is not None:
        ask, seal, url = window
        try:
            if seal is not None:
                page = cursor_page(tool.paging, body, response.headers, url, seal)
            else:
                page = page_result(tool.paging, body, ask.limit, ask.offset)
        except NextPageRefused as exc:
            return error_outcome(
                "upstream_error",
                f"{integration.title} answered this page, but {exc}.",
                status=response.status,
            )
        if tool.response is not None:
            page["result"] = tool.response.search(page["result"])
        return CallOutcome(tool_result(page), "ok")
    mapped = tool.response.search(body) if tool.response is not None else body
    text = None
    if tool.text is not None:
        value = tool.text.search(body)
        text = value if isinstance(value, str) else None
        if text == "":
            text = "(empty: the upstream has no content for this item)"
    return CallOutcome(tool_result(mapped, text), "ok")
