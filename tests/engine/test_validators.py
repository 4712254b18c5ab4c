"""The fast validator never disagrees with the 2020-12 reference on a shipped schema.

Arguments are checked by fastjsonschema's compiled code first; only its acceptance is final,
and on a refusal jsonschema's Draft202012Validator decides. So for every tool of every shipped
integration, hypothesis builds arguments from the tool's own schema (its property names, enum
values, formats, bounds, right and wrong types, extra and missing keys) and checks that the fast
path accepts nothing the reference refuses, that it refuses what the reference accepts only for
a known, harmless reason, and that `make_validator` always reaches the reference's verdict.
"""

from __future__ import annotations

import base64
import inspect
import sys
from functools import partial
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from proxy.registry import load_registry
from proxy.validators import MAX_DEPTH, TOO_DEEP, fast_validator, make_validator
from tests.support.paths import ROOT
from tests.support.postmark_cases import CASES

REGISTRY = load_registry([ROOT / "integrations"])
TOOL_NAMES = sorted(REGISTRY.tools)

# Where fastjsonschema is stricter than 2020-12 and the reference overrules it (a slower call,
# never a wrong verdict): contentEncoding is an annotation in 2020-12, and fastjsonschema reads
# `$` in a pattern as `\Z`, so "ab\n" fails `^[a-z]+$` there but not in Python's `re`.
STRICTER = ("must be encoded by base64", "must match pattern")

BIG = [2**31, 2**53 + 1, 2**63, 2**64, -(2**63) - 1, 10**30]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, 1, -1, 1.0, -0.0, 2.5, 1e300, *BIG])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)

VALID_FORMATS = {
    "date": st.dates().map(lambda d: d.isoformat()),
    "email": st.emails(),
    "uri": st.sampled_from(["https://example.com/hook", "http://[::1]:80/x?y=1", "urn:x:y"]),
}
# Edge cases, each valid or not: fastjsonschema's own date pattern, for one, accepts year 0000
# and any Unicode digits, where 2020-12 (Python's date, ASCII digits) refuses both.
TRICKY_FORMATS = {
    "date": st.from_regex(r"\d{4}-\d{2}-\d{2}", fullmatch=True)
    | st.sampled_from(
        [
            *("2024-02-29", "2023-02-29", "2024-02-30", "2024-04-31", "2024-13-01", "2024-00-10"),
            *("0000-01-01", "0001-01-01", "9999-12-31", "2024-1-1", "20240101", "2024-01-01\n"),
            *("2024-01-01T00:00:00Z", " 2024-01-01", "\u0662\u0660\u0662\u0664-01-01"),
        ]
    ),
    "email": st.sampled_from(
        ["a@b", "@", "a@", "@b", "a..b@c.d", "plain", "a@b.c\n", "\u00e4@\u00fc.de", ".a@b.c"]
    ),
    "uri": st.sampled_from(
        ["http://exa mple.com", "mailto:a@b", "relative/path", "http://e.com/\n", "ht tp://a", ""]
    ),
}


def valid_string(schema: dict[str, Any], odds: int) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "format" in schema:
        return VALID_FORMATS.get(schema["format"], st.text(max_size=12))
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    if "contentEncoding" in schema:
        return st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode())
    longest = min(schema.get("maxLength", 12), 12)
    text = st.text(min_size=min(schema.get("minLength", 0), longest), max_size=longest)
    if "maxLength" in schema:  # code points, astral ones too
        text |= st.sampled_from("x\U0001f600").map(lambda c: c * schema["maxLength"])
    return text


