"""OpenAPI / Swagger schemas to the JSON Schema (2020-12) a manifest holds.

References are inlined (from any file); a reference met again inside itself, or nested
deeper than MAX_REF_DEPTH, is cut to its type and a sentence, so a model never reads an
endless or huge schema. Keywords a model cannot use (examples, `x-` keys, XML hints) go.
"""

from __future__ import annotations

import re
from typing import Any

from .load import Refs, ref_name
from .text import short

MAX_REF_DEPTH = 5
JSON_TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}
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
    "contentEncoding",
)


def convert(refs: Refs, node: Any, stack: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON Schema with `$ref`s inlined; cycles and deep nests cut."""
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str):
        extra = convert(refs, {k: v for k, v in node.items() if k != "$ref"}, stack)
        try:
            target = refs.target(ref)
        except KeyError:
            return extra
        if ref in stack or len(stack) >= MAX_REF_DEPTH:
            cut: dict[str, Any] = {}
            kind = target.get("type") if isinstance(target, dict) else None
            if isinstance(kind, str) and kind in JSON_TYPES:
                cut["type"] = kind
            why = "refers back to itself" if ref in stack else "nested too deep"
            cut["description"] = f"A {ref_name(ref)} ({why}; not expanded here)."
            return cut
        return {**convert(refs, target, (*stack, ref)), **extra}
    out: dict[str, Any] = {k: node[k] for k in _KEEP if k in node}
    _fix_keywords(node, out)
    properties = node.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {
            str(k): convert(refs, v, stack) for k, v in properties.items() if isinstance(v, dict)
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
        out["items"] = convert(refs, items, stack)
    elif isinstance(items, list) and items:
        out["items"] = convert(refs, items[0], stack)
    extra_properties = node.get("additionalProperties")
    if isinstance(extra_properties, bool):
        out["additionalProperties"] = extra_properties
    elif isinstance(extra_properties, dict):
        out["additionalProperties"] = convert(refs, extra_properties, stack)
    for combinator in ("allOf", "anyOf", "oneOf"):
        parts = node.get(combinator)
        if isinstance(parts, list) and parts:
            out[combinator] = [convert(refs, p, stack) for p in parts if isinstance(p, dict)]
    return out


def _fix_keywords(node: dict[str, Any], out: dict[str, Any]) -> None:
    """OpenAPI 3.0 / Swagger spellings to 2020-12, and values a validator would refuse."""
    kind = out.get("type")
    if kind == "file":  # Swagger 2.0 upload: a file's content, as text a model can send
        out["type"] = "string"
        out["format"] = "binary"
    elif isinstance(kind, list):
        kinds = [k for k in kind if k in JSON_TYPES]
        if kinds:
            out["type"] = kinds
        else:
            del out["type"]
    elif kind is not None and kind not in JSON_TYPES:
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
        out["description"] = short(out["description"])
        if not out["description"]:
            del out["description"]
    if not isinstance(out.get("enum"), list) or not out.get("enum"):
        out.pop("enum", None)
    if not isinstance(out.get("readOnly"), bool):
        out.pop("readOnly", None)
    if not isinstance(out.get("contentEncoding"), str):
        out.pop("contentEncoding", None)


def object_view(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Properties and required names of an object schema, allOf parts merged in."""
    properties = dict(schema.get("properties") or {})
    required = list(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        more, need = object_view(part)
        properties.update(more)
        required.extend(r for r in need if r not in required)
    return properties, required


def is_array(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def files_as_base64(schema: dict[str, Any]) -> list[str]:
    """Mark `format: binary` strings as base64 file fields (multipart); returns their names."""
    marked: list[str] = []
    for name, prop in object_view(schema)[0].items():
        for node in (prop, prop.get("items") if is_array(prop) else None):
            if isinstance(node, dict) and node.get("format") == "binary":
                node["contentEncoding"] = "base64"
                node.pop("format", None)
                marked.append(name)
    return marked
