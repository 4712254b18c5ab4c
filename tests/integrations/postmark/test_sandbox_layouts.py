"""The sandbox saves layouts as Postmark does (issue 27, item 12): a layout's content
placeholder may be written `{{{@content}}}` or, as Postmark's docs show it, with whitespace
inside the braces (`{{{ @content }}}`); it must appear exactly once in each body
(ErrorCode 1131 otherwise). The tests drive the simulator over real HTTP on loopback (the
tests' fake Postmark).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark


@pytest.fixture
def client(postmark: FakePostmark) -> Iterator[httpx.Client]:
    headers = {"X-Postmark-Server-Token": postmark.server_token, "Accept": "application/json"}
    with httpx.Client(base_url=postmark.url, headers=headers, timeout=5) as c:
        yield c


def _layout(html_body: str, text_body: str = "{{{@content}}}") -> dict[str, str]:
    return {
        "Name": "Spaced layout",
        "Alias": "spaced-layout",
        "TemplateType": "Layout",
        "HtmlBody": html_body,
        "TextBody": text_body,
    }


@pytest.mark.parametrize(
    "placeholder", ["{{{ @content }}}", "{{{@content}}}", "{{{  @content\t}}}", "{{{@content }}}"]
)
def test_the_content_placeholder_may_have_whitespace_inside_its_braces(
    client: httpx.Client, placeholder: str
) -> None:
    created = client.post("/templates", json=_layout(f"<main>{placeholder}</main>", placeholder))
    assert created.status_code == 200, created.text
    assert created.json()["TemplateType"] == "Layout"


@pytest.mark.parametrize("html_body", ["<main></main>", "{{{ @content }}}{{{@content}}}"])
def test_the_placeholder_must_appear_exactly_once(client: httpx.Client, html_body: str) -> None:
    refused = client.post("/templates", json=_layout(html_body))
    assert refused.status_code == 422
    assert refused.json()["ErrorCode"] == 1131


def test_a_send_renders_its_content_in_a_spaced_layout(client: httpx.Client) -> None:
    edited = client.put(
        "/templates/basic-layout",
        json={"HtmlBody": "<body>{{{ @content }}}<footer>{{company.address}}</footer></body>"},
    )
    assert edited.status_code == 200, edited.text
    sent = client.post(
        "/email/withTemplate",
        json={
            "From": "sender@example.com",
            "To": "receiver@example.com",
            "TemplateAlias": "welcome",
            "TemplateModel": {
                "name": "Ann",
                "product_name": "Acme",
                "items": [],
                "company": {"address": "1 Road"},
            },
        },
    ).json()
    details = client.get(f"/messages/outbound/{sent['MessageID']}/details").json()
    assert details["HtmlBody"].startswith("<body><h1>Hello Ann</h1>")
    assert details["HtmlBody"].endswith("<footer>1 Road</footer></body>")


def test_a_send_renders_its_content_in_the_scope_around_the_placeholder(
    client: httpx.Client,
) -> None:
    # Mustachio splices the content's tokens in at the placeholder: inside {{#brand}} the
    # content's {{name}} reads brand.name, as the send check (hooks.py) expects.
    layout = client.post(
        "/templates",
        json=_layout("{{#brand}}{{{@content}}}{{/brand}}", "{{#brand}}{{{@content}}}{{/brand}}")
        | {"Alias": "brand-layout", "Name": "Brand layout"},
    )
    assert layout.status_code == 200, layout.text
    content = client.post(
        "/templates",
        json={
            "Name": "Branded",
            "Alias": "branded",
            "Subject": "Hi",
            "HtmlBody": "<p>Hi {{name}}</p>",
            "TextBody": "Hi {{name}}",
            "LayoutTemplate": "brand-layout",
        },
    )
    assert content.status_code == 200, content.text
    sent = client.post(
        "/email/withTemplate",
        json={
            "From": "sender@example.com",
            "To": "receiver@example.com",
            "TemplateAlias": "branded",
            "TemplateModel": {"brand": {"name": "B"}, "name": "Y"},
        },
    ).json()
    assert sent["ErrorCode"] == 0, sent
    details = client.get(f"/messages/outbound/{sent['MessageID']}/details").json()
    assert (details["HtmlBody"], details["TextBody"]) == ("<p>Hi B</p>", "Hi B")