def tricky_string(schema: dict[str, Any], odds: int) -> st.SearchStrategy[Any]:
    if schema.get("format") in TRICKY_FORMATS:  # where validators differ most
        return TRICKY_FORMATS[schema["format"]] | json_values
    options = [json_values]
    if "enum" in schema:
        options.append(st.sampled_from(schema["enum"]).map(lambda v: str(v).lower()))
    if "pattern" in schema:  # `$` before a final newline: 2020-12 in Python accepts it
        options.append(valid_string(schema, odds).map(lambda s: s + "\n"))
        options.append(valid_string(schema, odds).map(lambda s: " " + s))
    if "maxLength" in schema:
        options.append(st.sampled_from("x\U0001f600").map(lambda c: c * (schema["maxLength"] + 1)))
    if "contentEncoding" in schema:
        options.append(st.sampled_from(["not base64!", "YQ", "YQ=", "YWJj\n"]))
    return st.one_of(options)


def valid_integer(schema: dict[str, Any], odds: int) -> st.SearchStrategy[Any]:
    low, high = schema.get("minimum"), schema.get("maximum")
    step = schema.get("multipleOf", 1)
    ints = st.integers(
        None if low is None else -(-low // step), None if high is None else high // step
    ).map(lambda k: k * step)
    return ints | ints.map(float)  # 1.0 is an integer in JSON Schema


def tricky_integer(schema: dict[str, Any], odds: int) -> st.SearchStrategy[Any]:
    points = [0, 1, -1, *BIG]
    for key in ("minimum", "maximum"):
        if key in schema:
            points += [schema[key] - 1, schema[key] + 1]
    if "multipleOf" in schema:
        points += [schema["multipleOf"] + 1, schema["multipleOf"] * 2.5]
    return st.one_of(
        st.sampled_from(points),
        st.sampled_from(points).map(lambda n: n + 0.5),
        st.booleans(),  # True is no integer, though isinstance(True, int) in Python
        json_values,
    )


def valid_object(schema: dict[str, Any], odds: int) -> st.SearchStrategy[Any]:
    props = schema.get("properties", {})
    required = [k for k in schema.get("required", []) if k in props]
    base = st.fixed_dictionaries(
        {k: value(props[k], odds) for k in required},
        optional={k: value(s, odds) for k, s in props.items() if k not in required},
    )
    extra = schema.get("additionalProperties", True)
    if extra is False:
        return base
    extras = st.dictionaries(
        st.text(max_size=5).filter(lambda k: k not in props),
        value(extra, odds) if isinstance(extra, dict) else json_values,
        max_size=2,
    )
    return st.builds(lambda a, b: {**b, **a}, base, extras)


def tricky_object(schema: dict[str, Any], odds: int) -> st.SearchStrategy[Any]:
    props = schema.get("properties", {})
    names = [*(k.lower() for k in props), *(k.upper() for k in props), "extra", ""]
    extras = st.dictionaries(st.sampled_from(names) | st.text(max_size=5), json_values, min_size=1)
    options = [json_values, st.builds(lambda a, b: {**b, **a}, valid_object(schema, odds), extras)]
    required = [k for k in schema.get("required", []) if k in props]
    if required:
        options.append(
            st.tuples(valid_object(schema, odds), st.sampled_from(required)).map(
                lambda t: {k: v for k, v in t[0].items() if k != t[1]}
            )
        )
    return st.one_of(options)


def array_sizes(schema: dict[str, Any], valid: bool) -> list[int]:
    low, high = schema.get("minItems", 0), schema.get("maxItems")
    if valid:
        return sorted({low, low + 1, *([high] if high is not None else [])})
    return sorted({n for n in (low - 1, (high or -2) + 1) if n >= 0})


def valid_array(schema: dict[str, Any], odds: int) -> st.SearchStrategy[Any]:
    items = value(schema.get("items", True), odds)
    low, high = schema.get("minItems", 0), schema.get("maxItems", 3)
    # Arrays at their bounds repeat one item: the count is what is tested, and 500 cost.
    return st.lists(items, min_size=low, max_size=max(low, min(high, 3))) | repeated(
        items, array_sizes(schema, valid=True)
    )


def tricky_array(schema: dict[str, Any], odds: int) -> st.SearchStrategy[Any]:
    sizes = array_sizes(schema, valid=False)
    items = value(schema.get("items", True), odds)
    return json_values | repeated(items, sizes) if sizes else json_values


def repeated(items: st.SearchStrategy[Any], sizes: list[int]) -> st.SearchStrategy[Any]:
    return st.tuples(items, st.sampled_from(sizes)).map(lambda t: [t[0]] * t[1])


SHAPES = {
    "string": (valid_string, tricky_string),
    "integer": (valid_integer, tricky_integer),
    "boolean": (
        lambda schema, odds: st.booleans(),
        lambda schema, odds: st.sampled_from([0, 1, 1.0, "true", None]),
    ),
    "object": (valid_object, tricky_object),
    "array": (valid_array, tricky_array),
}


def value(schema: Any, odds: int) -> st.SearchStrategy[Any]:
    """A valid value for `schema`, but one time in `odds` a tricky one (valid or not)."""
    if not isinstance(schema, dict) or schema.get("type") not in SHAPES:
        return json_values  # free-form: anything at all is valid
    valid, tricky = SHAPES[schema["type"]]
    # Not one_of, which would draw each as often. Hypothesis favours an integer's bounds, so
    # tricky is the one in the middle.
    choose = partial(pick, valid(schema, odds), tricky(schema, odds), odds // 2)
    return st.integers(1, odds).flatmap(choose)


def pick(valid: Any, tricky: Any, tricky_draw: int, draw: int) -> st.SearchStrategy[Any]:
    return tricky if draw == tricky_draw else valid


def arguments(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly nearly valid arguments, so the fast path's acceptances are put to the test too
    (an email has a dozen values: with a tricky one in four, it would hardly ever be valid)."""
    return value(schema, 40) | value(schema, 4)


def reference(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def fast_verdict(fast: Any, instance: Any) -> str | None:
    """None when the fast path accepts, else its reason."""
    try:
        fast(instance)
    except fastjsonschema.JsonSchemaException as exc:
        return exc.message
    return None


VALIDATORS = {
    name: (
        reference(REGISTRY.tools[name].input_schema),
        fast_validator(REGISTRY.tools[name].input_schema),
        make_validator(REGISTRY.tools[name].input_schema),
    )
    for name in TOOL_NAMES
}
INSTANCES = {name: arguments(REGISTRY.tools[name].input_schema) for name in TOOL_NAMES}


def test_every_shipped_tool_gets_the_fast_path() -> None:
    assert [name for name, (_, fast, _) in VALIDATORS.items() if fast is None] == []


@pytest.mark.parametrize("name", TOOL_NAMES)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_fast_validator_agrees_with_the_2020_12_reference(name: str, data: st.DataObject) -> None:
    ref, fast, validate = VALIDATORS[name]
    instance = data.draw(INSTANCES[name], label="arguments")
    valid = ref.is_valid(instance)
    refusal = fast_verdict(fast, instance)
    if refusal is None:
        assert valid, f"the fast path accepts what 2020-12 refuses: {instance!r}"
    elif valid:
        assert any(reason in refusal for reason in STRICTER), f"refuses a valid call: {refusal}"
    assert (validate(instance) == []) == valid


def formats(schema: Any) -> set[str]:
    if isinstance(schema, list):
        return set().union(*map(formats, schema))
    if not isinstance(schema, dict):
        return set()
    found = {schema["format"]} if isinstance(schema.get("format"), str) else set()
    return found.union(*(formats(v) for k, v in schema.items() if k not in ("enum", "default")))


SHIPPED_FORMATS = sorted(set().union(*(formats(t.input_schema) for t in REGISTRY.tools.values())))


@pytest.mark.parametrize("name", SHIPPED_FORMATS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_formats_agree_with_the_2020_12_reference(name: str, data: st.DataObject) -> None:
    schema = {"type": "string", "format": name}
    text = data.draw(
        VALID_FORMATS.get(name, st.nothing())
        | TRICKY_FORMATS.get(name, st.nothing())
        | st.text(max_size=12)
    )
    assert (fast_verdict(fast_validator(schema), text) is None) == reference(schema).is_valid(text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_documented_calls_take_the_fast_path(name: str) -> None:
    """The call of each tool in tests/integrations/postmark/test_postmark_all_tools.py: valid, and accepted fast."""
    ref, fast, _ = VALIDATORS[name]
    assert ref.is_valid(CASES[name].args)
    assert fast_verdict(fast, CASES[name].args) is None


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        # Each is accepted by fastjsonschema's draft 07 reading and refused by 2020-12.
        ({"type": "array", "prefixItems": [{"type": "string"}]}, [1]),
        ({"type": "object", "dependentRequired": {"a": ["b"]}}, {"a": 1}),
        ({"type": "object", "unevaluatedProperties": False}, {"a": 1}),
        ({"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "maxLength": 1}, "ab"),
        ({"$schema": "http://json-schema.org/draft-04/schema#", "const": 1}, 2),
    ],
)
def test_keywords_read_differently_leave_the_decision_to_the_reference(
    schema: dict[str, Any], instance: Any
) -> None:
    fastjsonschema.compile(schema)(instance)  # accepted, wrongly
    assert fast_validator(schema) is None
    assert not reference(schema).is_valid(instance)
    assert make_validator(schema)(instance) != []


def test_a_pattern_fastjsonschema_cannot_compile_is_left_to_the_reference() -> None:
    """It reads `$` as `\\Z`, also inside a class, where `[\\Z]` is no regular expression."""
    schema = {"type": "object", "properties": {"p": {"type": "string", "pattern": "^[$]"}}}
    assert fast_validator(schema) is None
    assert make_validator(schema)({"p": "$1"}) == []
    assert make_validator(schema)({"p": "1"}) == ["p: '1' does not match '^[$]'"]


def test_formats_are_the_references_own() -> None:
    """fastjsonschema's own date pattern accepts year 0000 and non-ASCII digits."""
    schema = {"type": "object", "properties": {"d": {"type": "string", "format": "date"}}}
    validate = make_validator(schema)
    for bad in ("0000-01-01", "\u0662\u0660\u0662\u0664-01-01", "2024-02-30"):
        assert validate({"d": bad}) == [f"d: {bad!r} is not a 'date'"]
    assert validate({"d": "2024-02-29"}) == []


def nest(levels: int, leaf: Any = 1) -> Any:
    value: Any = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"m": {"type": "object"}}},  # free-form: fast accepts
        {"type": "object", "properties": {"m": {"type": "integer"}}},  # wrong type
        {"type": "object", "additionalProperties": False},  # unknown argument
        {"type": "object", "properties": {"m": {"$ref": "#/$defs/any"}}, "$defs": {"any": {}}},
    ],
)
def test_arguments_nested_too_deep_are_invalid(schema: dict[str, Any]) -> None:
    validate = make_validator(schema)
    for levels in (MAX_DEPTH, 200, 300, 1000):  # the arguments object is one level more
        assert validate({"m": nest(levels)}) == [TOO_DEEP]
    assert TOO_DEEP not in validate({"m": nest(MAX_DEPTH - 1)})


def test_running_out_of_stack_is_invalid_arguments_too() -> None:
    """A schema recursing through `$ref` is validated level by level: within MAX_DEPTH, but with
    little stack left, that is a RecursionError, reported as nesting rather than a crash."""
    node = {"type": "object", "properties": {"a": {"$ref": "#/$defs/node"}}}
    schema = {"type": "object", "properties": {"n": node}, "$defs": {"node": node}}
    validate = make_validator(schema)
    deepest = {"n": nest(MAX_DEPTH - 2, leaf={})}  # MAX_DEPTH levels, valid
    assert validate(deepest) == []
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 100)
    try:
        problems = validate(deepest)
    finally:
        sys.setrecursionlimit(limit)
    assert problems == [TOO_DEEP]
