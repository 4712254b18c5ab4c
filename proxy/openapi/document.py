"""One OpenAPI 3.x or Swagger 2.0 document: its server, operations, parameters and bodies.

The two versions say the same things in different places; this module is the one that
knows where, so the importer above it reads one shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .load import Refs
from .schema import convert, object_view
from .text import jmespath_key, short

VERBS = ("get", "post", "put", "patch", "delete")
_ERROR_MESSAGE = ("message", "errormessage", "errordescription", "detail", "title", "error")
_ERROR_CODE = ("errorcode", "code")
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


@dataclass
class Body:
    """A request body yamcp can send: its schema, encoding and how the spec named it."""

    schema: dict[str, Any]
    raw: Any  # the schema before conversion, to name a whole-body argument after its items
    required: bool
    name: str | None
    encoding: str = "json"  # json | form | multipart
    form_style: str | None = None
    style_guessed: bool = False
    files: list[str] = field(default_factory=list)


class Document:
    """One document, with its `$ref`s resolved through the shared `Refs`."""

    def __init__(self, data: Any, refs: Refs) -> None:
        if not isinstance(data, dict):
            raise ValueError("an OpenAPI document must be a mapping")
        self.spec = data
        self.refs = refs
        self.swagger = str(data.get("swagger", "")).startswith("2")
        if not self.swagger and not str(data.get("openapi", "")).startswith("3"):
            raise ValueError('not an OpenAPI 3.x or Swagger 2.0 document (no "openapi: 3.x" key)')
        if not isinstance(data.get("paths"), dict):
            raise ValueError("the document has no `paths`")

    def schema(self, node: Any) -> dict[str, Any]:
        return convert(self.refs, node)

    def info(self) -> dict[str, Any]:
        info = self.refs.deref(self.spec.get("info")) or {}
        return {k: self.refs.deref(v) if isinstance(v, dict) else v for k, v in info.items()}

    def base_url(self) -> tuple[str | None, dict[str, str]]:
        """The server URL, its variables kept as `{name}` placeholders, and their defaults."""
        if self.swagger:
            host = self.spec.get("host")
            if not host:
                return None, {}
            schemes = self.spec.get("schemes") or ["https"]
            scheme = "https" if "https" in schemes else schemes[0]
            base = str(self.spec.get("basePath") or "").rstrip("/")
            return f"{scheme}://{host}{base}", {}
        return _server(self.spec.get("servers"))

    def operation_server(self, path_item: dict, operation: dict) -> str | None:
        """The operation's own server URL (OpenAPI 3 `servers` on the operation or its path),
        where it declares one: Box sends uploads to another host."""
        if self.swagger:
            return None
        servers = operation.get("servers") or path_item.get("servers")
        url, _ = _server(servers)
        return url

    def operations(self) -> Iterator[tuple[str, dict[str, Any], str, Any]]:
        """(path, path item, verb, operation) for every operation, `$ref`s followed."""
        for path, item in self.spec["paths"].items():
            item = self.refs.deref(item)
            if not isinstance(item, dict):
                continue
            for verb, operation in item.items():
                if verb in ("parameters", "servers", "summary", "description") or verb.startswith(
                    "x-"
                ):
                    continue
                yield str(path), item, verb.lower(), self.refs.deref(operation)

    def parameters(self, path_item: dict, operation: dict) -> list[dict[str, Any]]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*(path_item.get("parameters") or []), *(operation.get("parameters") or [])]:
            param = self.refs.deref(raw)
            if isinstance(param, dict) and "name" in param and "in" in param:
                merged[(param["in"], param["name"])] = param
        return list(merged.values())

    def parameter_schema(self, param: dict[str, Any]) -> dict[str, Any]:
        if self.swagger and param.get("in") != "body":
            skip = {"name", "in", "required", "description", "collectionFormat", "allowEmptyValue"}
            schema = self.schema({k: v for k, v in param.items() if k not in skip})
        else:
            raw = param.get("schema")
            if raw is None and isinstance(param.get("content"), dict) and param["content"]:
                raw = next(iter(param["content"].values())).get("schema")
            schema = self.schema(raw or {})
        if not schema.get("type") and not any(k in schema for k in ("anyOf", "oneOf", "enum")):
            schema["type"] = "string"
        description = short(param.get("description") or "")
        if description:
            schema["description"] = description
        schema.pop("readOnly", None)
        return schema

    def request_body(self, operation: dict, params: list[dict]) -> Body | str | None:
        """The body yamcp can send; a string saying why not when it cannot; None if none."""
        if self.swagger:
            return self._swagger_body(operation, params)
        body = self.refs.deref(operation.get("requestBody"))
        if not isinstance(body, dict) or not isinstance(body.get("content"), dict):
            return None
        content = body["content"]
        by_type = {m.split(";")[0].strip().lower(): m for m in content}
        media = by_type.get("application/json") or next(
            (m for t, m in by_type.items() if t.endswith("json")), None
        )
        encoding = "json"
        if media is None and _FORM in by_type:
            media, encoding = by_type[_FORM], "form"
        elif media is None and _MULTIPART in by_type:
            media, encoding = by_type[_MULTIPART], "multipart"
        if media is None:
            return f"a {', '.join(content)} body, which yamcp cannot send"
        entry = self.refs.deref(content[media]) or {}
        raw = entry.get("schema") or {}
        out = Body(
            schema=self.schema(raw),
            raw=self.refs.deref(raw),
            required=bool(body.get("required")),
            name=body.get("x-codegen-request-body-name"),
            encoding=encoding,
        )
        if encoding == "form":
            styles = {
                (str(e.get("style", "form")), e.get("explode", e.get("style", "form") == "form"))
                for e in (entry.get("encoding") or {}).values()
                if isinstance(e, dict)
            }
            _form_style(out, styles)
        return out

    def _swagger_body(self, operation: dict, params: list[dict]) -> Body | None:
        for param in params:
            if param["in"] == "body":
                raw = param.get("schema") or {}
                return Body(
                    self.schema(raw),
                    self.refs.deref(raw),
                    bool(param.get("required")),
                    param.get("name"),
                )
        form = [p for p in params if p["in"] == "formData"]
        if not form:
            return None
        properties = {str(p["name"]): self.parameter_schema(p) for p in form}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [str(p["name"]) for p in form if p.get("required")]
        if required:
            schema["required"] = required
        consumes = operation.get("consumes") or self.spec.get("consumes") or []
        multipart = any(p.get("type") == "file" for p in form) or (
            _MULTIPART in consumes and _FORM not in consumes
        )
        out = Body(schema, schema, bool(required), None, "multipart" if multipart else "form")
        if not multipart:
            multi = any(p.get("collectionFormat") == "multi" for p in form)
            _form_style(out, {("form", True)} if multi else set())
        return out

    def response(self, operation: dict) -> tuple[dict[str, Any] | None, set[str]]:
        """The success answer's schema (None if it declares none) and its header names."""
        responses = {str(k): v for k, v in (operation.get("responses") or {}).items()}
        codes = [c for c in responses if c == "200"] or [c for c in responses if c[:1] == "2"]
        for code in codes:
            answer = self.refs.deref(responses[code])
            headers = {str(h).lower() for h in (answer or {}).get("headers") or {}}
            raw = self._media_schema(answer)
            if raw is not None:
                return self.schema(raw), headers
            return None, headers
        return None, set()

    def response_example(self, operation: dict) -> Any:
        """The success answer's example body, where the document gives one (Slack's show
        fields its schemas leave out, such as response_metadata.next_cursor)."""
        responses = {str(k): v for k, v in (operation.get("responses") or {}).items()}
        answer = self.refs.deref(responses.get("200") or {})
        if not isinstance(answer, dict):
            return None
        if self.swagger:
            return (answer.get("examples") or {}).get("application/json")
        content = answer.get("content")
        if not isinstance(content, dict):
            return None
        media = self.refs.deref(next((v for k, v in content.items() if "json" in k), None))
        if not isinstance(media, dict):
            return None
        if "example" in media:
            return media["example"]
        first = next(iter((media.get("examples") or {}).values()), None)
        first = self.refs.deref(first)
        return first.get("value") if isinstance(first, dict) else None

    def error_shape(self) -> dict[str, str]:
        """Where error bodies keep their code and message, from the first error schema."""
        for _, _, verb, operation in self.operations():
            if verb not in VERBS or not isinstance(operation, dict):
                continue
            for code, answer in (operation.get("responses") or {}).items():
                if not (str(code)[:1] in "45" or str(code) == "default"):
                    continue
                raw = self._media_schema(self.refs.deref(answer))
                if raw is None:
                    continue
                schema = self.schema(raw)
                shape = _error_paths(schema)
                if shape:
                    ok = object_view(schema)[0].get("ok") or {}
                    if ok.get("type") == "boolean":  # Slack: errors answer 200 {ok: false}
                        shape["when"] = "ok == `false`"
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
        return (self.refs.deref(content.get(media)) or {}).get("schema") if media else None

    def security_requirements(self, operation: dict) -> list[list[str]]:
        reqs = operation.get("security", self.spec.get("security")) or []
        return [list(req) for req in reqs if isinstance(req, dict)]

    def public(self, operation: dict) -> bool:
        """An operation that needs no credential in a document whose others do: it says
        `security: []`, or says nothing where the document requires none at the top and
        some other operation does (Petstore's /store and /user)."""
        if operation.get("security") == []:
            return True
        if operation.get("security") or self.spec.get("security"):
            return False
        return self._some_secured

    @cached_property
    def _some_secured(self) -> bool:
        return any(isinstance(op, dict) and op.get("security") for *_, op in self.operations())

    def security_schemes(self) -> dict[str, dict]:
        if self.swagger:
            schemes = self.spec.get("securityDefinitions") or {}
        else:
            schemes = (self.refs.deref(self.spec.get("components")) or {}).get(
                "securitySchemes"
            ) or {}
        found = {name: self.refs.deref(s) for name, s in schemes.items()}
        return {name: s for name, s in found.items() if isinstance(s, dict)}


