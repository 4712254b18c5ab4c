"""Tools: one manifest method compiled for the hot path, and its MCP definition.

Everything a tool call needs is computed once, at load: the flat input schema, its
validator, compiled JMESPath expressions, annotations and the MCP definition itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from jmespath.parser import ParsedResult

from .manifest import MethodKind

Access = Literal["read", "write"]


@dataclass(frozen=True, slots=True)
class Paging:
    """A list method's upstream paging, with every default resolved."""

    style: Literal["offset", "page", "none"]
    limit_param: str
    offset_param: str
    page_param: str
    first_page: int
    default_limit: int
    max_limit: int
    max_window: int | None
    items: ParsedResult
    total: ParsedResult | None


@dataclass(frozen=True, slots=True, eq=False)
class Tool:
    name: str
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
    query_prefixed: dict[str, str]
    credential: str | None  # None: the API needs no credential
    input_schema: dict[str, Any]
    validate: Callable[[dict[str, Any]], list[str]]
    response: ParsedResult | None
    text: ParsedResult | None
    paging: Paging | None
    checks: tuple[Callable[..., Any], ...]
    transform: Callable[..., Any] | None
    definition: dict[str, Any] = field(repr=False)
    invalidates: tuple[str, ...] = ()  # hook cache key prefixes a success drops
    max_body_bytes: int | None = None  # the upstream's own limit on a request body


def tool_name(integration: str, resource: str, plural: str, kind: MethodKind) -> str:
    """The tool name DESIGN.md fixes for each method type."""
    return {
        "list": f"list_all_{integration}_{plural}",
        "get": f"get_single_{integration}_{resource}_by_id",
        "create": f"create_a_{integration}_{resource}",
        "update": f"update_a_{integration}_{resource}_by_id",
        "delete": f"delete_a_{integration}_{resource}_by_id",
    }[kind]


def annotations(
    *,
    title: str,
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
        "title": title,
        "readOnlyHint": read,
        "destructiveHint": bool(destructive) and not read,
        "idempotentHint": bool(idempotent),
        "openWorldHint": open_world,
    }


def definition(name: str, title: str, description: str, schema: dict, notes: dict) -> dict:
    """The MCP tool definition. Its display title is sent once, as `annotations.title`
    (in `notes`): every protocol era defines that field (2025-03-26 has no top-level `title`),
    and clients of later eras fall back to it (`title`, then `annotations.title`, then
    `name`). Sending both would repeat some 30 bytes per tool on every `tools/list`."""
    return {
        "name": name,
        "description": description,
        "inputSchema": schema,
        "annotations": notes,
    }


def defaulted_definition(definition: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """A tool's definition as one account's servers show it: an argument the account has a
    default for says so, and is no longer required (the default fills it in)."""
    properties = definition["inputSchema"].get("properties", {})
    given = {k: v for k, v in defaults.items() if k in properties}
    if not given:
        return definition
    schema = dict(definition["inputSchema"])
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
    return {**definition, "inputSchema": schema}
