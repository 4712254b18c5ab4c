"""Turn an OpenAPI 3.x or Swagger 2.0 document into a starting manifest.

`yamcp import-openapi` writes what this module builds: a plain dict in the manifest's
shape, with the tool names, arguments and paging yamcp needs, ready for a person to
review (descriptions, access, destructive hints, pagination, tags) before an agent is
granted any of it. The rules, in order of the manifest's keys:

* base_url: `servers[0].url` (variables at their defaults), or Swagger's
  `schemes` + `host` + `basePath`.
* credentials: apiKey-in-header schemes, bearer/http and OAuth schemes (the
  Authorization header, prefix "Bearer "), and header parameters named like a token, key
  or authorization. Each method names the profile its operation uses when there are
  several.
* method type: GET on a path ending in a parameter -> get (list if it answers a bare
  array); other GET -> list when the 200 answer is an array, or an object with one array
  property beside paging metadata or with paging query parameters; else get.
  POST -> create; PUT/PATCH -> update on a path ending in a parameter, else create
  (actions such as PUT /bounces/{bounceid}/activate); DELETE -> delete.
* resource names: the path's static segments (not `api` or versions), snake_case,
  each made singular; on a clash the verb (same URL), a skipped version segment, the raw
  plural, the last parameter, the verb, then a number tell them apart; names are
  shortened from the left until every tool name fits in 64 characters.
* arguments: path and query parameters as JSON Schemas; a JSON request body as `body`
  properties (or `body_from` for a body that is not an object with properties), with
  local `$ref`s inlined, nested references cut after a few levels and at every cycle.
  The last path parameter of a tool acting on one object is renamed `id`.
* list paging: count/offset and limit/offset -> offset; page with per_page, page_size,
  limit or count -> page; else none. Paging parameters leave `query`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .manifest import NAME_RE, LoadedManifest, Manifest, validate_model
from .tools import tool_name

MAX_TOOL_NAME = 64
MAX_REF_DEPTH = 5
SHORT_DESCRIPTION = 300
DEFAULT_BASE_URL = "https://api.example.invalid"

_VERBS = ("get", "post", "put", "patch", "delete")
_PARAM = re.compile(r"{([^{}]+)}")
_SKIP_SEGMENT = re.compile(r"^(api|rest|v\d+(\.\d+)*|\d+(\.\d+)*)$", re.IGNORECASE)
_CREDENTIAL_HEADER = re.compile(
    r"token|secret|auth|api[-_]?key|(?<!idempotency)[-_]key$|^key$", re.IGNORECASE
)
_JSON_TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}
_KEEP = (
    "type",
    "format",
    "enum",
    "const",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "required",
    "readOnly",
    "description",
)
_META_PROPERTY = re.compile(
    r"total|count|offset|page|limit|size|next|prev|cursor|more|links?$|meta|paging|pagination"
    r"|skip|start|end",
    re.IGNORECASE,
)
_OFFSET_NAMES = ("offset", "skip", "start")
_LIMIT_NAMES = ("count", "limit", "perpage", "pagesize", "size", "maxresults")
_PAGE_NAMES = ("page", "pagenumber", "pageno")
_ERROR_MESSAGE = ("message", "errormessage", "errordescription", "detail", "title", "error")
_ERROR_CODE = ("errorcode", "code")

REVIEW = """\
# A starting point, not a finished integration. Review before granting it to an agent:
#   descriptions   written for a model: what the tool does, what it needs, what it answers
#   access         read or write; a POST that only reads (search, validate) is `access: read`
#   destructive    writes that cannot be undone need `destructive: true`
#   pagination     each list's paging style, parameters, items and total
#   tags           group tools the way policies will grant them
#   names          resources are named from the URL paths; rename them to read well
# Then: yamcp lint && yamcp tools --integration {name}
"""


@dataclass
class ImportResult:
    """A manifest dict plus what the reviewer should know about how it was made."""

    manifest: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    operations: int = 0
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        resources = self.manifest.get("resources", {})
        kinds: dict[str, int] = {}
        for resource in resources.values():
            for kind in resource["methods"]:
                kinds[kind] = kinds.get(kind, 0) + 1
        tools = sum(kinds.values())
        by_kind = ", ".join(f"{n} {k}" for k, n in kinds.items())
        profiles = len(self.manifest.get("credentials", {}))
        return (
            f"{self.manifest['name']}: {tools} tools ({by_kind or 'none'}) in "
            f"{len(resources)} resources from {self.operations} operations; "
            f"{profiles} credential profile(s); {len(self.skipped)} operation(s) skipped"
        )


# ----------------------------------------------------------------------------- words


def snake(text: str) -> str:
    """`PublicHolidays`, `X-Api-Token`, `Bounces API` -> snake_case."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(text))
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


