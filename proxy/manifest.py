"""Manifest models and the loader that turns integration folders into checked models.

A manifest is the whole description of an integration: where the API lives, which
header carries which credential, and its resources with their methods. The loader
refuses anything it does not understand and says `file: path.to.key: reason`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

MethodKind = Literal["list", "get", "create", "update", "delete"]
HTTP_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NAME_RE = r"^[a-z][a-z0-9_]*$"

JsonSchema = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CredentialProfile(_Strict):
    """One way of authenticating: which header carries which account credential."""

    header: str = Field(description="HTTP header that carries the credential.")
    secret: str = Field(description="Key under the account's `credentials` that holds the value.")
    prefix: str = Field("", description='Text put before the value, e.g. "Bearer ".')


class ErrorShape(_Strict):
    """Where the upstream puts its error code and message in an error body (JMESPath)."""

    code: str | None = None
    message: str | None = None
    hints: dict[str, str] = Field(
        default_factory=dict,
        description="Next steps by upstream error code, appended to that error's tool result.",
    )

    @field_validator("hints", mode="before")
    @classmethod
    def _codes_as_text(cls, value: Any) -> Any:
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


class RateLimitHeaders(_Strict):
    """Upstream headers carrying rate-limit data; unset fields use the common conventions."""

    limit: list[str] | None = None
    remaining: list[str] | None = None
    reset: list[str] | None = None
    reset_kind: Literal["auto", "delta", "epoch"] = "auto"
    retry_after: list[str] | None = None


class Pagination(_Strict):
    """How the upstream pages a list. Every field may be set per integration or per method."""

    style: Literal["offset", "page", "none"] | None = Field(
        None,
        description="offset: limit + offset parameters; page: page number + page size; "
        "none: the upstream returns everything and yamcp pages it.",
    )
    limit_param: str | None = None
    offset_param: str | None = Field(None, description="Offset parameter (style offset).")
    page_param: str | None = Field(None, description="Page-number parameter (style page).")
    first_page: int | None = Field(None, description="Number of the first page (style page).")
    default_limit: int | None = Field(None, ge=1)
    max_limit: int | None = Field(None, ge=1)
    max_window: int | None = Field(None, ge=1, description="Largest limit + offset upstream.")
    items: str | None = Field(None, description="JMESPath to the array of items.")
    total: str | None = Field(None, description="JMESPath to the total count, if any.")


class ItemGroups(_Strict):
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


class Requirement(_Strict):
    """Arguments required only when others have certain values (a schema's if/then, which
    several model APIs refuse at the top level)."""

    when: dict[str, list[Any]] = Field(
        description="Argument -> values that make the rule apply; a left-out argument "
        "counts as its schema default."
    )
    require: list[str] = Field(min_length=1, description="Arguments then required.")


class Method(_Strict):
    """One operation of a resource, rendered as one MCP tool."""

    http: str = Field(description='Verb and path, e.g. "GET /bounces/{id}".')
    description: str = Field(min_length=1, description="What the tool does, written for a model.")
    title: str | None = None
    credential: str | None = Field(None, description="Credential profile; default: the first.")
    access: Literal["read", "write"] | None = Field(
        None, description="Override where the verb misleads (POST .../validate is a read)."
    )
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None
    tags: list[str] = Field(default_factory=list, description="Tags added to the resource's.")
    path: dict[str, JsonSchema] = Field(default_factory=dict, description="Path parameters.")
    query: dict[str, JsonSchema] = Field(default_factory=dict, description="Query parameters.")
    body: dict[str, JsonSchema] = Field(default_factory=dict, description="JSON body fields.")
    body_from: str | None = Field(
        None, description="An argument whose value is sent as the whole body (e.g. an array)."
    )
    fixed_body: dict[str, Any] = Field(
        default_factory=dict,
        description="Body fields every call sends as given; not arguments, so the agent cannot "
        "change them (a dry-run flag: a preview tool and the real one over one endpoint).",
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

    @field_validator("http")
    @classmethod
    def _verb_and_path(cls, value: str) -> str:
        verb, _, path = value.partition(" ")
        if verb not in HTTP_VERBS or not path.startswith("/"):
            raise ValueError(f'must be "<{"|".join(HTTP_VERBS)}> /path", got {value!r}')
        return value


class Resource(_Strict):
    plural: str | None = Field(None, pattern=NAME_RE)
    tags: list[str] = Field(default_factory=list)
    methods: dict[MethodKind, Method]


class ResourceFile(_Strict):
    """A file named by `include`: more resources of the same integration."""

    resources: dict[str, Resource]


class Manifest(_Strict):
    """The root of `integrations/<name>/manifest.yaml`."""

    name: str = Field(pattern=NAME_RE)
    title: str
    description: str | None = None
    base_url: str = Field(pattern=r"^https?://")
    credentials: dict[str, CredentialProfile] = Field(
        default_factory=dict, description="Credential profiles; none for a public API."
    )
    errors: ErrorShape = ErrorShape()
    rate_limit: RateLimitHeaders = RateLimitHeaders()
    pagination: Pagination = Pagination()
    open_world: bool = True
    hooks: str | None = Field(None, description="Python file in this folder with hook functions.")
    sandbox: str | None = Field(
        None,
        description="Python file in this folder with a stateful, in-memory simulator of the "
        "API, served on loopback by `yamcp serve --sandbox`. It defines `sandbox_app()`, "
        "returning a fresh ASGI app, and `CREDENTIALS`, mapping each secret the credential "
        "profiles name to the value the simulator accepts.",
    )
    include: list[str] = Field(default_factory=list, description="More files of resources.")
    resources: dict[str, Resource] = Field(default_factory=dict)


class LoadedManifest(BaseModel):
    """A manifest with every included resource merged in, and where it came from."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    manifest: Manifest
    folder: Path
    resource_files: dict[str, str]  # resource name -> file it was declared in


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


