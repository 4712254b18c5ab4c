"""Manifest models: what a manifest may say, and the rules each value keeps.

A manifest is the whole description of an integration: where the API lives, which
header carries which credential, and its resources with their methods. The models refuse
anything they do not understand; proxy/manifest_files.py reads the files into them and
says `file: path.to.key: reason`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from .config_files import Strict

MethodKind = Literal["list", "get", "create", "update", "delete"]
HTTP_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NAME_RE = r"^[a-z][a-z0-9_]*$"
SETTING_NAME = r"[A-Za-z_][A-Za-z0-9_]*"

JsonSchema = dict[str, Any]


# An HTTP header name (RFC 9110 `token`): anything else the client refuses at call time.
HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
CREDENTIAL_NAME = r"^[A-Za-z0-9_.-]+$"
# Headers the engine sets itself, or that would change how the request is framed.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection", "authorization"}
)


class BasicCredential(Strict):
    """HTTP Basic: `Authorization: Basic base64(username:password)`."""

    username: str = Field(
        pattern=CREDENTIAL_NAME,
        description="Key under the account's `credentials` that holds the user name "
        "(Stripe: the secret key itself; Twilio: the account SID).",
    )
    password: str | None = Field(
        None,
        pattern=CREDENTIAL_NAME,
        description="Key under the account's `credentials` that holds the password; "
        "left out, the password is empty (Stripe sends its key as the user name).",
    )


class CredentialProfile(Strict):
    """One way of authenticating, exactly one of: `{header, secret, prefix}`,
    `{bearer}`, `{basic: {username, password}}` or `{query, secret}`. Every name in it is
    a key under the account's `credentials`, which hold the values."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["header", "secret"]},
                {"required": ["bearer"]},
                {"required": ["basic"]},
                {"required": ["query", "secret"]},
            ]
        }
    )

    header: str | None = Field(
        None, description="HTTP header that carries the credential `secret` names."
    )
    secret: str | None = Field(
        None,
        pattern=CREDENTIAL_NAME,
        description="With `header` or `query`: key under the account's `credentials` that "
        "holds the value.",
    )
    prefix: str | None = Field(
        None, description='With `header`: text put before the value, e.g. "Token ".'
    )
    bearer: str | None = Field(
        None,
        pattern=CREDENTIAL_NAME,
        description="`Authorization: Bearer <value>`, the value under this key of the "
        "account's `credentials`.",
    )
    basic: BasicCredential | None = Field(
        None, description="HTTP Basic from one or two of the account's credentials."
    )
    query: str | None = Field(
        None,
        min_length=1,
        description="Query parameter that carries the credential `secret` names, on every "
        "request (`?key=...`). yamcp never writes it to a log line, an error or a metric.",
    )

    @model_validator(mode="after")
    def _one_shape(self) -> CredentialProfile:
        # Checked here rather than as a union of models: a union's first error names a
        # model the author never wrote ("HeaderCredential.header: field required").
        shapes = [k for k in ("header", "bearer", "basic", "query") if getattr(self, k) is not None]
        if len(shapes) != 1:
            given = f" (got {', '.join(shapes)})" if shapes else ""
            raise ValueError(f"give exactly one of header, bearer, basic, query{given}")
        shape = shapes[0]
        if shape in ("header", "query") and self.secret is None:
            raise ValueError(f"`{shape}` needs `secret`: the account credential it carries")
        if shape in ("bearer", "basic") and self.secret is not None:
            raise ValueError(f"`secret` goes with header or query; `{shape}` names its own")
        if self.prefix is not None and shape != "header":
            raise ValueError("`prefix` goes with `header` only")
        if self.header is not None:
            if not HEADER_NAME_RE.match(self.header):
                raise ValueError(f"header {self.header!r} is not an HTTP header name")
            if self.header.lower() in RESERVED_HEADERS - {"authorization"}:
                raise ValueError(f"header {self.header!r} is set by yamcp itself")
        return self

    def secrets(self) -> tuple[str, ...]:
        """The account credentials this profile sends."""
        if self.basic is not None:
            return (self.basic.username,) + ((self.basic.password,) if self.basic.password else ())
        return (self.bearer or self.secret or "",)


