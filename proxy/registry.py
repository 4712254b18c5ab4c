"""Compile loaded manifests into integrations of ready-to-call tools.

All checks that need more than one key at a time live here: tool names, path
parameters against the path, argument names that collide, JMESPath that does not
compile, JSON Schemas that are not schemas, hooks that do not exist.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .encodings import check_body_encoding
from .errors import ConfigError
from .integration_package import load_file
from .manifest import (
    PATH_PARAM_RE,
    Manifest,
    Method,
    MethodKind,
    Pagination,
)
from .manifest_files import LoadedManifest, discover, load_manifest
from .query import QueryStyle, scalar_text
from .tools import (
    Integration,
    Paging,
    Registry,
    Tool,
    brief_definition,
    definition,
    hints,
    tool_name,
)
from .validators import ItemRules, make_validator, requiring

TOOL_NAME_RE = re.compile(r"^[a-z0-9_]{1,64}$")
PAGING_DEFAULTS = Pagination(
    style="offset",
    limit_param="limit",
    offset_param="offset",
    page_param="page",
    first_page=1,
    default_limit=50,
    max_limit=100,
)
_VERBS = {"list": "List", "get": "Get", "create": "Create", "update": "Update", "delete": "Delete"}


def load_registry(dirs: list[Path]) -> Registry:
    """Load every `*/manifest.yaml` under `dirs`; raise ConfigError on the first problem."""
    integrations: dict[str, Integration] = {}
    tools: dict[str, Tool] = {}
    for file in discover(dirs):
        integration = compile_manifest(load_manifest(file))
        if integration.name in integrations:
            raise ConfigError(
                str(file),
                "name",
                f"integration {integration.name!r} is already loaded from "
                f"{integrations[integration.name].folder}",
            )
        for name, tool in integration.tools.items():
            if name in tools:
                raise ConfigError(str(file), "resources", f"tool {name!r} is declared twice")
            tools[name] = tool
        integrations[integration.name] = integration
    return Registry(integrations=integrations, tools=tools)


class FieldPath:
    """A JMESPath that is one field name (`Bounces`, `Body`): a dict lookup, which is
    what most manifests write, without building an interpreter per call."""

    __slots__ = ("expression", "field")

    def __init__(self, expression: str, field: str) -> None:
        self.expression = expression
        self.field = field

    def search(self, data: Any) -> Any:
        return data.get(self.field) if isinstance(data, dict) else None


def _compile(expr: str | None, file: str, where: str) -> ParsedResult | FieldPath | None:
    if expr is None:
        return None
    try:
        compiled = jmespath.compile(expr)
    except JMESPathError as exc:
        reason = str(exc).replace("\n", " ")
        raise ConfigError(file, where, f"invalid JMESPath {expr!r}: {reason}") from None
    if compiled.parsed["type"] == "field":
        return FieldPath(expr, compiled.parsed["value"])
    return compiled


def _load_hooks(loaded: LoadedManifest) -> ModuleType | None:
    """The `hooks:` module, a module of the integration's package (proxy/integration_package.py)."""
    m = loaded.manifest
    if m.hooks is None:
        return None
    path = (loaded.folder / m.hooks).resolve()
    if not path.is_file() or loaded.folder.resolve() not in path.parents:
        raise ConfigError(str(loaded.folder / "manifest.yaml"), "hooks", "no such file here")
    try:
        return load_file(m.name, loaded.folder, path)
    except Exception as exc:
        raise ConfigError(str(path), "", f"hooks failed to import: {exc!r}") from exc


def _sandbox_file(loaded: LoadedManifest) -> Path | None:
    """The `sandbox:` module's path: a Python file inside the integration's folder. It is
    loaded only by `yamcp serve --sandbox` (proxy/sandbox.py), never by a plain serve."""
    m = loaded.manifest
    if m.sandbox is None:
        return None
    path = (loaded.folder / m.sandbox).resolve()
    if path.suffix != ".py" or not path.is_file() or loaded.folder.resolve() not in path.parents:
        raise ConfigError(
            str(loaded.folder / "manifest.yaml"), "sandbox", "no such Python file in this folder"
        )
    return path