_YAML_PROBLEMS = {
    "ScannerError": "a token the scanner cannot read (a tab, an unclosed quote, a stray ':')",
    "ParserError": "a structure the parser cannot follow (indentation, brackets)",
    "ComposerError": "an alias (*name) with no anchor (&name), or several documents",
    "ConstructorError": "a tag or value that cannot be loaded safely",
    "ReaderError": "a character that may not appear in YAML",
}


def _read_yaml(file: Path) -> Any:
    try:
        with file.open("rb") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        # Only where and what kind of mistake: PyYAML's own message quotes the text around
        # it (`found undefined alias 'sk-...'`), and that text may be a secret.
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = _YAML_PROBLEMS.get(type(exc).__name__, "a syntax error")
        raise ConfigError(str(file), where, f"not valid YAML: {problem}") from None
    except OSError as exc:
        raise ConfigError(str(file), "", exc.strerror or str(exc)) from None


def validate_model(model: type[BaseModel], data: Any, file: str) -> Any:
    """Validate `data` against `model`, turning the first error into a ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown key"
        elif err["type"] == "literal_error":
            reason = f"{err['msg']} (got {err['input']!r})"
        raise ConfigError(file, _loc(err["loc"]), reason) from None


def load_manifest(file: Path) -> LoadedManifest:
    """Read one manifest and the files it includes into one checked model."""
    data = _read_yaml(file)
    if not isinstance(data, dict):
        raise ConfigError(str(file), "", "a manifest must be a mapping")
    manifest: Manifest = validate_model(Manifest, data, str(file))
    resources = dict(manifest.resources)
    origin = dict.fromkeys(resources, str(file))
    for index, name in enumerate(manifest.include):
        part = file.parent / name
        if file.parent.resolve() not in part.resolve().parents:
            raise ConfigError(str(file), f"include.{index}", "must name a file in this folder")
        extra: ResourceFile = validate_model(ResourceFile, _read_yaml(part), str(part))
        for rname, resource in extra.resources.items():
            if rname in resources:
                raise ConfigError(
                    str(part), f"resources.{rname}", f"already declared in {origin[rname]}"
                )
            resources[rname] = resource
            origin[rname] = str(part)
    merged = manifest.model_copy(update={"resources": resources, "include": []})
    return LoadedManifest(manifest=merged, folder=file.parent, resource_files=origin)


def discover(dirs: list[Path]) -> list[Path]:
    """Every `*/manifest.yaml` under the given folders, in a stable order."""
    found: list[Path] = []
    for folder in dirs:
        if not folder.is_dir():
            raise ConfigError(str(folder), "", "integrations folder does not exist")
        found.extend(sorted(folder.glob("*/manifest.yaml")))
    return found


PATH_PARAM_RE = re.compile(r"{([^{}]+)}")


SCHEMA_FILES = {"manifest.schema.json": Manifest, "resources.schema.json": ResourceFile}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schemas editors use to check and complete manifests, from the models."""
    out = {}
    for file, model in SCHEMA_FILES.items():
        schema = model.model_json_schema()
        out[file] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://yamcp.dev/schemas/{file}",
            "title": f"yamcp {'manifest' if model is Manifest else 'manifest include file'}",
            **schema,
        }
    return out