ConstantHeaders = dict[str, str]
_HEADERS_DESCRIPTION = (
    "Constant headers sent with every request{where}, e.g. {{Resend-Version: 2024-01-01}}; "
    "plain text, never secrets (a ${{...}} value is refused: secrets go in an account's "
    "`credentials`, sent by a credential profile). Not Host, Content-Length, Content-Type, "
    "Transfer-Encoding, Connection or Authorization, nor a credential profile's header."
)


def check_constant_headers(value: ConstantHeaders) -> ConstantHeaders:
    """Constant `headers:`: names a client accepts, values that are plainly not secrets."""
    seen: set[str] = set()
    for name, text in value.items():
        lower = name.lower()
        if not HEADER_NAME_RE.match(name):
            raise ValueError(f"{name!r} is not an HTTP header name")
        if lower in RESERVED_HEADERS:
            raise ValueError(f"{name!r} is set by yamcp itself (credentials, body encoding)")
        if lower in seen:
            raise ValueError(f"{name!r} is given twice (header names ignore case)")
        seen.add(lower)
        # The value is never repeated in a reason: it may be the very secret being refused.
        if "${" in text:
            raise ValueError(
                f"{name}: a ${{...}} value is refused: constant headers are not secrets; put "
                "the secret in the account's `credentials` and send it with a credential profile"
            )
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
            raise ValueError(f"{name}: the value has a control character (a line break?)")
    return value


class ErrorShape(Strict):
    """Where the upstream puts its error code and message in an error body (JMESPath)."""

    code: str | None = None
    message: str | None = None
    when: str | None = Field(
        None,
        description="JMESPath over a 2xx answer's body; where it is true the answer is an "
        "error, reported with `code` and `message` like a 4xx (Slack's ok == `false`).",
    )
    hints: dict[str, str] = Field(
        default_factory=dict,
        description="Next steps by upstream error code, appended to that error's tool result.",
    )

    @field_validator("hints", mode="before")
    @classmethod
    def _codes_as_text(cls, value: Any) -> Any:
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


class RateLimitHeaders(Strict):
    """Upstream headers carrying rate-limit data; unset fields use the common conventions."""

    limit: list[str] | None = None
    remaining: list[str] | None = None
    reset: list[str] | None = None
    reset_kind: Literal["auto", "delta", "epoch"] = "auto"
    retry_after: list[str] | None = None


class Pagination(Strict):
    """How the upstream pages a list. Every field may be set per integration or per method."""

    style: Literal["offset", "page", "none", "cursor", "next_url", "link_header"] | None = Field(
        None,
        description="offset: limit + offset parameters; page: page number + page size; "
        "none: the upstream returns everything and yamcp pages it; cursor: the upstream's "
        "cursor goes back in `cursor_param` (from `next_cursor`, or from the last item's "
        "`cursor_field` while `has_more`); next_url: the body holds the next page's URL "
        '(`next_url`); link_header: an RFC 8288 `Link: <url>; rel="next"` header does. '
        "A next URL is followed only on the account base URL's scheme, host and port.",
    )
    limit_param: str | None = Field(
        None,
        description="Page-size parameter. With next_url and link_header it is added to a "
        "next URL that lacks it; one that has it keeps its own.",
    )
    offset_param: str | None = Field(None, description="Offset parameter (style offset).")
    page_param: str | None = Field(None, description="Page-number parameter (style page).")
    first_page: int | None = Field(None, description="Number of the first page (style page).")
    default_limit: int | None = Field(None, ge=1)
    max_limit: int | None = Field(None, ge=1)
    max_window: int | None = Field(
        None, ge=1, description="Largest limit + offset upstream (styles offset and page)."
    )
    items: str | None = Field(None, description="JMESPath to the array of items.")
    total: str | None = Field(None, description="JMESPath to the total count, if any.")
    cursor_param: str | None = Field(
        None,
        description="Request parameter that takes the cursor (style cursor): after, "
        "starting_after, cursor, page_token.",
    )
    next_cursor: str | None = Field(
        None,
        description="JMESPath to the next page's cursor in the body (style cursor, instead "
        "of has_more + cursor_field); null, absent or empty: the last page.",
    )
    has_more: str | None = Field(
        None,
        description="JMESPath to a boolean saying another page follows (style cursor, with "
        "cursor_field): Stripe's and Resend's has_more.",
    )
    cursor_field: str | None = Field(
        None,
        description="JMESPath into the last item giving the next cursor while has_more is "
        "true (style cursor): id for Stripe's starting_after and Resend's after.",
    )
    next_url: str | None = Field(
        None,
        description="JMESPath to the next page's URL in the body (style next_url), absolute "
        "or relative (DigitalOcean links.pages.next, Twilio next_page_uri); null, absent "
        "or empty: the last page.",
    )


