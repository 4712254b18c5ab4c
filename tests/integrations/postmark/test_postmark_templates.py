"""Template checks that agree with Mustachio, the engine Postmark renders templates with.

The table cases come from Mustachio's own behaviour (its Parser.cs, ContextObject.cs and the
fixtures in Mustachio.Tests); the end-to-end tests go through the MCP endpoint to the fake.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.fake_postmark import SEED_TEMPLATES, FakePostmark, _template
from tests.support.mcp_client import mcp_client
from tests.support.postmark_calls import new_stream
from tests.support.postmark_hooks import CASES, M, says
from tests.support.serving import Yamcp

SEND = {"From": "sender@example.com", "To": "customer@example.com"}
WELCOME_MODEL = {"name": "Ann", "product_name": "Acme", "company": {"address": "1 Road"}}


@pytest.mark.parametrize(("template", "model", "rendered", "expected"), CASES)
def test_checker_agrees_with_mustachio(
    template: str, model: Any, rendered: str | None, expected: list[Any]
) -> None:
    problems = M.check(M.parse(template), model)
    assert len(problems) == len(expected), problems
    for problem, fragments in zip(problems, expected, strict=True):
        assert says(problem, fragments), problem


# What Postmark refuses when a template is saved (ErrorCode 1122), by Mustachio's tokenizer
# (Tokenizer.cs): a block path follows its sigil, `{{#each` needs a space and a path, a
# close names its block exactly, a path is word characters, '.' and '/' (no partials).
REFUSED_ON_SAVE = [
    ("{{# each items}}x{{/each}}", "The path 'each items' is not valid"),
    ("{{#each items}}x{{/each }}", "mismatched"),
    ("{{first-name}}", "The path 'first-name' is not valid"),
    ("{{#eachItem}}x{{/eachItem}}", "requires a model path"),
    ("{{> header}}", "The path '> header' is not valid"),
    ("{{#x}}a{{/y}}", "mismatched"),
    ("{{name", "never closed"),
    ("}}", "without a matching"),
    ("{{#x}}a", "opened but not closed: 'x'"),
]
ACCEPTED_ON_SAVE = [
    "{{ spaced }} {{&amp}} {{{raw}}} {{! any comment, even with - and > }}",
    "{{{ pm:unsubscribe }}} {{{@content}}} {{{ @content }}}",
    "{{#each items}}{{title}}{{/each}} {{#x}}{{../y}}{{^x}}{{/x}} {{a.b_c}}",
]


@pytest.mark.parametrize(("template", "error"), REFUSED_ON_SAVE)
def test_a_template_mustachio_cannot_parse_is_refused_on_save(
    template: str, error: str, postmark: FakePostmark
) -> None:
    with pytest.raises(M.TemplateSyntaxError) as refused:
        M.parse(template, strict=True)
    assert error in refused.value.message
    saved = httpx.post(
        f"{postmark.url}/templates",
        json={"Name": "t", "Subject": "s", "HtmlBody": template},
        headers={"X-Postmark-Server-Token": postmark.server_token},
        timeout=5,
    )
    assert (saved.status_code, saved.json()["ErrorCode"]) == (422, 1122), saved.text
    assert error in saved.json()["Message"]


@pytest.mark.parametrize("template", ACCEPTED_ON_SAVE)
def test_what_mustachio_parses_is_accepted_on_save(template: str) -> None:
    assert M.parse(template, strict=True) == M.parse(template)


# (template, SuggestedTemplateModel, RequiredVariables): ParserFixture.cs's inference cases
INFERENCES = [
    ("{{Name}}", {"Name": "Name_Value"}, ["Name"]),
    ("{{#Person}}{{Name}}{{/Person}}", {"Person": {"Name": "Name_Value"}}, []),
    ("This template has no mustache thingies.", {}, []),
    (
        "{{#each Employees}}{{name}}{{/each}}",
        {"Employees": [{"name": "name_Value"}]},
        ["Employees[].name"],
    ),
    (
        "{{#Person}}{{Name}}{{#each ../Person.FavoriteColors}}{{.}}{{/each}}{{/Person}}",
        {
            "Person": {
                "Name": "Name_Value",
                "FavoriteColors": ["FavoriteColors_1", "FavoriteColors_2", "FavoriteColors_3"],
            }
        },
        [],
    ),
    (
        "{{#each Employees}}{{person.name}}{{#each favoriteColors}}{{hue}}{{/each}}"
        "{{#each workplaces}}{{.}}{{/each}}{{/each}}",
        {
            "Employees": [
                {
                    "person": {"name": "name_Value"},
                    "favoriteColors": [{"hue": "hue_Value"}],
                    "workplaces": ["workplaces_1", "workplaces_2", "workplaces_3"],
                }
            ]
        },
        ["Employees[].person.name", "Employees[].favoriteColors[].hue"],
    ),
    (
        "{{#each items}}{{../../currency}}{{/each}}",
        {"items": ["items_1", "items_2", "items_3"], "currency": "currency_Value"},
        ["currency"],
    ),
    ("{{^vip}}{{upsell}}{{../name}}{{/vip}}", {"vip": {}, "name": "name_Value"}, []),
    ("{{{ pm:unsubscribe }}}{{{@content}}}{{! x }}", {}, []),
    # an item that is itself iterated keeps its fields: a list of lists
    (
        "{{#each rows}}{{#each .}}{{cell}}{{/each}}{{/each}}",
        {"rows": [[{"cell": "cell_Value"}]]},
        ["rows[][].cell"],
    ),
    (
        "{{#order}}{{#each .}}{{name}} {{price}}{{/each}}{{/order}}",
        {"order": [{"name": "name_Value", "price": "price_Value"}]},
        ["order[].name", "order[].price"],
    ),
]


@pytest.mark.parametrize(("template", "model", "required"), INFERENCES)
def test_inferred_model_agrees_with_mustachio(
    template: str, model: Any, required: list[str]
) -> None:
    tree = M.infer(template)
    assert M.suggested_model(tree) == model
    assert M.required_paths(tree) == required


# (template, RequiredVariables, RequiredOneOf): a value printed only inside `{{^x}}` is
# needed only when x is not given, so either suffices.
ONE_OF = [
    (  # Postmark's FAQ
        "{{#name}}{{.}}{{/name}}{{^name}}{{../job_title}}{{/name}}",
        [],
        [["name", "job_title"]],
    ),
    ("{{^vip}}{{../name}}{{/vip}} {{name}}", ["name"], []),  # printed anyway: required
    ("{{#a}}{{b}}{{/a}}{{^a}}{{../c}}{{../d}}{{/a}}", [], [["a", "c"], ["a", "d"]]),
    ("{{^a}}{{^b}}{{../../c}}{{/b}}{{/a}}", [], [["a", "c"]]),  # b, read from a, is never there
    ("{{name}}", ["name"], []),
]


@pytest.mark.parametrize(("template", "required", "one_of"), ONE_OF)
def test_a_value_printed_only_without_another_is_one_of_two(
    template: str, required: list[str], one_of: list[list[str]]
) -> None:
    tree = M.infer(template)
    assert (M.required_paths(tree), M.required_one_of(tree)) == (required, one_of)


# --- end to end ---------------------------------------------------------------------------


@pytest.fixture
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


def posts(postmark: FakePostmark) -> list[Any]:
    return [r for r in postmark.requests if r.method == "POST"]


def _add(postmark: FakePostmark, kind: str, layout: str | None, html: str) -> str:
    """A template of the fake's, under a fresh alias (lookups are cached per alias)."""
    alias = f"t-{uuid.uuid4().hex[:10]}"
    tid = max(postmark.state.templates) + 1
    postmark.state.templates[tid] = _template(tid, alias, alias, kind, layout, "Hi", html, html)
    return alias


