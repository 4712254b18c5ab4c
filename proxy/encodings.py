"""Request bodies: the arguments of a call turned into the bytes the upstream reads, and
the load-time check that a method's body can be sent in its encoding at all.

Three encodings, named by a method's `body_encoding`: JSON, form-encoded
(`application/x-www-form-urlencoded`) in one of two conventions for nested values, and
multipart/form-data with file parts. Plain functions of the arguments: the size limit is
checked on what they return, so it is the size on the wire.

Form styles (`form_style`), as the APIs that use them document:

* `deep_object` (Stripe): an object is spread into bracketed keys, `metadata[key]=v`; an
  array is indexed, `items[0]=x`, and so are arrays of objects, `items[0][price]=p`.
* `repeat` (Twilio; OpenAPI's `style: form, explode: true`): an array is its key repeated,
  `StatusCallbackEvent=a&StatusCallbackEvent=b`. It has no way to write an object, so
  the loader refuses object arguments and a call refuses an object value.

Both write booleans as `true`/`false` and leave out null values (an absent argument is
never sent; an empty string is, as Stripe's way to unset a field).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Iterator, Mapping
from typing import Any, Literal
from urllib.parse import urlencode

import orjson

from .errors import ConfigError, ToolArgumentError
from .manifest import Method

BodyEncoding = Literal["json", "form", "multipart"]
FormStyle = Literal["deep_object", "repeat"]

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
OCTET_STREAM = "application/octet-stream"


def encode_body(
    fields: Mapping[str, Any],
    encoding: BodyEncoding,
    form_style: FormStyle = "deep_object",
    files: Mapping[str, str | None] | None = None,
) -> tuple[bytes, str]:
    """The body and its Content-Type for one call's body fields. `files` maps each
    multipart file field to its media type (None: application/octet-stream).
    Raises ToolArgumentError for a value the encoding cannot carry: nothing is sent."""
    if encoding == "form":
        return encode_form(fields, form_style), FORM
    if encoding == "multipart":
        return encode_multipart(fields, files or {})
    return orjson.dumps(dict(fields)), JSON


def _text(value: Any) -> str:
    """A scalar as the text both form APIs read: strings as they are, booleans as
    `true`/`false` (not Python's `True`), numbers as their JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # any size: JSON allows what orjson's 64 bits do not
    return orjson.dumps(value).decode()


def form_pairs(fields: Mapping[str, Any], style: FormStyle) -> list[tuple[str, str]]:
    """The (key, value) pairs of a form body, in argument order."""
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        if style == "deep_object":
            pairs.extend(_deep_object(name, value))
        else:
            pairs.extend(_repeat(name, value))
    return pairs


def encode_form(fields: Mapping[str, Any], style: FormStyle) -> bytes:
    """The form-encoded body: UTF-8, percent-encoded, a space as `+` (what urlencode and
    both APIs' own client libraries write), so `&`, `=` and `[` in a value stay inside it."""
    return urlencode(form_pairs(fields, style)).encode("ascii")


def _deep_object(key: str, value: Any) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, dict):
        for sub, item in value.items():
            # A bracket in a key would be read as one more level of nesting upstream: the
            # value would land somewhere other than where the agent put it.
            if "[" in sub or "]" in sub:
                raise ToolArgumentError(
                    f"{key}: the key {sub!r} contains '[' or ']', which a form body cannot "
                    "carry (the upstream would read it as nesting); rename the key"
                )
            yield from _deep_object(f"{key}[{sub}]", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _deep_object(f"{key}[{index}]", item)
    else:
        yield key, _text(value)


def _repeat(key: str, value: Any) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        if isinstance(item, (dict, list)):
            where = f"{key}[{index}]" if isinstance(value, list) else key
            raise ToolArgumentError(
                f"{where}: this API's form body (form_style repeat) takes only text, numbers, "
                "booleans and arrays of them, not a nested "
                f"{'object' if isinstance(item, dict) else 'array'}"
            )
        if item is not None:
            yield key, _text(item)


# Written by hand rather than with a library: the ones at hand either are not a dependency
# of yamcp (urllib3's encode_multipart_formdata comes with the test tools only) or build
# the body inside the HTTP client (pyreqwest's FormBuilder), where its size could not be
# checked before sending and the Upstream seam would have to carry parts instead of bytes.
# The format is small (RFC 7578), and the parsers the tests read it back with are not ours.


def _quoted(name: str) -> str:
    """A name for a Content-Disposition parameter, escaped as browsers, urllib3 and reqwest
    do (WHATWG HTML): a quote or line break cannot end the parameter or the header."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _parts(
    fields: Mapping[str, Any], files: Mapping[str, str | None]
) -> Iterator[tuple[bytes, bytes]]:
    """(head, data) of each part; null values are left out, as in a form."""
    for name, value in fields.items():
        if value is None:
            continue
        disposition = f'Content-Disposition: form-data; name="{_quoted(name)}"'
        if name in files and isinstance(value, str):
            try:
                # MIME base64 is wrapped at 76 characters: line breaks are not an error.
                data = base64.b64decode("".join(value.split()), validate=True)
            except (binascii.Error, ValueError):
                raise ToolArgumentError(
                    f"{name}: not valid base64 (the file's bytes, base64-encoded)"
                ) from None
            media_type = files[name] or OCTET_STREAM
            head = f'{disposition}; filename="{_quoted(name)}"\r\nContent-Type: {media_type}'
            yield head.encode(), data
        else:
            # Text parts carry no Content-Type (RFC 7578: text/plain), as a browser sends them.
            text = value if isinstance(value, str) else orjson.dumps(value).decode()
            yield disposition.encode(), text.encode()


def encode_multipart(
    fields: Mapping[str, Any], files: Mapping[str, str | None]
) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type, which carries the boundary."""
    parts = list(_parts(fields, files))
    boundary = _boundary(parts)
    out = bytearray()
    for head, data in parts:
        out += b"--%s\r\n%s\r\n\r\n%s\r\n" % (boundary.encode(), head, data)
    out += b"--%s--\r\n" % boundary.encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _boundary(parts: list[tuple[bytes, bytes]]) -> str:
    """A random boundary that appears in no part (a file could hold any bytes)."""
    while True:
        boundary = f"yamcp-{secrets.token_hex(16)}"
        if not any(boundary.encode() in data for _, data in parts):
            return boundary


_MEDIA_TYPE_RE = re.compile(r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+-]+)*")