class ItemGroups(Strict):
    """`one_of` / `any_of` groups checked on every item of an array argument."""

    of: str = Field(description="The array argument whose items are checked, e.g. Messages.")
    one_of: list[list[str]] = Field(
        default_factory=list, description="Groups of item fields of which exactly one is given."
    )
    any_of: list[list[str]] = Field(
        default_factory=list, description="Groups of item fields of which at least one is given."
    )
    like: str | None = Field(
        None,
        description="A tool of this integration whose arguments each item takes (a batch of "
        "single sends): the items' schema and groups must be that tool's, the account's "
        "defaults fill each item, and a server listing both tools sends the items' schema "
        "as a pointer to that tool rather than a second copy.",
    )


class Requirement(Strict):
    """Arguments required only when others have certain values (a schema's if/then, which
    several model APIs refuse at the top level)."""

    when: dict[str, list[Any]] = Field(
        description="Argument -> values that make the rule apply; a left-out argument "
        "counts as its schema default."
    )
    require: list[str] = Field(min_length=1, description="Arguments then required.")


class QueryStyle(Strict):
    """How one query argument is written, in OpenAPI's words (`style`, `explode`)."""

    style: Literal["form", "spaceDelimited", "pipeDelimited", "deepObject"] = Field(
        "form",
        description="form: `k=a&k=b`, or with explode false `k=a,b`. spaceDelimited / "
        "pipeDelimited (explode false): `k=a b` / `k=a|b`. deepObject: `k[x]=1&k[y]=2`.",
    )
    explode: bool = Field(
        True,
        description="With false, an array (or an object's key/value pairs) is one key, its "
        "values joined by the style's separator: Asana's opt_fields=name,notes.",
    )

    @model_validator(mode="after")
    def _meaningful(self) -> QueryStyle:
        if self.style in ("spaceDelimited", "pipeDelimited") and self.explode:
            raise ValueError(f"{self.style} needs explode: false (exploded, it is form)")
        return self


def _base_url_template(value: str) -> str:
    # `{name}` placeholders are filled per account from its `settings` (accounts.py).
    rest = PATH_PARAM_RE.sub("", value)
    if "{" in rest or "}" in rest:
        raise ValueError("has an unmatched '{' or '}'")
    for name in PATH_PARAM_RE.findall(value):
        if not re.fullmatch(SETTING_NAME, name):
            raise ValueError(f"placeholder {{{name}}} is not a setting name ({SETTING_NAME})")
    return value


