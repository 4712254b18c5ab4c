"""The Postmark integration's Mustachio module, and the table of template checks that agree with Mustachio."""

from __future__ import annotations

from proxy.integration_package import load_module
from tests.support.paths import ROOT

M = load_module("postmark", ROOT / "integrations" / "postmark", "mustachio")


# Mustachio's behaviour, one case a row: (template, model, what Mustachio renders (None: it
# fails to render), what yamcp's send check says: per problem, a fragment of it, or a tuple of fragments).
# The renderings are Mustachio's, written from its source (Parser.cs HandleSingleValue,
# HandleElementOpen, HandleCollectionOpen; ContextObject.cs Exists, ToString,
# GetContextForPath) and its fixtures (Mustachio.Tests TemplateFixture.cs), not from
# yamcp's code; tests/integrations/postmark/ checks both columns against mustachio.py.
# "prints blank whatever the model holds" marks what no model can fill.
ALWAYS_BLANK = "prints blank whatever the model holds"
CASES = [
    ("Hi {{name}}", {}, "Hi ", ["name: missing"]),
    (
        "{{ spaced }} {{&amp}} {{{raw}}}",
        {},
        "  ",
        ["spaced: missing", "amp: missing", "raw: missing"],
    ),
    ("{{user.first}}", {}, "", ["user.first: missing"]),
    ("{{user.first}}", {"user": "Ann"}, "", ["user.first: missing"]),
    ("{{user}}", {"user": {"first": "Ann"}}, "", ["user: a list or object"]),  # ToString
    ("{{this}}", {}, "", ["this: missing"]),  # "this" is a key like any other
    ("{{../../name}}", {"name": "Ann"}, "Ann", []),  # "../" at the root stays there
    # null prints nothing (HandleSingleValue: only a non-null value is written)
    ("Hi {{name}}", {"name": None}, "Hi ", ["name: null, which prints nothing"]),
    ("{{a.b}}", {"a": {"b": None}}, "", ["a.b: null"]),
    ("{{#each tags}}{{.}}{{/each}}", {"tags": [None, "b"]}, "b", ["tags[0]: null"]),
    # numbers and booleans print as .NET writes them: Double.ToString, Boolean.ToString
    ("{{p}}", {"p": 10.0}, "10", []),
    ("{{p}}", {"p": 2.5}, "2.5", []),
    ("{{p}} {{q}}", {"p": True, "q": False}, "True False", []),
    # `{{.}}` at the top is the model itself, an object: always blank
    ("{{.}}", {"name": "Ann"}, "", ["{{.}}: " + ALWAYS_BLANK]),
    # each: TemplateShouldTreatFalseyValuesAsEmptyArray, and absent renders nothing too
    ("{{#each items}}{{title}}{{/each}}", {}, "", []),
    ("{{#each items}}{{title}}{{/each}}", {"items": []}, "", []),
    ("{{#each items}}{{title}}{{/each}}", {"items": False}, "", []),
    ("{{#each items}}{{title}}{{/each}}", {"items": ""}, "", []),
    ("{{#each items}}{{title}}{{/each}}", {"items": 0}, "", []),
    ("{{#each items}}{{title}}{{/each}}", {"items": {}}, "", []),
    # each over a value that exists but is no list: "is used like an array" (HandleCollectionOpen)
    (
        "{{#each items}}{{title}}{{/each}}",
        {"items": "abc"},
        None,
        ["items: {{#each items}} needs a"],
    ),
    ("{{#each items}}{{title}}{{/each}}", {"items": {"title": "a"}}, None, ["it is an object"]),
    ("{{#each items}}{{title}}{{/each}}", {"items": 3}, None, ["it is a single value"]),
    ("{{#each items}}{{title}}{{/each}}", {"items": [{"title": 1}, {}]}, "1", ["items[1].title"]),
    ("{{#each tags}}{{.}}{{/each}}", {"tags": ["a", "b"]}, "ab", []),
    # TemplateRendersWithComplextEachPath: "../" from an item is the list, "../../" its owner
    (
        "{{#each Company.ceo.products}}{{name}} {{../../last_name}}{{/each}}",
        {"Company": {"ceo": {"products": [{"name": "p"}]}}},
        "p ",
        ["Company.ceo.last_name: missing"],
    ),
    # ... so one "../" inside a top-level each reads the list, which has no fields
    (
        "{{#each items}}{{../currency}}{{/each}}",
        {"items": [{}], "currency": "EUR"},
        "",
        [("items.currency: " + ALWAYS_BLANK, "{{../../currency}}")],
    ),
    ("{{#each items}}{{../../name}}{{/each}}", {"items": [{}], "name": "Ann"}, "Ann", []),
    # a name is never looked up in an outer context
    ("{{#each items}}{{name}}{{/each}}", {"items": [{}], "name": "Ann"}, "", ["items[0].name"]),
    (
        "{{#promo}}{{name}}{{/promo}}",
        {"promo": {"x": 1}, "name": "Ann"},
        "",
        ["promo.name: missing"],
    ),
    # sections: content reads from the section's value, only when it exists
    ("{{#promo}}{{code}}{{/promo}}", {}, "", []),
    ("{{#promo}}{{code}}{{/promo}}", {"promo": {}}, "", []),  # an empty object does not exist
    ("{{#promo}}{{code}}{{/promo}}", {"promo": {"x": 1}}, "", ["promo.code: missing"]),
    ("{{#promo}}{{code}}{{/promo}}", {"promo": True}, "", ["promo.code: missing"]),
    # ... once, with the list itself: a section does not loop (HandleElementOpen)
    (
        "{{#items}}{{name}}{{/items}}",
        {"items": [{"name": "a"}]},
        "",
        [("items.name: prints blank: {{#items}} does not loop", "{{#each items}}")],
    ),
    (
        "{{#content}}Hello {{../Person.Name}}!{{/content}}",
        {"content": 1},
        "Hello !",
        ["Person.Name"],
    ),
    # inverted: TemplateShouldProcessVariablesInInvertedGroup
    ("{{^not_here}}{{../placeholder}}{{/not_here}}", {"not_here": False}, "", ["placeholder"]),
    ("{{^not_here}}{{../placeholder}}{{/not_here}}", {"not_here": True}, "", []),
    # ... a path without "../" reads the block's own empty value: always blank
    (
        "{{^vip}}{{upsell}}{{/vip}}",
        {"upsell": "Go"},
        "",
        [("vip.upsell: " + ALWAYS_BLANK, "{{../upsell}}")],
    ),
    # {{#x}}..{{^x}}..{{/x}}: the inverted tag closes the section (Tokenizer.cs)
    ("{{#x}}{{a}}{{^x}}{{../b}}{{/x}}", {}, "", ["b: missing"]),
    ("{{#x}}{{a}}{{^x}}{{../b}}{{/x}}", {"x": {"a": 1}}, "1", []),
    # The two assumptions integrations/postmark/README.md records: keys are case-sensitive,
    # and a JSON 0 does not exist (Exists)
    ("{{Name}}", {"name": "Ann"}, "", ["Name: missing"]),
    ("{{#count}}x{{/count}}{{^count}}y{{/count}}", {"count": 0}, "y", []),
    # Postmark's placeholders (token expanders), with or without spaces, and comments
    ("{{{ pm:unsubscribe }}} {{{@content}}} {{{ @content }}} {{! note }}", {}, "   ", []),
]


def says(problem: str, expected: str | tuple[str, ...]) -> bool:
    """`problem` holds the expected fragment, or every fragment of a tuple."""
    return all(part in problem for part in ((expected,) if isinstance(expected, str) else expected))