def _types(schema: Any) -> set[str]:
    kind = schema.get("type") if isinstance(schema, dict) else None
    return {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else set()


def _nested(schema: Any) -> bool:
    """Whether a value of `schema` may be an object, or an array of objects or arrays."""
    if not isinstance(schema, dict):
        return False
    if "object" in _types(schema) or "properties" in schema:
        return True
    items = schema.get("items")
    return (
        "array" in _types(schema)
        and isinstance(items, dict)
        and bool({"object", "array"} & _types(items) or "properties" in items)
    )


def check_body_encoding(method: Method, file: str, where: str) -> dict[str, str | None]:
    """Refuse a body the encoding cannot send; answer the multipart file fields and their
    media types."""
    encoding = method.body_encoding
    if method.form_style is not None and encoding != "form":
        raise ConfigError(
            file, f"{where}.form_style", f"only for body_encoding form, not {encoding}"
        )
    if method.body_from is not None and encoding != "json":
        raise ConfigError(
            file,
            f"{where}.body_from",
            f"a whole body from one argument is JSON only, not {encoding}",
        )
    if method.form_style == "repeat":
        # Twilio's convention writes an array as its key repeated and has no way to write an
        # object: refused here rather than sent in a shape the API does not read.
        for arg, schema in method.body.items():
            if _nested(schema):
                raise ConfigError(
                    file,
                    f"{where}.body.{arg}",
                    "form_style repeat cannot send an object or an array of objects or arrays "
                    "(declare it as a JSON string if the API takes one, or use deep_object)",
                )
        for arg, value in method.fixed_body.items():
            if isinstance(value, dict) or (
                isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)
            ):
                raise ConfigError(
                    file, f"{where}.fixed_body.{arg}", "form_style repeat cannot send it nested"
                )
    if encoding != "multipart":
        return {}
    files = {
        arg: schema.get("contentMediaType")
        for arg, schema in method.body.items()
        if schema.get("contentEncoding") == "base64" and "string" in _types(schema)
    }
    for arg, media_type in files.items():
        # It becomes a part's Content-Type header: a line break would start another header.
        if media_type is not None and not _MEDIA_TYPE_RE.fullmatch(media_type):
            raise ConfigError(
                file, f"{where}.body.{arg}.contentMediaType", f"not a media type: {media_type!r}"
            )
    return files
