"""The sandbox's bulk sends complete, and their messages are sent (issue 27, item 14).

POST /email/bulk answers `Accepted`, as Postmark does; the request's status
(GET /email/bulk/{id}) is then `Completed` at 100 %, and each entry of `Messages` is a sent
message, listed among the outbound messages: its Subject and bodies rendered with the
entry's TemplateModel (Postmark's bulk content is personalised with template variables),
from a stored template and its layout when the request names one. A templated message that
fails to render bounces, as other templated sends do; an inactive recipient is not
delivered to. The tests drive the simulator over real HTTP on loopback (the tests' fake
Postmark).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark

COMPANY = {"name": "Acme", "address": "1 Road"}


@pytest.fixture
def client(postmark: FakePostmark) -> Iterator[httpx.Client]:
    headers = {"X-Postmark-Server-Token": postmark.server_token, "Accept": "application/json"}
    with httpx.Client(base_url=postmark.url, headers=headers, timeout=5) as c:
        yield c


def _bulk(client: httpx.Client, **fields: Any) -> str:
    body = {"From": "news@example.com", "MessageStream": "broadcasts", "Tag": "launch", **fields}
    answer = client.post("/email/bulk", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["Status"] == "Accepted"
    return answer.json()["ID"]


def _sent_to(client: httpx.Client, address: str) -> list[dict[str, Any]]:
    listed = client.get(
        "/messages/outbound", params={"count": 50, "offset": 0, "recipient": address}
    ).json()["Messages"]
    return [
        client.get(f"/messages/outbound/{m['MessageID']}/details").json()
        for m in listed
        if m["Tag"] == "launch"  # this test's, not the seed's
    ]


def test_a_bulk_request_completes_and_its_messages_are_sent(client: httpx.Client) -> None:
    bulk_id = _bulk(
        client,
        Subject="Hello {{FirstName}}",
        TextBody="Hi {{FirstName}}, {{company.name}} launched.",
        HtmlBody="<p>Hi {{FirstName}}</p>",
        Metadata={"campaign": "launch"},
        Messages=[
            {"To": "a@example.com", "TemplateModel": {"FirstName": "Ann", "company": COMPANY}},
            {
                "To": "b@example.com",
                "Cc": "c@example.com",
                "TemplateModel": {"FirstName": "Bob", "company": COMPANY},
                "Metadata": {"user": "42"},
            },
        ],
    )
    status = client.get(f"/email/bulk/{bulk_id}").json()
    assert {k: status[k] for k in ("Id", "Status", "PercentageCompleted", "TotalMessages")} == {
        "Id": bulk_id,
        "Status": "Completed",
        "PercentageCompleted": 100.0,
        "TotalMessages": 2,
    }
    assert status["Subject"] == "Hello {{FirstName}}"

    [ann] = _sent_to(client, "a@example.com")
    assert (ann["Subject"], ann["TextBody"]) == ("Hello Ann", "Hi Ann, Acme launched.")
    assert ann["HtmlBody"] == "<p>Hi Ann</p>"
    assert (ann["From"], ann["Tag"], ann["Metadata"]) == (
        "news@example.com",
        "launch",
        {"campaign": "launch"},
    )
    [bob] = _sent_to(client, "b@example.com")
    assert bob["Subject"] == "Hello Bob"
    assert bob["Recipients"] == ["b@example.com", "c@example.com"]
    assert bob["Metadata"] == {"campaign": "launch", "user": "42"}


def test_a_templated_bulk_renders_each_message_like_a_templated_send(
    client: httpx.Client,
) -> None:
    welcome = {"name": "Ann", "product_name": "Acme", "items": [], "company": COMPANY}
    bulk_id = _bulk(
        client,
        TemplateAlias="welcome",
        Messages=[
            {"To": "a@example.com", "TemplateModel": welcome},
            {"To": "b@example.com", "TemplateModel": {**welcome, "items": "not a list"}},
        ],
    )
    assert client.get(f"/email/bulk/{bulk_id}").json()["Status"] == "Completed"
    [ann] = _sent_to(client, "a@example.com")
    assert ann["Subject"] == "Welcome to Acme, Ann!"
    assert "<footer>1 Road</footer>" in ann["HtmlBody"]  # rendered in its layout
    [failed] = _sent_to(client, "b@example.com")
    bounces = client.get(
        "/bounces", params={"count": 10, "offset": 0, "messageID": failed["MessageID"]}
    ).json()["Bounces"]
    assert [(b["Type"], b["Email"]) for b in bounces] == [
        ("TemplateRenderingFailed", "b@example.com")
    ]


def test_a_bulk_message_is_not_delivered_to_an_inactive_recipient(
    client: httpx.Client,
) -> None:
    """complainer@example.net complained of spam on the broadcasts stream."""
    bulk_id = _bulk(
        client,
        Subject="News",
        TextBody="News",
        Messages=[{"To": "complainer@example.net"}, {"To": "a@example.com"}],
    )
    assert client.get(f"/email/bulk/{bulk_id}").json()["Status"] == "Completed"
    assert _sent_to(client, "complainer@example.net") == []
    assert [m["Subject"] for m in _sent_to(client, "a@example.com")] == ["News"]
