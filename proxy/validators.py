"""Argument validators: a tool's JSON Schema compiled once, checked on every call.

fastjsonschema where a schema keeps to the keywords it implements exactly, jsonschema
otherwise; both bounded in depth, and each problem said as `field: what is wrong`, never
with the value (it may be a secret).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker

from .manifest import Requirement


@dataclass(frozen=True, slots=True)
class ItemRules:
    """`one_of` / `any_of` groups checked on each item of the array argument `of`."""

    of: str
    one_of: tuple[tuple[str, ...], ...] = ()
    any_of: tuple[tuple[str, ...], ...] = ()
    like: str | None = None


# Arguments nested deeper than this are invalid: no API payload needs more, and deeper ones
# break what comes after validation (jsonschema's messages echo the instance, and orjson
# encodes at most 254 levels).
MAX_DEPTH = 64
TOO_DEEP = f"arguments: nested more than {MAX_DEPTH} levels deep"

# Keywords fastjsonschema (draft 07) reads as 2020-12 does, or more strictly (contentEncoding,
# `$` in a pattern): a schema using only these gets the fast path, and
# tests/engine/test_validators.py compares the two validators on every shipped schema. Any
# other keyword (`$ref`, `prefixItems`, `$schema`...) could make the fast path accept what
# the reference refuses.
FAST_KEYWORDS = frozenset(
    {
        *("type", "enum", "properties", "required", "additionalProperties", "items"),
        *("minimum", "maximum", "multipleOf", "minLength", "maxLength", "pattern", "format"),
        *("minItems", "maxItems", "contentEncoding"),
        *("title", "description", "default", "examples"),
    }
)


def fast_validator(schema: dict[str, Any]) -> Callable[[Any], Any] | None:
    """fastjsonschema's compiled check of `schema`, raising JsonSchemaException on a refusal, or
    None where it could accept what Draft202012Validator refuses. Formats are checked by the
    reference's own FormatChecker, so the two agree on them by construction."""
    formats: set[str] = set()
    if not _fast_keywords_only(schema, formats):
        return None
    checker = FormatChecker()
    try:
        return fastjsonschema.compile(
            schema,
            formats={name: partial(checker.conforms, format=name) for name in formats},
            use_default=False,  # never alter arguments
        )
    except (fastjsonschema.JsonSchemaDefinitionException, re.error):  # `[$]` becomes `[\Z]`
        return None


def _fast_keywords_only(schema: Any, formats: set[str]) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict) or not schema.keys() <= FAST_KEYWORDS:
        return False
    if isinstance(schema.get("format"), str):
        formats.add(schema["format"])
    subschemas = [
        *schema.get("properties", {}).values(),
        schema.get("additionalProperties", True),
        schema.get("items", True),
    ]
    return all(_fast_keywords_only(sub, formats) for sub in subschemas)


def _depth_bound(schema: Any) -> float:
    """How deep an instance valid against `schema` (of FAST_KEYWORDS) can nest, a scalar being 0."""
    if not isinstance(schema, dict):
        return 0 if schema is False else math.inf
    if "enum" in schema and not any(isinstance(v, (dict, list)) for v in schema["enum"]):
        return 0
    types = schema.get("type")
    if types is None:
        return math.inf
    types = {types} if isinstance(types, str) else set(types)
    bound = 0.0
    if "object" in types:
        values = [*schema.get("properties", {}).values(), schema.get("additionalProperties", True)]
        bound = 1 + max(map(_depth_bound, values))
    if "array" in types:
        bound = max(bound, 1 + _depth_bound(schema.get("items", True)))
    return bound


def _deeper_than(value: Any, levels: int) -> bool:
    """Whether `value` nests objects and arrays more than `levels` deep (a scalar: 0 deep)."""
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list):
        return False
    if levels == 0:
        return True
    return any(_deeper_than(child, levels - 1) for child in value)