def compile_manifest(loaded: LoadedManifest) -> Integration:
    m = loaded.manifest
    hooks = _load_hooks(loaded)
    sandbox = _sandbox_file(loaded)
    main_file = str(loaded.folder / "manifest.yaml")
    tools: dict[str, Tool] = {}
    declared: dict[str, tuple[Method, str, str]] = {}
    for rname, resource in m.resources.items():
        file = loaded.resource_files[rname]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", rname):
            raise ConfigError(file, f"resources.{rname}", "resource names are [a-z0-9_]")
        plural = resource.plural or f"{rname}s"
        for kind, method in resource.methods.items():
            where = f"resources.{rname}.methods.{kind}"
            tool = _compile_method(
                m, rname, plural, resource.tags, kind, method, hooks, file, where
            )
            if tool.name in tools:
                raise ConfigError(file, where, f"tool {tool.name!r} is declared twice")
            tools[tool.name] = tool
            declared[tool.name] = (method, file, where)
    for name, tool in tools.items():
        if tool.like is not None:
            tools[name] = _with_pointer(tool, tools, declared)
    for name, (method, _, _) in declared.items():
        if method.like is not None:
            tools[name] = _sharing(tools[name], method.like, tools, declared)
    if m.verify is not None:
        probe = tools.get(m.verify)
        if probe is None or probe.access != "read" or probe.input_schema.get("required"):
            reason = "must name a read tool of this integration that needs no arguments"
            raise ConfigError(main_file, "verify", reason)
    return Integration(
        name=m.name,
        title=m.title,
        base_url=m.base_url.rstrip("/"),
        credentials=dict(m.credentials),
        errors=m.errors,
        error_code=_compile(m.errors.code, main_file, "errors.code"),
        error_message=_compile(m.errors.message, main_file, "errors.message"),
        error_when=_compile(m.errors.when, main_file, "errors.when"),
        rate_limit=m.rate_limit,
        tools=tools,
        folder=loaded.folder,
        sandbox=sandbox,
        verify=m.verify,
    )


def _with_pointer(
    tool: Tool, tools: dict[str, Tool], declared: dict[str, tuple[Method, str, str]]
) -> Tool:
    """`tool`, whose array items take another tool's arguments (`items.like`), with the brief
    definition that points to that tool. The pointer must be true: the items' schema, required
    fields and groups are the other tool's, so it is checked here rather than trusted."""
    assert tool.like is not None
    of, like = tool.like
    _, file, where = declared[tool.name]
    target = tools.get(like)
    if target is None or target is tool:
        raise ConfigError(file, f"{where}.items.like", f"no other tool {like!r} here")
    item = tool.input_schema["properties"][of]["items"]
    mine, theirs = declared[tool.name][0], declared[like][0]
    assert mine.items is not None
    differences = [
        what
        for what, a, b in (
            ("properties", item.get("properties"), target.input_schema.get("properties")),
            ("required", item.get("required", []), target.input_schema.get("required", [])),
            ("one_of", mine.items.one_of, theirs.one_of),
            ("any_of", mine.items.any_of, theirs.any_of),
            ("required_when", [], theirs.required_when),
        )
        if a != b
    ]
    if differences:
        raise ConfigError(
            file,
            f"{where}.items.like",
            f"{of}'s items differ from {like}'s arguments in {', '.join(differences)}",
        )
    return replace(tool, brief=brief_definition(tool.definition, of, like))


def _sharing(
    tool: Tool, like: str, tools: dict[str, Tool], declared: dict[str, tuple[Method, str, str]]
) -> Tool:
    """`tool`, whose arguments are mostly those of the tool `like` (`like`). One hop only: a
    pointer to a tool that itself points elsewhere would leave the shared arguments described
    nowhere in a listing of all three."""
    _, file, where = declared[tool.name]
    target = tools.get(like)
    if target is None or target is tool:
        raise ConfigError(file, f"{where}.like", f"no other tool {like!r} here")
    if declared[like][0].like is not None:
        reason = f"{like} names a `like` itself; point to the tool it points to"
        raise ConfigError(file, f"{where}.like", reason)
    mine = tool.definition["inputSchema"].get("properties", {})
    theirs = target.definition["inputSchema"].get("properties", {})
    if not any(theirs.get(name) == prop for name, prop in mine.items()):
        raise ConfigError(file, f"{where}.like", f"declares no argument as {like} does")
    return replace(tool, shares=like)