class Method(Strict):
    """One operation of a resource, rendered as one MCP tool."""

    http: str = Field(description='Verb and path, e.g. "GET /bounces/{id}".')
    description: str = Field(min_length=1, description="What the tool does, written for a model.")
    title: str | None = None
    credential: str | Literal[False] | None = Field(
        None,
        description="Credential profile; default: the first. false: this operation sends no "
        "credential (a public endpoint of an API that has them: Petstore's /store).",
    )
    access: Literal["read", "write"] | None = Field(
        None, description="Override where the verb misleads (POST .../validate is a read)."
    )
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None
    tags: list[str] = Field(default_factory=list, description="Tags added to the resource's.")
    keywords: list[str] = Field(
        default_factory=list,
        description="Words people use for this tool that its name and description do not "
        "(discovery mode's search_tools indexes them; nothing is listed).",
    )
    base_url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="Where this one operation is sent, where the API serves it from another "
        "host (Box's uploads: https://upload.box.com/api/2.0). `{name}` placeholders are "
        "filled from the account's settings, as in the manifest's; an account's own "
        "base_url does not move it.",
    )
    path: dict[str, JsonSchema] = Field(default_factory=dict, description="Path parameters.")
    query: dict[str, JsonSchema] = Field(default_factory=dict, description="Query parameters.")
    query_styles: dict[str, QueryStyle] = Field(
        default_factory=dict,
        description="Query arguments written other than as repeated keys, by name: "
        "{opt_fields: {explode: false}}.",
    )
    header: dict[str, JsonSchema] = Field(
        default_factory=dict,
        description="Header arguments, by header name: sent as that request header, the "
        "value as text (an array joined by commas). For a header an operation requires, "
        "such as PagerDuty's From naming the acting user; an account's `defaults` can fill "
        "it. Constant headers are `headers`.",
    )
    body: dict[str, JsonSchema] = Field(
        default_factory=dict, description="Body fields, sent as `body_encoding` says."
    )
    body_from: str | None = Field(
        None, description="An argument whose value is sent as the whole body (e.g. an array)."
    )
    body_encoding: Literal["json", "form", "multipart"] = Field(
        "json",
        description="How the body fields are sent. json: one JSON object. form: "
        "application/x-www-form-urlencoded, nested values as `form_style` says. multipart: "
        "multipart/form-data, one part per field; a string field whose schema has "
        "`contentEncoding: base64` is a file part (the decoded bytes, filename = the field "
        "name, Content-Type from its `contentMediaType`, else application/octet-stream); "
        "other fields are text parts (numbers, booleans, objects and arrays as JSON text). "
        "`body_from` works with json only.",
    )
    form_style: Literal["deep_object", "repeat"] | None = Field(
        None,
        description="How a form body (body_encoding: form) writes nested values; default "
        "deep_object. deep_object (Stripe): objects as bracketed keys `metadata[key]=v`, "
        "arrays indexed `items[0]=x`, arrays of objects `items[0][price]=p`. repeat "
        "(Twilio): an array is its key repeated, `Event=a&Event=b`; object arguments are "
        "refused. Both: booleans true/false, null values left out.",
    )
    fixed_body: dict[str, Any] = Field(
        default_factory=dict,
        description="Body fields every call sends as given; not arguments, so the agent cannot "
        "change them (a dry-run flag: a preview tool and the real one over one endpoint).",
    )
    fixed_query: dict[str, str | int | bool] = Field(
        default_factory=dict,
        description="Query parameters every call sends as given; not arguments (Box's "
        "usemarker=true, which its marker paging needs; fields=shared_link).",
    )
    query_prefixed: dict[str, str] = Field(
        default_factory=dict,
        description="Object arguments spread into prefixed query keys: {metadata: metadata_}.",
    )
    required: list[str] = Field(default_factory=list)
    one_of: list[list[str]] = Field(
        default_factory=list, description="Groups of arguments of which exactly one is given."
    )
    any_of: list[list[str]] = Field(
        default_factory=list, description="Groups of arguments of which at least one is given."
    )
    like: str | None = Field(
        None,
        description="Another tool of this integration whose arguments this one shares but "
        "for a few (a broadcast send beside its transactional twin): a server listing both "
        "gives each argument the two declare alike as its type alone here, with a pointer "
        "to that tool, rather than a second copy. That tool names no `like` itself.",
    )
    items: ItemGroups | None = Field(
        None,
        description="one_of / any_of groups checked on each item of an array argument; "
        "a problem names the item: Messages[3].",
    )
    pagination: Pagination | None = None
    response: str | None = Field(None, description="JMESPath applied to the upstream body.")
    text: str | None = Field(
        None, description="JMESPath to a string returned as raw text instead of JSON."
    )
    checks: list[str] = Field(
        default_factory=list,
        description="Functions in the integration's hooks module that may refuse a call "
        "before it is sent: async (ctx, arguments) -> None, raising HookRefused.",
    )
    transform: str | None = Field(
        None,
        description="A hooks function that reshapes a successful result: "
        "async (ctx, arguments, result) -> result.",
    )
    preview: str | None = Field(
        None,
        description="A hooks function that shows a person approving a call what it will "
        "send: async (ctx, arguments) -> dict (e.g. an email's From, To, Subject and "
        "rendered bodies). Without one, the approval page shows the arguments.",
    )
    invalidates: list[str] = Field(
        default_factory=list,
        description="Hook cache key prefixes (the first element of the keys hooks pass to "
        "ctx.cached) that a successful call drops for its account, e.g. [template].",
    )
    required_when: list[Requirement] = Field(
        default_factory=list, description="Arguments required when others have given values."
    )
    max_body_bytes: int | None = Field(
        None, ge=1, description="Largest request body the upstream takes; larger calls are refused."
    )
    headers: ConstantHeaders = Field(
        default_factory=dict,
        description=_HEADERS_DESCRIPTION.format(
            where=" of this method (they win over the manifest's)"
        ),
    )

    @field_validator("http")
    @classmethod
    def _verb_and_path(cls, value: str) -> str:
        verb, _, path = value.partition(" ")
        if verb not in HTTP_VERBS or not path.startswith("/"):
            raise ValueError(f'must be "<{"|".join(HTTP_VERBS)}> /path", got {value!r}')
        return value

    @field_validator("headers")
    @classmethod
    def _constant_headers(cls, value: ConstantHeaders) -> ConstantHeaders:
        return check_constant_headers(value)

    @field_validator("header")
    @classmethod
    def _header_names(cls, value: dict[str, JsonSchema]) -> dict[str, JsonSchema]:
        seen: set[str] = set()
        for name in value:
            if not HEADER_NAME_RE.match(name):
                raise ValueError(f"{name!r} is not an HTTP header name")
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"{name!r} is set by yamcp itself (credentials, body encoding)")
            if name.lower() in seen:
                raise ValueError(f"{name!r} is given twice (header names ignore case)")
            seen.add(name.lower())
        return value

    @field_validator("base_url")
    @classmethod
    def _own_base_url(cls, value: str | None) -> str | None:
        return None if value is None else _base_url_template(value)