_IRREGULAR = {"people": "person", "children": "child", "indices": "index", "men": "man"}
_UNCOUNTED = {"data", "info", "media", "news", "series", "species", "status", "metadata"}


def singular(word: str) -> str:
    """Simple English: `countries` -> `country`, `addresses` -> `address`."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word in _UNCOUNTED or len(word) < 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def plural(word: str) -> str:
    """The plural of the last word of a snake_case name."""
    head, _, last = word.rpartition("_")
    head = f"{head}_" if head else ""
    inverse = {v: k for k, v in _IRREGULAR.items()}
    if last in inverse:
        return head + inverse[last]
    if last in _UNCOUNTED:
        return word
    if re.search(r"[^aeiou]y$", last):
        return head + last[:-1] + "ies"
    if last.endswith(("s", "x", "z", "ch", "sh")):
        return head + last + "es"
    return head + last + "s"


def _singular_name(name: str) -> str:
    head, _, last = name.rpartition("_")
    return f"{head}_{singular(last)}" if head else singular(last)


def _clean(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _short(text: str, limit: int = SHORT_DESCRIPTION) -> str:
    """At most `limit` characters, cut at a sentence end where there is one."""
    text = _clean(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if end > limit // 3:
        return cut[: end + 1]
    return cut[: cut.rfind(" ")].rstrip(",;:") + "..."


def _first_sentence(text: str) -> str:
    text = _clean(text)
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def _jmespath_key(key: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return key
    return json.dumps(key)


# ---------------------------------------------------------------------------- document


class _Document:
    """One OpenAPI/Swagger document: its version, and its local references resolved."""

    def __init__(self, spec: dict[str, Any], notes: list[str]) -> None:
        if not isinstance(spec, dict):
            raise ValueError("an OpenAPI document must be a mapping")
        self.spec = spec
        self.swagger = str(spec.get("swagger", "")).startswith("2")
        if not self.swagger and not str(spec.get("openapi", "")).startswith("3"):
            raise ValueError('not an OpenAPI 3.x or Swagger 2.0 document (no "openapi: 3.x" key)')
        if not isinstance(spec.get("paths"), dict):
            raise ValueError("the document has no `paths`")
        self.notes = notes

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def pointer(self, ref: str) -> Any:
        node: Any = self.spec
        for raw in ref[2:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise KeyError(ref)
        return node

    def deref(self, node: Any, hops: int = 0) -> Any:
        """Follow a chain of `$ref`s at the top of a node (parameters, responses, bodies)."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and hops < 20:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                self.note(f"external $ref {ref} was not followed")
                return {}
            try:
                node = self.pointer(ref)
            except KeyError:
                self.note(f"$ref {ref} points at nothing")
                return {}
            hops += 1
        return node

    def schema(self, node: Any, stack: tuple[str, ...] = ()) -> dict[str, Any]:
        """A JSON Schema (2020-12) with local `$ref`s inlined; cycles and deep nests cut."""
        if not isinstance(node, dict):
            return {}
        ref = node.get("$ref")
        if isinstance(ref, str):
            extra = self.schema({k: v for k, v in node.items() if k != "$ref"}, stack)
            if not ref.startswith("#/"):
                self.note(f"external $ref {ref} was not followed")
                return extra
            try:
                target = self.pointer(ref)
            except KeyError:
                self.note(f"$ref {ref} points at nothing")
                return extra
            name = ref.rsplit("/", 1)[-1]
            if ref in stack or len(stack) >= MAX_REF_DEPTH:
                cut: dict[str, Any] = {}
                kind = target.get("type") if isinstance(target, dict) else None
                if isinstance(kind, str) and kind in _JSON_TYPES:
                    cut["type"] = kind
                why = "refers back to itself" if ref in stack else "nested too deep"
                cut["description"] = f"A {name} ({why}; not expanded here)."
                return cut
            return {**self.schema(target, (*stack, ref)), **extra}
        out: dict[str, Any] = {k: node[k] for k in _KEEP if k in node}
        kind = out.get("type")
        if kind == "file":
            out["type"] = "string"
        elif isinstance(kind, list):
            kinds = [k for k in kind if k in _JSON_TYPES]
            if kinds:
                out["type"] = kinds
            else:
                del out["type"]
        elif kind is not None and kind not in _JSON_TYPES:
            del out["type"]
        if node.get("nullable") is True and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if isinstance(out.get(exclusive), bool):
                if out[exclusive] and bound in out:
                    out[exclusive] = out.pop(bound)
                else:
                    del out[exclusive]
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
            if key in out and (isinstance(out[key], bool) or not isinstance(out[key], int | float)):
                del out[key]
        for key in ("minLength", "maxLength", "minItems", "maxItems"):
            if key in out and (not isinstance(out[key], int) or out[key] < 0):
                del out[key]
        if "multipleOf" in out and out["multipleOf"] <= 0:
            del out["multipleOf"]
        if "pattern" in out:
            try:
                re.compile(str(out["pattern"]))
            except re.error:
                del out["pattern"]
        if "description" in out:
            out["description"] = _short(out["description"])
            if not out["description"]:
                del out["description"]
        if not isinstance(out.get("enum"), list) or not out.get("enum"):
            out.pop("enum", None)
        if not isinstance(out.get("readOnly"), bool):
            out.pop("readOnly", None)
        properties = node.get("properties")
        if isinstance(properties, dict):
            out["properties"] = {
                str(k): self.schema(v, stack) for k, v in properties.items() if isinstance(v, dict)
            }
        required = out.get("required")
        if isinstance(required, list):
            names = out.get("properties")
            out["required"] = [
                r for r in required if isinstance(r, str) and (names is None or r in names)
            ]
            if not out["required"]:
                del out["required"]
        else:
            out.pop("required", None)
        items = node.get("items")
        if isinstance(items, dict):
            out["items"] = self.schema(items, stack)
        elif isinstance(items, list) and items:
            out["items"] = self.schema(items[0], stack)
        extra_properties = node.get("additionalProperties")
        if isinstance(extra_properties, bool):
            out["additionalProperties"] = extra_properties
        elif isinstance(extra_properties, dict):
            out["additionalProperties"] = self.schema(extra_properties, stack)
        for combinator in ("allOf", "anyOf", "oneOf"):
            parts = node.get(combinator)
            if isinstance(parts, list) and parts:
                out[combinator] = [self.schema(p, stack) for p in parts if isinstance(p, dict)]
        return out

    # --- pieces of an operation

    def base_url(self) -> str | None:
        if self.swagger:
            host = self.spec.get("host")
            if not host:
                return None
            schemes = self.spec.get("schemes") or ["https"]
            scheme = "https" if "https" in schemes else schemes[0]
            base = str(self.spec.get("basePath") or "").rstrip("/")
            return f"{scheme}://{host}{base}"
        servers = self.spec.get("servers") or []
        if not servers or not isinstance(servers[0], dict) or not servers[0].get("url"):
            return None
        server = servers[0]
        url = str(server["url"])
        for var, spec in (server.get("variables") or {}).items():
            url = url.replace("{" + var + "}", str((spec or {}).get("default", "")))
        return url.rstrip("/") or None

    def parameters(self, path_item: dict, operation: dict) -> list[dict[str, Any]]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*(path_item.get("parameters") or []), *(operation.get("parameters") or [])]:
            param = self.deref(raw)
            if isinstance(param, dict) and "name" in param and "in" in param:
                merged[(param["in"], param["name"])] = param
        return list(merged.values())

    def parameter_schema(self, param: dict[str, Any]) -> dict[str, Any]:
        if self.swagger:
            skip = {"name", "in", "required", "description", "collectionFormat", "allowEmptyValue"}
            schema = self.schema({k: v for k, v in param.items() if k not in skip})
        else:
            raw = param.get("schema")
            if raw is None and isinstance(param.get("content"), dict) and param["content"]:
                raw = next(iter(param["content"].values())).get("schema")
            schema = self.schema(raw or {})
        if not schema.get("type") and not any(k in schema for k in ("anyOf", "oneOf", "enum")):
            schema["type"] = "string"
        description = _short(param.get("description") or "")
        if description:
            schema["description"] = description
        schema.pop("readOnly", None)
        return schema

    def request_body(
        self, operation: dict, params: list[dict], where: str
    ) -> tuple[dict | None, Any, bool, str | None]:
        """(schema, raw schema, required, name) of the JSON body, if the operation has one."""
        if self.swagger:
            for param in params:
                if param["in"] == "body":
                    raw = param.get("schema") or {}
                    named = self.deref(raw)
                    return self.schema(raw), named, bool(param.get("required")), param.get("name")
            if any(p["in"] == "formData" for p in params):
                self.note(
                    f"{where}: form parameters are not supported (yamcp sends JSON); left out"
                )
            return None, None, False, None
        body = self.deref(operation.get("requestBody"))
        if not isinstance(body, dict) or not isinstance(body.get("content"), dict):
            return None, None, False, None
        content = body["content"]
        media = next((m for m in content if m.split(";")[0].strip() == "application/json"), None)
        media = media or next((m for m in content if "json" in m), None)
        if media is None:
            self.note(f"{where}: a {', '.join(content)} body is not supported; left out")
            return None, None, False, None
        raw = (content[media] or {}).get("schema") or {}
        name = body.get("x-codegen-request-body-name")
        return self.schema(raw), self.deref(raw), bool(body.get("required")), name

    def response_schema(self, operation: dict) -> dict[str, Any] | None:
        responses = {str(k): v for k, v in (operation.get("responses") or {}).items()}
        codes = [c for c in responses if c == "200"] or [c for c in responses if c[0] == "2"]
        for code in codes:
            raw = self._media_schema(self.deref(responses[code]))
            if raw is not None:
                return self.schema(raw)
        return None

    def error_shape(self) -> dict[str, str]:
        """Where error bodies keep their code and message, from the first error schema."""
        for _, _, operation in self.operations():
            for code, answer in (operation.get("responses") or {}).items():
                if not (str(code)[0] in "45" or str(code) == "default"):
                    continue
                raw = self._media_schema(self.deref(answer))
                if raw is None:
                    continue
                shape = _error_paths(self.schema(raw))
                if shape:
                    return shape
        return {}

    def _media_schema(self, answer: Any) -> Any:
        if not isinstance(answer, dict):
            return None
        if self.swagger:
            return answer.get("schema")
        content = answer.get("content")
        if not isinstance(content, dict):
            return None
        media = next((m for m in content if "json" in m), None)
        return (content.get(media) or {}).get("schema") if media else None

    def operations(self) -> Iterable[tuple[str, str, dict]]:
        for path, item in self.spec["paths"].items():
            item = self.deref(item)
            if not isinstance(item, dict):
                continue
            for verb, operation in item.items():
                if verb.lower() in _VERBS and isinstance(operation, dict):
                    yield str(path), verb.lower(), operation

    def security_requirements(self, operation: dict) -> list[list[str]]:
        reqs = operation.get("security", self.spec.get("security")) or []
        return [list(req) for req in reqs if isinstance(req, dict)]

    def security_schemes(self) -> dict[str, dict]:
        if self.swagger:
            schemes = self.spec.get("securityDefinitions") or {}
        else:
            schemes = (self.spec.get("components") or {}).get("securitySchemes") or {}
        return {name: self.deref(s) for name, s in schemes.items() if isinstance(s, dict)}