async def test_each_over_an_absent_list_is_sent(url: str, postmark: FakePostmark) -> None:
    assert "{{#each items}}" in SEED_TEMPLATES[0]["HtmlBody"]
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_templated_email",
            SEND | {"TemplateAlias": "welcome", "TemplateModel": WELCOME_MODEL},
        )
    assert not result.is_error, result.content[0].text
    assert "items" not in postmark.last("POST", "/email/withTemplate").json["TemplateModel"]


async def test_each_over_a_string_is_refused(url: str, postmark: FakePostmark) -> None:
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_templated_email",
            SEND | {"TemplateAlias": "welcome", "TemplateModel": WELCOME_MODEL | {"items": "a"}},
        )
    assert result.is_error
    assert "TemplateModel.items: {{#each items}} needs a list" in result.content[0].text
    assert "Nothing was sent" in result.content[0].text
    assert posts(postmark) == []


async def test_pm_placeholders_are_not_model_variables(url: str, postmark: FakePostmark) -> None:
    alias = _add(postmark, "Standard", None, "Hi {{name}} {{{ pm:unsubscribe }}}")
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_templated_email",
            SEND | {"TemplateAlias": alias, "TemplateModel": {"name": "Ann"}},
        )
        model = await client.call_tool("get_single_postmark_template_model_by_id", {"id": alias})
    assert not result.is_error, result.content[0].text
    assert postmark.last("POST", "/email/withTemplate").json["TemplateAlias"] == alias
    assert model.structured_content["TemplateModel"] == {"name": "name_Value"}