class Resource(Strict):
    plural: str | None = Field(None, pattern=NAME_RE)
    tags: list[str] = Field(default_factory=list)
    methods: dict[MethodKind, Method]


class ResourceFile(Strict):
    """A file named by `include`: more resources of the same integration."""

    resources: dict[str, Resource]


class Manifest(Strict):
    """The root of `integrations/<name>/manifest.yaml`."""

    name: str = Field(pattern=NAME_RE)
    title: str
    description: str | None = None
    base_url: str = Field(
        pattern=r"^https?://",
        description="Where the API lives. May hold `{name}` placeholders, filled per account "
        "from its `settings` (percent-encoded), e.g. "
        "https://api.twilio.com/2010-04-01/Accounts/{account_sid} or https://api.{region}.example.com.",
    )
    credentials: dict[Annotated[str, Field(pattern=CREDENTIAL_NAME)], CredentialProfile] = Field(
        default_factory=dict,
        description="Credential profiles by name (letters, digits, _ . -); none for a public "
        "API. The first is the default, a method's `credential` names another.",
    )
    headers: ConstantHeaders = Field(
        default_factory=dict, description=_HEADERS_DESCRIPTION.format(where="")
    )
    errors: ErrorShape = ErrorShape()
    rate_limit: RateLimitHeaders = RateLimitHeaders()
    pagination: Pagination = Pagination()
    open_world: bool = True
    hooks: str | None = Field(
        None,
        description="Python file in this folder with hook functions. The folder is imported "
        "as a package (`yamcp_integrations.<name>`), so the file may import its neighbours "
        "(`from . import helpers`).",
    )
    sandbox: str | None = Field(
        None,
        description="Python file in this folder with a stateful, in-memory simulator of the "
        "API, served on loopback by `yamcp serve --sandbox`. It defines `sandbox_app()`, "
        "returning a fresh ASGI app, and `CREDENTIALS`, mapping each secret the credential "
        "profiles name to the value the simulator accepts. Like `hooks`, a module of the "
        "folder's package: it may import its neighbours (`from .simulator import ...`).",
    )
    include: list[str] = Field(default_factory=list, description="More files of resources.")
    resources: dict[str, Resource] = Field(default_factory=dict)
    verify: str | None = Field(
        None,
        description="A tool of this integration, called with no arguments, that proves an "
        "account's credentials work (a cheap read, e.g. get_single_postmark_current_server_by_id). "
        "Connecting an account over the admin API with `verify: true` calls it first.",
    )

    @field_validator("headers")
    @classmethod
    def _constant_headers(cls, value: ConstantHeaders) -> ConstantHeaders:
        return check_constant_headers(value)

    @model_validator(mode="after")
    def _headers_not_credentials(self) -> Manifest:
        for pname, profile in self.credentials.items():
            for name in self.headers:
                if profile.header is not None and name.lower() == profile.header.lower():
                    raise ValueError(
                        f"headers.{name} is the header of credential profile {pname!r}, "
                        "which carries a secret"
                    )
        return self

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _base_url_template(value)


PATH_PARAM_RE = re.compile(r"{([^{}]+)}")
