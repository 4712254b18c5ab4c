"""Tools: one manifest method compiled for the hot path, and its MCP definition.

Everything a tool call needs is computed once, at load: the flat input schema, its
validator, compiled JMESPath expressions, annotations and the MCP definition itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
from jmespath.parser import ParsedResult

from .encodings import BodyEncoding, FormStyle
from .manifest import CredentialProfile, ErrorShape, MethodKind, RateLimitHeaders
from .query import QueryStyle

Access = Literal["read", "write"]


@dataclass(frozen=True, slots=True)
class Paging:
    """A list method's upstream paging, with every default resolved."""

    style: Literal["offset", "page", "none", "cursor", "next_url", "link_header"]
    limit_param: str
    offset_param: str
    page_param: str
    first_page: int
    default_limit: int
    max_limit: int
    max_window: int | None
    items: ParsedResult
    total: ParsedResult | None
    # Style cursor: the request parameter, and either the body's cursor or has_more plus
    # the last item's field. Style next_url: the body's URL. None where the style has none.
    cursor_param: str | None = None
    next_cursor: ParsedResult | None = None
    has_more: ParsedResult | None = None
    cursor_field: ParsedResult | None = None
    next_url: ParsedResult | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Tool:
    name: str
    title: str
    integration: str
    resource: str
    kind: MethodKind
    access: Access
    tags: frozenset[str]
    http_method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    body_params: tuple[str, ...]
    body_from: str | None
    fixed_body: dict[str, Any]
    query_prefixed: dict[str, str]
    credential: str | None  # None: the API needs no credential
    input_schema: dict[str, Any]
    validate: Callable[[dict[str, Any]], list[str]]
    response: ParsedResult | None
    text: ParsedResult | None
    paging: Paging | None
    checks: tuple[Callable[..., Any], ...]
    transform: Callable[..., Any] | None
    preview: Callable[..., Any] | None
    definition: dict[str, Any] = field(repr=False)
    invalidates: tuple[str, ...] = ()  # hook cache key prefixes a success drops
    keywords: tuple[str, ...] = ()  # words discovery search indexes beside the description
    max_body_bytes: int | None = None  # the upstream's own limit on a request body
    # constant headers, the manifest's and the method's (which win), names in lower case
    headers: dict[str, str] = field(default_factory=dict)
    # (array argument, tool): each item takes that tool's arguments (`items.like`)
    like: tuple[str, str] | None = None
    # the definition for a server that lists that tool too, its items a pointer to it
    brief: dict[str, Any] | None = field(default=None, repr=False)
    # another tool whose arguments this one shares but for a few (`like`)
    shares: str | None = None
    body_encoding: BodyEncoding = "json"  # how body fields go on the wire
    form_style: FormStyle = "deep_object"  # nested values of a form body
    # multipart file fields (`contentEncoding: base64`) -> their `contentMediaType`
    file_fields: dict[str, str | None] = field(default_factory=dict)
    query_styles: dict[str, QueryStyle] = field(default_factory=dict)  # default: form, exploded
    fixed_query: dict[str, str] = field(default_factory=dict)  # sent on every call, as text
    header_params: tuple[str, ...] = ()  # arguments sent as request headers
    base_url: str | None = None  # this operation's own host, a template like the manifest's


def tool_name(integration: str, resource: str, plural: str, kind: MethodKind) -> str:
    """The tool name DESIGN.md fixes for each method type."""
    return {
        "list": f"list_all_{integration}_{plural}",
        "get": f"get_single_{integration}_{resource}_by_id",
        "create": f"create_a_{integration}_{resource}",
        "update": f"update_a_{integration}_{resource}_by_id",
        "delete": f"delete_a_{integration}_{resource}_by_id",
    }[kind]


def hints(
    *,
    access: Access,
    kind: MethodKind,
    destructive: bool | None,
    idempotent: bool | None,
    open_world: bool,
) -> dict[str, Any]:
    """All four hints, set explicitly: clients assume the worst for any left out."""
    read = access == "read"
    if destructive is None:
        destructive = not read and kind == "delete"
    if idempotent is None:
        idempotent = read or kind in ("update", "delete")
    return {
        "readOnlyHint": read,
        "destructiveHint": bool(destructive) and not read,
        "idempotentHint": bool(idempotent),
        "openWorldHint": open_world,
    }


def definition(name: str, description: str, schema: dict, notes: dict) -> dict:
    """The MCP tool definition, as compact as what a model needs allows: a client sends every
    definition to the model on every turn. There is no display title (`title` or
    `annotations.title`): the model never reads it, clients show the name in its place, and
    it cost some 2,600 bytes of each Postmark `tools/list`. The manifest's titles are what
    `yamcp tools --json` lists."""
    return {
        "name": name,
        "description": description,
        "inputSchema": wire_schema(schema) if schema.get("properties") else schema,
        "annotations": notes,
    }