async def test_layout_variables_count(url: str, postmark: FakePostmark) -> None:
    layout = _add(postmark, "Layout", None, "{{{ @content }}}<footer>{{footer_note}}</footer>")
    alias = _add(postmark, "Standard", layout, "Hi {{name}}")
    async with mcp_client(url) as client:
        short = await client.call_tool(
            "create_a_postmark_templated_email",
            SEND | {"TemplateAlias": alias, "TemplateModel": {"name": "Ann"}},
        )
        assert short.is_error
        assert "TemplateModel.footer_note: missing" in short.content[0].text
        assert posts(postmark) == []
        model = await client.call_tool("get_single_postmark_template_model_by_id", {"id": alias})
        assert model.structured_content["RequiredVariables"] == ["name", "footer_note"]
        full = await client.call_tool(
            "create_a_postmark_templated_email",
            SEND | {"TemplateAlias": alias, "TemplateModel": {"name": "Ann", "footer_note": "x"}},
        )
    assert not full.is_error, full.content[0].text
    assert postmark.last("POST", "/email/withTemplate").json["TemplateModel"]["footer_note"] == "x"


async def test_layout_content_reads_the_scope_of_its_placeholder(
    url: str, postmark: FakePostmark
) -> None:
    # Mustachio splices the content's tokens in at {{{@content}}}: inside {{#brand}} the
    # content's {{name}} is brand.name, and a top-level name leaves "Hi " in the mail.
    layout = _add(postmark, "Layout", None, "{{#brand}}<b>{{logo}}</b>{{{@content}}}{{/brand}}")
    alias = _add(postmark, "Standard", layout, "Hi {{name}}")
    async with mcp_client(url) as client:
        short = await client.call_tool(
            "create_a_postmark_templated_email",
            SEND | {"TemplateAlias": alias, "TemplateModel": {"brand": {"logo": "L"}, "name": "Y"}},
        )
        assert short.is_error
        assert "TemplateModel.brand.name: missing" in short.content[0].text
        model = await client.call_tool("get_single_postmark_template_model_by_id", {"id": alias})
        assert model.structured_content["TemplateModel"] == {
            "brand": {"logo": "logo_Value", "name": "name_Value"}
        }
        full = await client.call_tool(
            "create_a_postmark_templated_email",
            SEND | {"TemplateAlias": alias, "TemplateModel": {"brand": {"logo": "L", "name": "Y"}}},
        )
    assert not full.is_error, full.content[0].text
    assert [r.path for r in posts(postmark)] == ["/email/withTemplate"]


