"""Query parameters: one argument's value turned into the query pairs the upstream reads.

The styles are OpenAPI's (`style` and `explode` of a query parameter), so an imported
document's own words carry over into the manifest's `query_styles`:

* `form`, explode true (the default): an array is its key repeated, `ids=a&ids=b`; an
  object is spread into its own keys, `color=red&size=L`.
* `form`, explode false: one key, values joined by commas, `opt_fields=name,notes`; an
  object as `key,value` pairs, `color=R,100,G,200`.
* `spaceDelimited` / `pipeDelimited`, explode false: an array joined by a space or `|`.
* `deepObject`: an object as bracketed keys, `filter[status]=open`.

Scalars are the same in every style: booleans `true`/`false`, numbers as Python writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from .errors import ToolArgumentError

Style = Literal["form", "spaceDelimited", "pipeDelimited", "deepObject"]

_JOINERS = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


@dataclass(frozen=True, slots=True)
class QueryStyle:
    style: Style = "form"
    explode: bool = True


FORM = QueryStyle()


def scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)  # any size: JSON allows what orjson's 64 bits do not
    return orjson.dumps(value).decode()


def query_pairs(name: str, value: Any, style: QueryStyle = FORM) -> Iterator[tuple[str, str]]:
    """The (key, value) pairs one argument adds to the query; None adds nothing."""
    if value is None:
        return
    if style.style == "deepObject":
        yield from _deep_object(name, value)
    elif isinstance(value, (list, dict)) and not style.explode:
        parts = value if isinstance(value, list) else [p for kv in value.items() for p in kv]
        yield name, _JOINERS[style.style].join(_flat(name, p) for p in parts if p is not None)
    elif isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                yield key, _flat(f"{name}.{key}", item)
    elif isinstance(value, list):
        for item in value:
            if item is not None:
                yield name, _flat(name, item)
    else:
        yield name, scalar_text(value)


def _flat(where: str, value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise ToolArgumentError(
            f"{where}: a nested {'object' if isinstance(value, dict) else 'array'} cannot be "
            "written in this query parameter's style"
        )
    return scalar_text(value)


def _deep_object(key: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for sub, item in value.items():
            if "[" in sub or "]" in sub:
                raise ToolArgumentError(
                    f"{key}: the key {sub!r} contains '[' or ']', which the upstream would "
                    "read as one more level of nesting; rename the key"
                )
            if item is not None:
                yield from _deep_object(f"{key}[{sub}]", item)
    elif isinstance(value, list):
        for item in value:
            if item is not None:
                yield f"{key}[]", _flat(key, item)
    else:
        yield key, scalar_text(value)