def wire_schema(schema: Any) -> Any:
    """`schema` as sent to clients: without `additionalProperties: false`. yamcp refuses an
    argument a tool does not declare whatever the schema sent says, with an error naming it;
    repeating the keyword on every object cost some 3,600 bytes of each Postmark `tools/list`.
    A tool with no arguments keeps it, as the specification recommends for that schema."""
    if isinstance(schema, list):
        return [wire_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: wire_schema(value)
        for key, value in schema.items()
        if not (key == "additionalProperties" and value is False)
    }


APPROVAL_NOTE = (
    " Each call needs a person's approval: the first answers with a link to show the user; "
    "once approved, call again with the same arguments."
)


def listed_definitions(
    tools: dict[str, Tool],
    defaults: dict[str, Any],
    approval: frozenset[str] = frozenset(),
    *,
    alone: bool = False,
) -> list[dict[str, Any]]:
    """The definitions a server granted `tools` lists, for an account with `defaults`;
    the tools in `approval` say that each call waits for a person. `alone`: each whole, as
    if listed without the others, for a client that reads one tool's schema at a time
    (discovery), where a pointer to another tool would cost it a second fetch."""
    listed = []
    for tool in tools.values():
        definition = tool.definition
        if tool.like and tool.brief and tool.like[1] in tools and not alone:
            definition = tool.brief
        if tool.shares in tools and not alone:
            definition = shared_definition(definition, tools[tool.shares].definition)
        definition = defaulted_definition(definition, defaults, tool.like[0] if tool.like else None)
        if tool.name in approval:
            definition = {**definition, "description": definition["description"] + APPROVAL_NOTE}
        listed.append(definition)
    return listed


def brief_definition(definition: dict[str, Any], of: str, like: str) -> dict[str, Any]:
    """`definition` with the items of its array argument `of` given as a pointer to the tool
    `like`, whose arguments they take. A batch tool repeating a single send's whole schema
    per item cost Postmark's `tools/list` some 3,200 bytes for what the model already reads."""
    schema = definition["inputSchema"]
    prop = schema["properties"][of]
    pointer = f"Each item takes the arguments of {like}."
    brief = {
        **prop,
        "description": f"{prop.get('description', '')} {pointer}".strip(),
        "items": {"type": "object"},
    }
    return {
        **definition,
        "inputSchema": {**schema, "properties": {**schema["properties"], of: brief}},
    }


def shared_definition(definition: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """`definition` with each argument it declares exactly as the tool `other` does given as
    its type alone, and a pointer to `other`, listed beside it. A tool repeating its twin's
    whole schema (a broadcast send beside the transactional one) cost a `tools/list` some
    1,000 bytes for what the model reads once in the twin."""
    schema = definition["inputSchema"]
    theirs = other["inputSchema"].get("properties", {})
    properties = {
        name: {"type": prop["type"]} if "type" in prop and theirs.get(name) == prop else prop
        for name, prop in schema.get("properties", {}).items()
    }
    pointer = f" Arguments given by type alone are as in {other['name']}."
    return {
        **definition,
        "description": definition["description"] + pointer,
        "inputSchema": {**schema, "properties": properties},
    }


def defaulted_definition(
    definition: dict[str, Any], defaults: dict[str, Any], items_of: str | None = None
) -> dict[str, Any]:
    """A tool's definition as one account's servers show it: an argument the account has a
    default for says so, and is no longer required (the default fills it in). So do the
    fields of the items of `items_of`, which the defaults fill as well (`items.like`)."""
    schema = _defaulted(definition["inputSchema"], defaults)
    item_list = schema.get("properties", {}).get(items_of)
    if item_list is not None and "properties" in item_list.get("items", {}):
        items = _defaulted(item_list["items"], defaults)
        if items is not item_list["items"]:
            properties = {**schema["properties"], items_of: {**item_list, "items": items}}
            schema = {**schema, "properties": properties}
    if schema is definition["inputSchema"]:
        return definition
    return {**definition, "inputSchema": schema}


def _defaulted(schema: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    given = {k: v for k, v in defaults.items() if k in properties}
    if not given:
        return schema
    schema = dict(schema)
    schema["properties"] = {
        name: (
            {
                **prop,
                "description": f"{prop.get('description', '')} Default: "
                f"{orjson.dumps(given[name]).decode()}.".strip(),
            }
            if name in given
            else prop
        )
        for name, prop in properties.items()
    }
    if "required" in schema:
        schema["required"] = [name for name in schema["required"] if name not in given]
    return schema


@dataclass(frozen=True, slots=True, eq=False)
class Integration:
    name: str
    title: str
    base_url: str
    credentials: dict[str, CredentialProfile]
    errors: ErrorShape
    error_code: ParsedResult | None
    error_message: ParsedResult | None
    error_when: ParsedResult | None
    rate_limit: RateLimitHeaders
    tools: dict[str, Tool]
    folder: Path
    sandbox: Path | None = None  # the manifest's `sandbox:` simulator module, resolved
    verify: str | None = None  # the manifest's `verify:` tool, a read taking no arguments


@dataclass(frozen=True, slots=True, eq=False)
class Registry:
    """Every integration and every tool, by name."""

    integrations: dict[str, Integration]
    tools: dict[str, Tool]

    def tool(self, name: str) -> Tool | None:
        return self.tools.get(name)