def _server(servers: Any) -> tuple[str | None, dict[str, str]]:
    """The first server's URL, its variables kept as `{name}` placeholders, and their
    defaults; a variable with one possible value is filled in."""
    if not servers or not isinstance(servers[0], dict) or not servers[0].get("url"):
        return None, {}
    server = servers[0]
    url = str(server["url"]).rstrip("/")
    variables: dict[str, str] = {}
    for name, spec in (server.get("variables") or {}).items():
        spec = spec or {}
        values = spec.get("enum") or []
        if "{" + name + "}" not in url:
            continue
        if len(values) == 1 or (not values and spec.get("default") is None):
            url = url.replace("{" + name + "}", str(values[0] if values else ""))
        else:  # an account setting: which region, which subdomain
            variables[name] = str(spec.get("default", ""))
    return url or None, variables


def _form_style(body: Body, styles: set[tuple[str, Any]]) -> None:
    """deepObject -> deep_object; form + explode -> repeat; guessed when nested and unsaid."""
    properties, _ = object_view(body.schema)
    nested = any(p.get("type") in ("array", "object") for p in properties.values())
    if any(style == "deepObject" for style, _ in styles):
        body.form_style = "deep_object"
    elif any(style == "form" and explode for style, explode in styles):
        body.form_style = "repeat"
    elif nested:  # OpenAPI's default for a form body is style form, explode true
        body.form_style = "repeat"
        body.style_guessed = True


def _error_paths(schema: dict[str, Any]) -> dict[str, str]:
    properties, _ = object_view(schema)
    lowered = {re.sub(r"[^a-z]", "", k.lower()): k for k in properties}
    nested = lowered.get("error")
    if nested and isinstance(properties[nested], dict) and properties[nested].get("properties"):
        inner = _error_paths(properties[nested])
        return {k: f"{jmespath_key(nested)}.{v}" for k, v in inner.items()}
    shape: dict[str, str] = {}
    messages = [jmespath_key(lowered[m]) for m in _ERROR_MESSAGE if m in lowered]
    if messages:
        shape["message"] = " || ".join(messages[:2])
    codes = [lowered[c] for c in _ERROR_CODE if c in lowered and lowered[c] not in messages]
    if codes and messages:
        shape = {"code": jmespath_key(codes[0]), **shape}
    return shape