def _object_view(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Properties and required names of an object schema, allOf parts merged in."""
    properties = dict(schema.get("properties") or {})
    required = list(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        more, need = _object_view(part)
        properties.update(more)
        required.extend(r for r in need if r not in required)
    return properties, required


def _is_array(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def _error_paths(schema: dict[str, Any]) -> dict[str, str]:
    properties, _ = _object_view(schema)
    lowered = {re.sub(r"[^a-z]", "", k.lower()): k for k in properties}
    nested = lowered.get("error")
    if nested and isinstance(properties[nested], dict) and properties[nested].get("properties"):
        inner = _error_paths(properties[nested])
        return {k: f"{_jmespath_key(nested)}.{v}" for k, v in inner.items()}
    shape: dict[str, str] = {}
    messages = [_jmespath_key(lowered[m]) for m in _ERROR_MESSAGE if m in lowered]
    if messages:
        shape["message"] = " || ".join(messages[:2])
    codes = [lowered[c] for c in _ERROR_CODE if c in lowered and lowered[c] not in messages]
    if codes and messages:
        shape = {"code": _jmespath_key(codes[0]), **shape}
    return shape


# ----------------------------------------------------------------------------- import


@dataclass
class _Operation:
    verb: str
    path: str
    kind: str
    names: list[str]  # candidate resource names, best first
    method: dict[str, Any]
    tags: list[str]


class _Importer:
    def __init__(self, integration: str) -> None:
        if not re.fullmatch(NAME_RE, integration):
            raise ValueError(
                f"integration name {integration!r} must be [a-z][a-z0-9_]* "
                f"(try {snake(integration) or 'my_api'!r})"
            )
        self.integration = integration
        self.notes: list[str] = []
        self.skipped: list[str] = []
        self.profiles: dict[str, dict[str, str]] = {}
        self.operations: list[_Operation] = []
        self.seen: set[tuple[str, str]] = set()
        self.ignored_headers: set[str] = set()
        self.holders: dict[tuple[str, str], _Operation] = {}

    # --- credentials

    def _secret_name(self, header: str) -> str:
        name = snake(header)
        name = re.sub(r"^x_", "", name)
        if name.startswith(f"{self.integration}_") and name != f"{self.integration}_":
            name = name[len(self.integration) + 1 :]
        return "api_token" if name in ("authorization", "") else name

    def profile(self, header: str, prefix: str, name: str | None = None) -> str:
        for existing, profile in self.profiles.items():
            if profile["header"].lower() == header.lower() and profile.get("prefix", "") == prefix:
                return existing
        secret = self._secret_name(header)
        base = name or re.sub(r"_(token|key|api_key)$", "", secret) or secret
        candidate, n = base, 2
        while candidate in self.profiles:
            candidate, n = f"{base}_{n}", n + 1
        profile = {"header": header, "secret": secret}
        if prefix:
            profile["prefix"] = prefix
        self.profiles[candidate] = profile
        return candidate

    def scheme_profiles(self, doc: _Document) -> dict[str, str]:
        mapped: dict[str, str] = {}
        for name, scheme in doc.security_schemes().items():
            kind = str(scheme.get("type", "")).lower()
            if kind == "apikey":
                if scheme.get("in") == "header" and scheme.get("name"):
                    mapped[name] = self.profile(str(scheme["name"]), "")
                else:
                    doc.note(
                        f"security scheme {name}: an API key in the {scheme.get('in')} is not "
                        "supported (yamcp sends credentials in headers); left out"
                    )
            elif kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
                mapped[name] = self.profile("Authorization", "Bearer ", snake(name) or "bearer")
            elif kind in ("oauth2", "openidconnect"):
                mapped[name] = self.profile("Authorization", "Bearer ", snake(name) or "oauth")
                doc.note(
                    f"security scheme {name} ({scheme.get('type')}): sent as a bearer token; "
                    "the account must hold a token obtained outside yamcp"
                )
            elif kind == "http":
                doc.note(
                    f"security scheme {name}: HTTP {scheme.get('scheme')} auth is not supported; "
                    "left out"
                )
        return mapped

    # --- one operation

    def add(self, doc: _Document, schemes: dict[str, str], path: str, verb: str, op: dict) -> None:
        where = f"{verb.upper()} {path}"
        if (verb, path) in self.seen:
            self.skipped.append(f"{where} (declared again)")
            return
        self.seen.add((verb, path))
        path_item = doc.deref(doc.spec["paths"][path])
        params = doc.parameters(path_item, op)

        credential = None
        for requirement in doc.security_requirements(op):
            credential = next((schemes[s] for s in requirement if s in schemes), None)
            if credential:
                break
        path_args: dict[str, dict] = {}
        query: dict[str, dict] = {}
        required: list[str] = []
        for param in params:
            where_in, name = param["in"], str(param["name"])
            if where_in == "header":
                if _CREDENTIAL_HEADER.search(name):
                    prefix = (
                        "Bearer " if "bearer" in str(param.get("description", "")).lower() else ""
                    )
                    found = self.profile(name, prefix)
                    credential = credential or found
                elif name.lower() not in self.ignored_headers:
                    self.ignored_headers.add(name.lower())
                    doc.note(
                        f"header parameter {name} is not an argument "
                        "(yamcp sends no custom headers)"
                    )
            elif where_in == "path":
                path_args[name] = doc.parameter_schema(param)
            elif where_in == "query":
                query[name] = doc.parameter_schema(param)
                if param.get("required"):
                    required.append(name)
            elif where_in == "cookie":
                doc.note(f"{where}: cookie parameter {name} left out")
        in_template = _PARAM.findall(path)
        path_args = {p: path_args.get(p, {"type": "string"}) for p in in_template}

        body_schema, raw_body, body_required, body_name = doc.request_body(op, params, where)
        body: dict[str, dict] = {}
        body_from = None
        if body_schema is not None and verb == "get":
            doc.note(f"{where}: a GET with a body; the body is left out")
        elif body_schema is not None:
            properties, need = _object_view(body_schema)
            if properties and not _is_array(body_schema):
                body = {k: v for k, v in properties.items() if not v.get("readOnly")}
                required.extend(r for r in need if r in body)
            else:
                body_from = _body_argument(body_name, raw_body, body_schema)
                body = {body_from: body_schema}
                if body_required:
                    required.append(body_from)

        response = doc.response_schema(op) if verb == "get" else None
        kind, pagination = self._kind(verb, path, query, response)
        if kind == "list":
            for arg in ("limit", "next_cursor"):
                for section in (query, body):
                    if arg in section:
                        del section[arg]
                        doc.note(f"{where}: argument {arg!r} left out (list tools add their own)")
            if any(p in ("limit", "next_cursor") for p in path_args):
                kind, pagination = "get", None
        required = [r for r in dict.fromkeys(required) if r in query or r in body]

        # Each argument name once: path first, then query, then body.
        for name in list(query):
            if name in path_args:
                del query[name]
                doc.note(f"{where}: query parameter {name} has a path parameter's name; left out")
        for name in list(body):
            if name in path_args or name in query:
                del body[name]
                doc.note(f"{where}: body field {name} has a parameter's name; left out")
                if body_from == name:
                    body_from = None
        required = [r for r in required if r in query or r in body]

        template = path
        if kind != "list" and in_template:
            last = in_template[-1]
            if last != "id" and "id" not in path_args and "id" not in query and "id" not in body:
                template = path.replace("{" + last + "}", "{id}")
                schema = path_args.pop(last)
                if "description" not in schema:
                    schema["description"] = f"The {snake(last).replace('_', ' ')}."
                path_args = {
                    ("id" if p == last else p): path_args.get(p, schema) for p in in_template
                }

        method: dict[str, Any] = {
            "http": f"{verb.upper()} {template}",
            "description": _describe(op, verb, path),
        }
        if credential:
            method["credential"] = credential
        method["access"] = "read" if verb == "get" else "write"
        if verb != "get":
            method["destructive"] = kind == "delete"
        if verb == "put" and kind == "create":
            method["idempotent"] = True
        optional = {
            "path": path_args,
            "query": query,
            "body": body,
            "body_from": body_from,
            "required": required,
            "pagination": pagination,
        }
        method.update({key: value for key, value in optional.items() if value})

        tags = [snake(t) for t in op.get("tags") or [] if snake(t)]
        self.operations.append(
            _Operation(verb, path, kind, _resource_names(path, verb, op), method, tags)
        )

    def _kind(
        self,
        verb: str,
        path: str,
        query: dict[str, dict],
        response: dict | None,
    ) -> tuple[str, dict | None]:
        if verb == "post":
            return "create", None
        if verb == "delete":
            return "delete", None
        ends_in_param = bool(_PARAM.fullmatch(path.rstrip("/").rsplit("/", 1)[-1]))
        if verb in ("put", "patch"):
            return ("update" if ends_in_param else "create"), None
        paging = _paging(query)
        shape = _list_shape(response or {}, bool(paging))
        if shape is None or (ends_in_param and shape[0] != "@"):
            return "get", None
        items, total = shape
        pagination: dict[str, Any] = dict(paging) if paging else {"style": "none"}
        for name in (pagination.get("limit_param"), pagination.get("offset_param")):
            query.pop(name, None)
        if pagination.get("page_param"):
            query.pop(pagination["page_param"], None)
        pagination["items"] = items
        if total:
            pagination["total"] = total
        return "list", pagination

    # --- the whole manifest

    def build(self, docs: Sequence[_Document]) -> dict[str, Any]:
        main = docs[0]
        info = main.spec.get("info") or {}
        base_url = next((u for u in (d.base_url() for d in docs) if u), None)
        if not base_url or not re.match(r"^https?://", base_url):
            main.note(f"no absolute server URL in the document; base_url set to {DEFAULT_BASE_URL}")
            base_url = DEFAULT_BASE_URL + (base_url or "")
        manifest: dict[str, Any] = {
            "name": self.integration,
            "title": _clean(info.get("title")) or self.integration.replace("_", " ").title(),
        }
        description = _first_paragraph(info.get("description"))
        if description:
            manifest["description"] = description
        manifest["base_url"] = base_url
        if self.profiles:
            manifest["credentials"] = self.profiles
        errors = next((e for e in (d.error_shape() for d in docs) if e), None)
        if errors:
            manifest["errors"] = errors
        manifest["resources"] = self._resources()
        if len(self.profiles) < 2:
            for resource in manifest["resources"].values():
                for method in resource["methods"].values():
                    method.pop("credential", None)
        return manifest

    def _resources(self) -> dict[str, Any]:
        resources: dict[str, dict[str, Any]] = {}
        tools: set[str] = set()
        for op in self.operations:
            name = self._free_name(op, resources, tools)
            resource = resources.setdefault(name, {"methods": {}, "_tags": []})
            resource["methods"][op.kind] = op.method
            resource["_tags"].append(op.tags)
            tools.add(tool_name(self.integration, name, plural(name), op.kind))
        for name, resource in resources.items():
            tag_lists = resource.pop("_tags")
            common = [t for t in tag_lists[0] if all(t in tags for tags in tag_lists)]
            for tags, method in zip(tag_lists, resource["methods"].values(), strict=True):
                own = [t for t in tags if t not in common]
                if own:
                    method["tags"] = own
            ordered: dict[str, Any] = {}
            if "list" in resource["methods"] and plural(name) != f"{name}s":
                ordered["plural"] = plural(name)
            if common:
                ordered["tags"] = common
            ordered["methods"] = {
                kind: _ordered_method(m) for kind, m in resource["methods"].items()
            }
            resources[name] = ordered
        return resources

    def _free_name(self, op: _Operation, resources: dict, tools: set[str]) -> str:
        candidates = [*op.names]
        base = candidates[0]
        holder = self.holders.get((self._fit(base), op.kind))
        if holder is not None and holder.path == op.path:  # PUT and PATCH of one URL
            candidates.insert(1, f"{base}_{op.verb}")
        candidates += [f"{base}_{n}" for n in range(2, 100)]
        for candidate in dict.fromkeys(candidates):
            name = self._fit(candidate)
            if name in resources and op.kind in resources[name]["methods"]:
                continue
            if tool_name(self.integration, name, plural(name), op.kind) in tools:
                continue
            self.holders[(name, op.kind)] = op
            return name
        raise ValueError(f"{op.verb.upper()} {op.path}: no free resource name")  # pragma: no cover

    def _fit(self, name: str) -> str:
        """Drop leading words until every tool name of the resource fits in 64 characters."""

        def longest(n: str) -> int:
            return max(
                len(tool_name(self.integration, n, plural(n), kind))
                for kind in ("list", "get", "create", "update", "delete")
            )

        words = name.split("_")
        while len(words) > 1 and longest("_".join(words)) > MAX_TOOL_NAME:
            words = words[1:]
        name = "_".join(words)
        while longest(name) > MAX_TOOL_NAME and len(name) > 1:
            name = name[:-1].rstrip("_")
        if longest(name) > MAX_TOOL_NAME:
            raise ValueError(f"integration name {self.integration!r} is too long for tool names")
        if not re.match(r"[a-z]", name):
            name = f"r_{name}"
        return name


def _ordered_method(method: dict[str, Any]) -> dict[str, Any]:
    order = (
        "http",
        "description",
        "credential",
        "access",
        "destructive",
        "idempotent",
        "tags",
        "path",
        "query",
        "body",
        "body_from",
        "required",
        "pagination",
    )
    return {key: method[key] for key in order if key in method}


def _describe(op: dict, verb: str, path: str) -> str:
    summary = _clean(op.get("summary"))
    detail = _first_sentence(op.get("description") or "")
    text = summary or detail
    if summary and detail and detail.lower() != summary.lower().rstrip("."):
        joined = f"{summary.rstrip('.')}. {detail}"
        if len(joined) <= SHORT_DESCRIPTION:
            text = joined
    text = _short(text) or f"{verb.upper()} {path}"
    if text[-1] not in ".!?":
        text += "."
    if op.get("deprecated"):
        text += " Deprecated upstream."
    return text


def _first_paragraph(text: Any) -> str:
    paragraph = re.split(r"\n\s*\n", str(text or "").strip())[0]
    return _short(paragraph)


def _body_argument(name: str | None, raw: Any, schema: dict[str, Any]) -> str:
    """The argument that carries a whole body: its declared name, or the items' plural."""
    if name and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.lower() != "body":
        return name
    items = raw.get("items") if isinstance(raw, dict) else None
    if isinstance(items, dict) and isinstance(items.get("$ref"), str):
        return plural(snake(items["$ref"].rsplit("/", 1)[-1]))
    return "items" if _is_array(schema) else "body"


def _paging(query: dict[str, dict]) -> dict[str, Any] | None:
    by_norm = {re.sub(r"[^a-z0-9]", "", q.lower()): q for q in query}
    offset = next((by_norm[n] for n in _OFFSET_NAMES if n in by_norm), None)
    limit = next((by_norm[n] for n in _LIMIT_NAMES if n in by_norm), None)
    page = next((by_norm[n] for n in _PAGE_NAMES if n in by_norm), None)
    if limit and offset:
        paging: dict[str, Any] = {"style": "offset", "limit_param": limit, "offset_param": offset}
    elif limit and page:
        paging = {"style": "page", "limit_param": limit, "page_param": page}
        first = query[page].get("minimum", query[page].get("default"))
        if first == 0:
            paging["first_page"] = 0
    else:
        return None
    maximum = query[limit].get("maximum")
    default = query[limit].get("default")
    if isinstance(maximum, int) and not isinstance(maximum, bool) and maximum >= 1:
        paging["max_limit"] = maximum
        ok = isinstance(default, int) and 1 <= default <= maximum
        paging["default_limit"] = default if ok else min(50, maximum)
    elif isinstance(default, int) and 1 <= default <= 100:
        paging["default_limit"] = default
    return paging


def _list_shape(schema: dict[str, Any], paged: bool) -> tuple[str, str | None] | None:
    """(items, total) JMESPath when the answer is a list, else None."""
    if _is_array(schema):
        return "@", None
    properties, _ = _object_view(schema)
    arrays = [k for k, v in properties.items() if _is_array(v)]
    if len(arrays) != 1:
        return None
    others = [k for k in properties if k != arrays[0]]
    if not paged and not all(_META_PROPERTY.search(k) for k in others):
        return None  # a summary with one array in it (stats by day), not a list
    total = next(
        (
            k
            for k in others
            if "total" in k.lower() and properties[k].get("type") in ("integer", "number")
        ),
        None,
    )
    return _jmespath_key(arrays[0]), _jmespath_key(total) if total else None


def _resource_names(path: str, verb: str, op: dict) -> list[str]:
    """Candidate resource names for one path, the best first."""
    segments = [s for s in path.strip("/").split("/") if s]
    statics = [re.sub(r"\.(json|xml)$", "", s) for s in segments if "{" not in s]
    kept = [s for s in statics if not _SKIP_SEGMENT.match(s)]
    dropped = [snake(s) for s in statics if _SKIP_SEGMENT.match(s) and snake(s)]
    raw = [snake(s) for s in kept if snake(s)]
    if not raw:
        fallback = snake(op.get("operationId") or "") or "root"
        raw = [fallback]
    base = "_".join(_singular_name(w) for w in raw)
    names = [base, *(f"{base}_{d}" for d in reversed(dropped)), "_".join(raw)]
    params = _PARAM.findall(path)
    if params:
        names.append(f"{base}_by_{snake(params[-1])}")
    names.append(f"{base}_{verb}")
    return list(dict.fromkeys(n for n in names if n))


# ----------------------------------------------------------------------------- public


def import_openapi(specs: Sequence[dict[str, Any]], integration: str) -> ImportResult:
    """Build a manifest from one or more documents of the same API (one per token kind)."""
    if not specs:
        raise ValueError("no OpenAPI document given")
    importer = _Importer(integration)
    docs = [_Document(spec, importer.notes) for spec in specs]
    count = 0
    for doc in docs:
        schemes = importer.scheme_profiles(doc)
        for path, item in doc.spec["paths"].items():
            item = doc.deref(item)
            if not isinstance(item, dict):
                continue
            for verb, operation in item.items():
                if not isinstance(operation, dict) or verb == "parameters" or verb.startswith("x-"):
                    continue
                count += 1
                if verb.lower() not in _VERBS:
                    importer.skipped.append(
                        f"{verb.upper()} {path} (yamcp has no {verb.upper()} tools)"
                    )
                    continue
                importer.add(doc, schemes, str(path), verb.lower(), operation)
    manifest = importer.build(docs)
    return ImportResult(manifest, importer.notes, count, importer.skipped)


def manifest_from_openapi(
    spec: dict[str, Any], integration: str, *, extra_specs: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """A starting manifest (a plain dict, ready to dump as YAML) for an OpenAPI document."""
    return import_openapi([spec, *extra_specs], integration).manifest


def load_spec(file: Path) -> dict[str, Any]:
    """Read an OpenAPI document from a YAML or JSON file."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), "", exc.strerror or str(exc)) from None
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(str(file), "", f"not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(file), "", "an OpenAPI document must be a mapping")
    return data


def check_manifest(manifest: dict[str, Any], file: Path) -> Any:
    """Compile a manifest dict exactly as `yamcp serve` would; raise ConfigError if it fails."""
    from .registry import compile_manifest

    model: Manifest = validate_model(Manifest, manifest, str(file))
    loaded = LoadedManifest(
        manifest=model,
        folder=file.parent,
        resource_files=dict.fromkeys(model.resources, str(file)),
    )
    return compile_manifest(loaded)


class _Dumper(yaml.SafeDumper):
    """House style: short mappings and scalar lists inline, long text as folded blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    leaf = all(
        _scalar(v) or (isinstance(v, list) and len(v) <= 8 and all(map(_scalar, v)))
        for v in data.values()
    )
    flow = bool(data) and leaf and len(json.dumps(data, ensure_ascii=False)) <= 80
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(map(_scalar, data))
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = ">" if len(data) > 80 and "\n" not in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


def render_manifest(
    manifest: dict[str, Any], *, sources: Sequence[str] = (), notes: Sequence[str] = ()
) -> str:
    """The manifest as YAML, under a header saying where it came from and what to review."""
    origin = ", ".join(sources) or "an OpenAPI document"
    lines = [f"# Generated by `yamcp import-openapi` from {origin}."]
    lines.append(REVIEW.format(name=manifest["name"]).rstrip("\n"))
    if notes:
        lines.append("# Notes from the import:")
        lines.extend(f"#   - {note}" for note in notes)
    lines.append("# yaml-language-server: $schema=../manifest.schema.json")
    body = yaml.dump(
        manifest,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return "\n".join(lines) + "\n" + body


def write_manifest(
    manifest: dict[str, Any],
    out_dir: Path,
    *,
    sources: Sequence[str] = (),
    notes: Sequence[str] = (),
    force: bool = False,
) -> Path:
    """Write `out_dir/<name>/manifest.yaml`; refuse to replace an existing file unless forced.

    The manifest is compiled first, as `yamcp serve` would, so a file that is written
    always loads.
    """
    file = Path(out_dir) / manifest["name"] / "manifest.yaml"
    if file.exists() and not force:
        raise FileExistsError(f"{file} already exists; pass --force to replace it")
    check_manifest(manifest, file)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(render_manifest(manifest, sources=sources, notes=notes), encoding="utf-8")
    return file