def _check_schema(schema: Any, file: str, where: str) -> None:
    if not isinstance(schema, dict):
        raise ConfigError(file, where, "must be a JSON Schema object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = ".".join(str(p) for p in exc.path)
        raise ConfigError(file, f"{where}.{path}" if path else where, exc.message) from None


def _item_groups(
    method: Method, properties: dict[str, Any], file: str, where: str
) -> ItemRules | None:
    """A method's `items:` groups, checked against its array argument's item fields."""
    declared = method.items
    if declared is None:
        return None
    schema = properties.get(declared.of)
    if schema is None:
        raise ConfigError(file, f"{where}.items.of", f"{declared.of!r} is not an argument")
    item = schema.get("items")
    if schema.get("type") != "array" or not isinstance(item, dict):
        raise ConfigError(file, f"{where}.items.of", f"{declared.of!r} is not an array of items")
    fields = item.get("properties", {})
    for rule in ("one_of", "any_of"):
        for index, group in enumerate(getattr(declared, rule)):
            for name in group:
                if name not in fields:
                    raise ConfigError(
                        file,
                        f"{where}.items.{rule}.{index}",
                        f"{name!r} is not a field of {declared.of}'s items",
                    )
    return ItemRules(
        of=declared.of,
        one_of=tuple(tuple(g) for g in declared.one_of),
        any_of=tuple(tuple(g) for g in declared.any_of),
        like=declared.like,
    )


# Keys that belong to one paging style only, so a manifest cannot set them for another.
_STYLE_KEYS = {
    "cursor_param": "cursor",
    "next_cursor": "cursor",
    "has_more": "cursor",
    "cursor_field": "cursor",
    "next_url": "next_url",
}


def _resolve_paging(m: Manifest, method: Method, file: str, where: str) -> Paging:
    merged: dict[str, Any] = PAGING_DEFAULTS.model_dump()
    origin: dict[str, str] = {}  # key -> where the manifest set it, for errors
    for layer, at in ((m.pagination, "pagination"), (method.pagination, f"{where}.pagination")):
        if layer is None:
            continue
        given = {k: v for k, v in layer.model_dump().items() if v is not None}
        # A method that switches style keeps none of the integration's keys for the old one.
        if given.get("style", merged["style"]) != merged["style"]:
            for key in _STYLE_KEYS:
                merged[key] = None
        merged.update(given)
        origin.update(dict.fromkeys(given, at))
    style = merged["style"]
    for key, owner in _STYLE_KEYS.items():
        if merged[key] is not None and owner != style:
            raise ConfigError(
                file, f"{origin[key]}.{key}", f"belongs to style {owner}, not {style}"
            )
    if merged["items"] is None and style != "none":
        raise ConfigError(file, f"{where}.pagination.items", "a list method needs `items`")
    if merged["default_limit"] > merged["max_limit"]:
        raise ConfigError(file, f"{where}.pagination", "default_limit is above max_limit")
    if style == "cursor":
        _check_cursor_paging(merged, origin, file, f"{where}.pagination")
    if style == "next_url" and not merged["next_url"]:
        raise ConfigError(
            file,
            f"{where}.pagination.next_url",
            "style next_url needs `next_url`, the JMESPath to the next page's URL in the body",
        )

    def compiled(key: str) -> Any:
        return _compile(merged[key], file, f"{origin.get(key, where + '.pagination')}.{key}")

    return Paging(
        style=style,
        limit_param=merged["limit_param"],
        offset_param=merged["offset_param"],
        page_param=merged["page_param"],
        first_page=merged["first_page"],
        default_limit=merged["default_limit"],
        max_limit=merged["max_limit"],
        # A list the upstream answers whole is paged by yamcp, and a cursor or a next URL
        # reaches as deep as the upstream serves: no window applies to either.
        max_window=merged["max_window"] if style in ("offset", "page") else None,
        items=_compile(merged["items"] or "@", file, f"{where}.pagination.items"),
        total=_compile(merged["total"], file, f"{where}.pagination.total"),
        cursor_param=merged["cursor_param"],
        next_cursor=compiled("next_cursor"),
        has_more=compiled("has_more"),
        cursor_field=compiled("cursor_field"),
        next_url=compiled("next_url"),
    )


def _check_cursor_paging(
    merged: dict[str, Any], origin: dict[str, str], file: str, at: str
) -> None:
    """Style cursor needs the parameter, and exactly one way to find the next cursor."""
    if not merged["cursor_param"]:
        raise ConfigError(
            file,
            f"{at}.cursor_param",
            "style cursor needs `cursor_param`, the request "
            "parameter that takes the cursor (after, starting_after, cursor)",
        )
    by_field = merged["has_more"] is not None or merged["cursor_field"] is not None
    if merged["next_cursor"] is not None and by_field:
        key = "has_more" if merged["has_more"] is not None else "cursor_field"
        raise ConfigError(
            file,
            f"{origin[key]}.{key}",
            "style cursor takes either `next_cursor` or `has_more` + `cursor_field`, not both",
        )
    if merged["next_cursor"] is None and not by_field:
        raise ConfigError(
            file,
            f"{at}.next_cursor",
            "style cursor needs `next_cursor` (the body's next "
            "cursor) or `has_more` + `cursor_field` (the last item's field while has_more)",
        )
    for key, other in (("has_more", "cursor_field"), ("cursor_field", "has_more")):
        if by_field and merged[key] is None:
            raise ConfigError(file, f"{at}.{key}", f"`{other}` needs `{key}` too (style cursor)")


def _compile_method(
    m: Manifest,
    resource: str,
    plural: str,
    resource_tags: list[str],
    kind: MethodKind,
    method: Method,
    hooks: ModuleType | None,
    file: str,
    where: str,
) -> Tool:
    name = tool_name(m.name, resource, plural, kind)
    if not TOOL_NAME_RE.fullmatch(name):
        raise ConfigError(
            file, where, f"tool name {name!r} must be 1-64 characters of [a-z0-9_] ({len(name)})"
        )
    verb, _, path = method.http.partition(" ")
    in_path = PATH_PARAM_RE.findall(path)
    for param in in_path:
        if param not in method.path:
            raise ConfigError(file, f"{where}.http", f"path parameter {{{param}}} is not in `path`")
    for param in method.path:
        if param not in in_path:
            raise ConfigError(file, f"{where}.path.{param}", f"not used in the path {path!r}")

    properties: dict[str, Any] = {}
    for section in ("path", "query", "header", "body"):
        for arg, arg_schema in getattr(method, section).items():
            _check_schema(arg_schema, file, f"{where}.{section}.{arg}")
            if arg in properties:
                raise ConfigError(file, f"{where}.{section}.{arg}", "argument declared twice")
            properties[arg] = arg_schema
    if method.body_from is not None and method.body_from not in method.body:
        raise ConfigError(file, f"{where}.body_from", f"{method.body_from!r} is not in `body`")
    if method.fixed_body and method.body_from is not None:
        raise ConfigError(file, f"{where}.fixed_body", "a body sent whole has no fields")
    for field_name in method.fixed_body:
        if field_name in method.body:
            raise ConfigError(
                file, f"{where}.fixed_body.{field_name}", "is also an argument in `body`"
            )
    file_fields = check_body_encoding(method, file, where)
    for arg in method.query_prefixed:
        if arg not in method.query:
            raise ConfigError(file, f"{where}.query_prefixed.{arg}", "not in `query`")
    for arg in method.fixed_query:
        if arg in method.query:
            raise ConfigError(file, f"{where}.fixed_query.{arg}", "is also an argument in `query`")
    for arg in method.query_styles:
        if arg not in method.query:
            raise ConfigError(file, f"{where}.query_styles.{arg}", "not in `query`")
        if arg in method.query_prefixed:
            raise ConfigError(file, f"{where}.query_styles.{arg}", "is also in `query_prefixed`")
    for arg, header_schema in method.header.items():
        if header_schema.get("type") == "object":
            raise ConfigError(
                file, f"{where}.header.{arg}", "a header carries text or a list, not an object"
            )
    required = list(dict.fromkeys([*in_path, *method.required]))
    for arg in required:
        if arg not in properties:
            raise ConfigError(file, f"{where}.required", f"{arg!r} is not an argument")
    for rule in ("one_of", "any_of"):
        for index, group in enumerate(getattr(method, rule)):
            for arg in group:
                if arg not in properties:
                    raise ConfigError(
                        file, f"{where}.{rule}.{index}", f"{arg!r} is not an argument"
                    )
    item_groups = _item_groups(method, properties, file, where)
    for index, requirement in enumerate(method.required_when):
        for arg in [*requirement.when, *requirement.require]:
            if arg not in properties:
                raise ConfigError(
                    file, f"{where}.required_when.{index}", f"{arg!r} is not an argument"
                )

    paging = None
    if kind == "list":
        paging = _resolve_paging(m, method, file, where)
        for arg in ("limit", "next_cursor"):
            if arg in properties:
                raise ConfigError(file, where, f"list tools add {arg!r} themselves")
        # Every list tool repeats these two, so they are worded tersely: `limit` with its
        # bounds and default needs no words, and the result says when there is a next page.
        properties["limit"] = {
            "type": "integer",
            "minimum": 1,
            "maximum": paging.max_limit,
            "default": paging.default_limit,
        }
        properties["next_cursor"] = {
            "type": "string",
            "description": "The previous page's next_cursor.",
        }
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False

    if method.credential is False:
        credential = None
    else:
        credential = method.credential or next(iter(m.credentials), None)
    if credential is not None and credential not in m.credentials:
        raise ConfigError(file, f"{where}.credential", f"no credential profile {credential!r}")
    headers = _constant_headers(m, method, credential, file, where)
    for arg in method.header:
        if arg.lower() in headers or any(
            p.header is not None and p.header.lower() == arg.lower() for p in m.credentials.values()
        ):
            raise ConfigError(
                file, f"{where}.header.{arg}", "is also a constant or credential header"
            )
    key_param = m.credentials[credential].query if credential is not None else None
    if key_param is not None and key_param in method.query:
        raise ConfigError(
            file,
            f"{where}.query.{key_param}",
            f"is the query parameter of credential profile {credential!r}, which carries a "
            "secret; an argument may not stand in for it",
        )

    def hook(fn_name: str, key: str) -> Any:
        fn = getattr(hooks, fn_name, None) if hooks else None
        if not callable(fn):
            raise ConfigError(file, f"{where}.{key}", f"no function {fn_name!r} in the hooks")
        return fn

    checks = tuple(hook(name, f"checks.{i}") for i, name in enumerate(method.checks))
    transform = hook(method.transform, "transform") if method.transform else None
    preview = hook(method.preview, "preview") if method.preview else None

    access = method.access or ("read" if kind in ("list", "get") else "write")
    title = method.title or f"{_VERBS[kind]} {m.title} {(plural if kind == 'list' else resource)}"
    title = title.replace("_", " ")
    notes = hints(
        access=access,
        kind=kind,
        destructive=method.destructive,
        idempotent=method.idempotent,
        open_world=m.open_world if method.open_world is None else method.open_world,
    )
    return Tool(
        name=name,
        title=title,
        integration=m.name,
        resource=resource,
        kind=kind,
        access=access,
        tags=frozenset([*resource_tags, *method.tags]),
        http_method=verb,
        path=path,
        path_params=tuple(in_path),
        query_params=tuple(method.query),
        body_params=tuple(method.body),
        body_from=method.body_from,
        fixed_body=dict(method.fixed_body),
        query_prefixed=dict(method.query_prefixed),
        fixed_query={k: scalar_text(v) for k, v in method.fixed_query.items()},
        query_styles={
            arg: QueryStyle(style.style, style.explode)
            for arg, style in method.query_styles.items()
        },
        header_params=tuple(method.header),
        base_url=method.base_url.rstrip("/") if method.base_url else None,
        credential=credential,
        input_schema=schema,
        validate=requiring(
            make_validator(schema, method.one_of, method.any_of, item_groups),
            method.required_when,
            properties,
        ),
        response=_compile(method.response, file, f"{where}.response"),
        text=_compile(method.text, file, f"{where}.text"),
        paging=paging,
        checks=checks,
        transform=transform,
        preview=preview,
        keywords=tuple(method.keywords),
        definition=definition(name, method.description.strip(), schema, notes),
        invalidates=tuple(method.invalidates),
        max_body_bytes=method.max_body_bytes,
        headers=headers,
        like=(item_groups.of, item_groups.like) if item_groups and item_groups.like else None,
        body_encoding=method.body_encoding,
        form_style=method.form_style or "deep_object",
        file_fields=file_fields,
    )


def _constant_headers(
    m: Manifest, method: Method, credential: str | None, file: str, where: str
) -> dict[str, str]:
    """The method's constant headers over the manifest's, names in lower case; none may be
    the header its credential profile sets, which would send two values or replace it."""
    headers = {name.lower(): value for name, value in m.headers.items()}
    headers.update({name.lower(): value for name, value in method.headers.items()})
    profile = m.credentials.get(credential) if credential is not None else None
    secret_header = profile.header.lower() if profile and profile.header else None
    for name in method.headers:  # the manifest's own are checked against every profile
        if name.lower() == secret_header:
            raise ConfigError(
                file,
                f"{where}.headers.{name}",
                f"is the header of credential profile {credential!r}, which carries a secret",
            )
    return headers
