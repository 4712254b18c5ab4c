"""Query parameters read from an operation: how each is written on the wire, and the
query a `#fragment` path key implies. Plain functions; `flag` adds a review line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def fragment_query(
    where: str,
    fragment: str,
    params: list[dict[str, Any]],
    query: dict[str, dict],
    required: list[str],
    fixed: dict[str, Any],
    flag: Callable[[str], None],
) -> None:
    """The query a `#fragment` key implies: a required parameter whose example is named
    in the fragment (Box's `#get_shared_link` with `fields=shared_link`) is sent as that
    example on every call; otherwise the review says to check."""
    for param in params:
        name, example = str(param["name"]), param.get("example")
        if param.get("in") != "query" or not param.get("required") or name not in query:
            continue
        if isinstance(example, str) and example and example in fragment:
            fixed[name] = example
            del query[name]
            required[:] = [r for r in required if r != name]
    what = (
        ", ".join(f"{k}={v}" for k, v in fixed.items())
        if fixed
        else "no query of its own (check the API's docs for one)"
    )
    flag(f"{where}: the path key's #{fragment} names the operation; it sends {what}")


def query_style(
    swagger: bool,
    where: str,
    param: dict[str, Any],
    schema: dict[str, Any],
    flag: Callable[[str], None],
) -> dict[str, Any] | None:
    """The manifest's `query_styles` entry for an array or object query parameter,
    from OpenAPI 3's style/explode or Swagger 2's collectionFormat (csv by default)."""
    if schema.get("type") not in ("array", "object", None):
        return None
    if swagger:
        if schema.get("type") != "array":
            return None
        found = str(param.get("collectionFormat") or "csv")
        if found == "tsv":
            flag(f"{where}: {param['name']} is tab-separated; yamcp sends it comma-separated")
        return {
            "multi": None,
            "ssv": {"style": "spaceDelimited", "explode": False},
            "pipes": {"style": "pipeDelimited", "explode": False},
        }.get(found, {"explode": False})
    style = str(param.get("style") or "form")
    explode = param.get("explode", style == "form")
    if style == "deepObject":
        return {"style": "deepObject"}
    if style in ("spaceDelimited", "pipeDelimited") and not explode:
        return {"style": style, "explode": False}
    if style == "form" and explode is False:
        return {"explode": False}
    return None