def bulk(postmark: FakePostmark) -> dict[str, str]:
    """A bulk send's sender, on a Broadcasts stream no other test looked up (the lookups
    are cached a minute per account, and other tests count them)."""
    return {"From": "sender@example.com", "MessageStream": new_stream(postmark, "Broadcasts")}


async def test_bulk_checks_every_recipients_model_against_its_template(
    url: str, postmark: FakePostmark
) -> None:
    send = bulk(postmark)
    recipients = [
        {"To": "a@example.com", "TemplateModel": WELCOME_MODEL},
        {"To": "b@example.com", "TemplateModel": WELCOME_MODEL | {"items": "notalist"}},
        {"To": "c@example.com", "TemplateModel": WELCOME_MODEL | {"name": None}},
    ]
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_bulk_email",
            send | {"TemplateAlias": "welcome", "Messages": recipients},
        )
        assert result.is_error
        text = result.content[0].text
        assert "Messages[1].TemplateModel.items: {{#each items}} needs a list" in text
        assert "Messages[2].TemplateModel.name: null" in text
        assert "Messages[0]" not in text and "Nothing was sent" in text
        assert [r.path for r in posts(postmark)] == []
        fixed = await client.call_tool(
            "create_a_postmark_bulk_email",
            send | {"TemplateAlias": "welcome", "Messages": recipients[:1]},
        )
    assert not fixed.is_error, fixed.content[0].text
    assert [r.path for r in posts(postmark)] == ["/email/bulk"]


async def test_bulk_checks_its_own_templated_subject_and_bodies(
    url: str, postmark: FakePostmark
) -> None:
    send = bulk(postmark)
    content = {"Subject": "Hi {{FirstName}}", "TextBody": "Your code: {{code}}"}
    recipients = [
        {"To": "a@example.com", "TemplateModel": {"FirstName": "Ann", "code": "1"}},
        {"To": "b@example.com"},
    ]
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_bulk_email", send | content | {"Messages": recipients}
        )
        assert result.is_error
        text = result.content[0].text
        assert "Messages[1].TemplateModel.FirstName: missing" in text
        assert "Messages[1].TemplateModel.code: missing" in text
        assert "Messages[0]" not in text and "(template" not in text
        plain = await client.call_tool(
            "create_a_postmark_bulk_email",
            send | {"Subject": "News", "TextBody": "Hello"} | {"Messages": recipients},
        )
    assert not plain.is_error, plain.content[0].text  # nothing to fill: no model needed
    assert [r.path for r in posts(postmark)] == ["/email/bulk"]


async def test_batch_refusal_names_the_message(url: str, postmark: FakePostmark) -> None:
    good = SEND | {"TemplateAlias": "welcome", "TemplateModel": WELCOME_MODEL}
    bad = SEND | {"TemplateAlias": "welcome", "TemplateModel": WELCOME_MODEL | {"items": {}}}
    bad["TemplateModel"] = WELCOME_MODEL | {"items": {"title": "x"}}
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_templated_email_batch", {"Messages": [good, good, bad]}
        )
    assert result.is_error
    text = result.content[0].text
    assert "Messages[2].TemplateModel.items: {{#each items}} needs a list" in text
    assert "Messages[0]" not in text and "Messages[1]" not in text
    assert posts(postmark) == []


async def test_templated_send_descriptions_name_the_model_tool(url: str) -> None:
    async with mcp_client(url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    for name in ("create_a_postmark_templated_email", "create_a_postmark_templated_email_batch"):
        assert "get_single_postmark_template_model_by_id" in (tools[name].description or "")
