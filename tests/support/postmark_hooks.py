"""The Postmark integration's Mustachio module, and the table of template checks that agree with Mustachio."""

from __future__ import annotations

from proxy.integration_package import load_module
from tests.support.paths import ROOT

M = load_module("postmark", ROOT / "integrations" / "postmark", "mustachio")


# (template, model, what the checker says: one "path: why" fragment per problem)
CHECKS = [
    ("Hi {{name}}", {}, ["name: missing"]),
    ("{{ spaced }} {{&amp}} {{{raw}}}", {}, ["spaced: missing", "amp: missing", "raw: missing"]),
    ("{{user.first}}", {}, ["user.first: missing"]),
    ("{{user.first}}", {"user": "Ann"}, ["user.first: missing"]),
    ("{{user}}", {"user": {"first": "Ann"}}, ["user: a list or object"]),  # ToString
    ("{{this}}", {}, ["this: missing"]),  # "this" is a key like any other
    ("{{../../name}}", {"name": "Ann"}, []),  # "../" at the root stays there
    # each: TemplateShouldTreatFalseyValuesAsEmptyArray, and absent renders nothing too
    ("{{#each items}}{{title}}{{/each}}", {}, []),
    ("{{#each items}}{{title}}{{/each}}", {"items": []}, []),
    ("{{#each items}}{{title}}{{/each}}", {"items": False}, []),
    ("{{#each items}}{{title}}{{/each}}", {"items": ""}, []),
    ("{{#each items}}{{title}}{{/each}}", {"items": 0}, []),
    ("{{#each items}}{{title}}{{/each}}", {"items": {}}, []),
    # each over a value that exists but is no list: "is used like an array" (HandleCollectionOpen)
    ("{{#each items}}{{title}}{{/each}}", {"items": "abc"}, ["items: {{#each items}} needs a"]),
    ("{{#each items}}{{title}}{{/each}}", {"items": {"title": "a"}}, ["it is an object"]),
    ("{{#each items}}{{title}}{{/each}}", {"items": 3}, ["it is a single value"]),
    ("{{#each items}}{{title}}{{/each}}", {"items": [{"title": 1}, {}]}, ["items[1].title"]),
    ("{{#each tags}}{{.}}{{/each}}", {"tags": ["a", "b"]}, []),
    # TemplateRendersWithComplextEachPath: "../" from an item is the list, "../../" its owner
    (
        "{{#each Company.ceo.products}}{{name}} {{../../last_name}}{{/each}}",
        {"Company": {"ceo": {"products": [{"name": "p"}]}}},
        ["Company.ceo.last_name: missing"],
    ),
    ("{{#each items}}{{../currency}}{{/each}}", {"items": [{}]}, []),  # a list has no fields
    # sections: content reads from the section's value, only when it exists
    ("{{#promo}}{{code}}{{/promo}}", {}, []),
    ("{{#promo}}{{code}}{{/promo}}", {"promo": {}}, []),  # an empty object does not exist
    ("{{#promo}}{{code}}{{/promo}}", {"promo": {"x": 1}}, ["promo.code: missing"]),
    ("{{#promo}}{{code}}{{/promo}}", {"promo": True}, ["promo.code: missing"]),
    ("{{#promo}}{{code}}{{/promo}}", {"promo": [{"code": 1}]}, []),  # no iteration
    ("{{#content}}Hello {{../Person.Name}}!{{/content}}", {"content": 1}, ["Person.Name"]),
    # inverted: TemplateShouldProcessVariablesInInvertedGroup
    ("{{^not_here}}{{../placeholder}}{{/not_here}}", {"not_here": False}, ["placeholder"]),
    ("{{^not_here}}{{../placeholder}}{{/not_here}}", {"not_here": True}, []),
    ("{{^vip}}{{upsell}}{{/vip}}", {}, []),  # read from vip's empty value: never fillable
    # {{#x}}..{{^x}}..{{/x}}: the inverted tag closes the section (Tokenizer.cs)
    ("{{#x}}{{a}}{{^x}}{{../b}}{{/x}}", {}, ["b: missing"]),
    ("{{#x}}{{a}}{{^x}}{{../b}}{{/x}}", {"x": {"a": 1}}, []),
    # Postmark's placeholders (token expanders), comments, and what is not a path
    ("{{{ pm:unsubscribe }}} {{{@content}}} {{! note }} {{> partial}}", {}, []),
]