def make_validator(
    schema: dict[str, Any],
    one_of: list[list[str]] = (),  # type: ignore[assignment]
    any_of: list[list[str]] = (),  # type: ignore[assignment]
    items: ItemRules | None = None,
) -> Callable[[dict[str, Any]], list[str]]:
    """A function returning one readable line per problem, or [] for valid arguments.

    `one_of`/`any_of` groups are checked here rather than rendered as top-level
    `oneOf`/`anyOf`, which several model APIs refuse in a function schema; so are the
    `items` groups, on each item of an array argument, naming it (`Messages[3]: ...`).
    """
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    # Compiled to Python code: 20-30x faster on the common, valid call. Only its acceptance is
    # final; on a refusal jsonschema decides, and explains every failure, not just the first.
    fast = fast_validator(schema)
    # What the fast path accepts is as deep as the schema allows: unless that is unbounded (a
    # free-form object such as a TemplateModel), accepted arguments need no counting.
    bounded = fast is not None and _depth_bound(schema) <= MAX_DEPTH

    def schema_problems(arguments: dict[str, Any]) -> list[str]:
        if fast is not None:
            try:
                fast(arguments)
            except fastjsonschema.JsonSchemaException:
                pass
            else:
                return [TOO_DEEP] if not bounded and _deeper_than(arguments, MAX_DEPTH) else []
        if _deeper_than(arguments, MAX_DEPTH):
            return [TOO_DEEP]
        problems = []
        for error in sorted(validator.iter_errors(arguments), key=lambda e: list(e.path)):
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
            problems.append(f"{where.lstrip('.') or 'arguments'}: {_message(error)}")
        return problems

    def validate(arguments: dict[str, Any]) -> list[str]:
        try:
            problems = schema_problems(arguments)
        except RecursionError:  # a schema recursing through `$ref`, with little stack left
            problems = [TOO_DEEP]
        for group in one_of:
            given = [arg for arg in group if arg in arguments]
            if len(given) != 1:
                problems.append(f"{' / '.join(group)}: give exactly one of them")
        for group in any_of:
            if not any(arg in arguments for arg in group):
                problems.append(f"{' / '.join(group)}: give at least one of them")
        if items is not None:
            problems += _item_problems(items, arguments.get(items.of))
        return problems

    return validate


def requiring(
    validate: Callable[[dict[str, Any]], list[str]],
    rules: list[Requirement],
    properties: dict[str, Any],
) -> Callable[[dict[str, Any]], list[str]]:
    """`validate`, plus a problem for each argument a `required_when` rule makes required."""
    if not rules:
        return validate

    def checked(arguments: dict[str, Any]) -> list[str]:
        problems = validate(arguments)
        for rule in rules:
            values = {a: arguments.get(a, properties[a].get("default")) for a in rule.when}
            if all(values[a] in wanted for a, wanted in rule.when.items()):
                because = " and ".join(f"{a} is {v}" for a, v in values.items())
                problems += [
                    f"{a}: required when {because}" for a in rule.require if a not in arguments
                ]
        return problems

    return checked


def _item_problems(items: ItemRules, values: Any) -> list[str]:
    """The `items` groups on each item of an array argument (others the schema refuses)."""
    problems: list[str] = []
    if not isinstance(values, list):
        return problems
    for index, item in enumerate(values):
        if not isinstance(item, dict):
            continue
        at = f"{items.of}[{index}]"
        for group in items.one_of:
            if sum(name in item for name in group) != 1:
                problems.append(f"{at}: {' / '.join(group)}: give exactly one of them")
        for group in items.any_of:
            if not any(name in item for name in group):
                problems.append(f"{at}: {' / '.join(group)}: give at least one of them")
    return problems


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _message(error: Any) -> str:
    # jsonschema echoes whole instances; a model needs the rule, not its own input back.
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties", "unknown argument(s)")
    if error.validator == "type":
        return f"expected {error.validator_value}, got {_json_type(error.instance)}"
    if error.validator == "enum":
        return f"must be one of {error.validator_value}"
    return error.message
