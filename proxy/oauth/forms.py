"""The one body shape OAuth endpoints take: `application/x-www-form-urlencoded`."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_BODY = 16 * 1024
MAX_FIELDS = 20


async def read_form(request: Request) -> dict[str, str] | None:
    """The form's fields, or None when the body is not a small URL-encoded form. Parsed
    with the standard library: no multipart, so no parser dependency for it."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return None
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return None
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)  # a repeated parameter: the first counts
    return fields
