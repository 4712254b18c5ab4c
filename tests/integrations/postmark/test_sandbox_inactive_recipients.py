"""The sandbox refuses inactive recipients as Postmark does (issue 27, item 9).

An address is inactive on a message stream when the stream's suppression list holds it (a
hard bounce, a spam complaint, a manual suppression) or one of the stream's bounces left it
Inactive. A send whose every recipient is inactive is HTTP 422 with ErrorCode 406; one
where only some are is accepted for the others (HTTP 200, ErrorCode 0) with a Message
naming those it will not deliver to. Reactivating the bounce or deleting the suppression
makes the address deliverable again, so an agent can test that whole loop in the sandbox.
The tests drive the simulator over real HTTP on loopback (the tests' fake Postmark).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark

HARD_BOUNCE = 692560173  # jim@example.com on outbound: Inactive, CanActivate, suppressed
OLD_HARD_BOUNCE = 692560177  # jim.old@example.com: Inactive, not on the suppression list
MESSAGE = {"From": "sender@example.com", "Subject": "Hi", "TextBody": "Hello"}
EXPLAINED = (
    "Inactive recipients are ones that have generated a hard bounce, a spam complaint, "
    "or a manual suppression."
)


@pytest.fixture
def client(postmark: FakePostmark) -> Iterator[httpx.Client]:
    headers = {"X-Postmark-Server-Token": postmark.server_token, "Accept": "application/json"}
    with httpx.Client(base_url=postmark.url, headers=headers, timeout=5) as c:
        yield c


def _send(client: httpx.Client, **fields: str) -> httpx.Response:
    return client.post("/email", json={**MESSAGE, **fields})


def _refused_for(response: httpx.Response, *addresses: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json() == {
        "ErrorCode": 406,
        "Message": "You tried to send to recipient(s) that have been marked as inactive. "
        f"Found inactive addresses: {', '.join(addresses)}. {EXPLAINED}",
    }


def _accepted(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ErrorCode"] == 0 and body["MessageID"]
    return body


def test_a_hard_bounced_address_is_refused_until_its_bounce_is_reactivated(
    client: httpx.Client, postmark: FakePostmark
) -> None:
    before = len(postmark.state.outbound)
    _refused_for(_send(client, To="jim@example.com"), "jim@example.com")
    _refused_for(_send(client, To="Jim <JIM@Example.com>"), "jim@example.com")
    assert len(postmark.state.outbound) == before  # nothing was recorded as sent
    # An Inactive bounce counts even when no suppression row stands for it.
    _refused_for(_send(client, To="jim.old@example.com"), "jim.old@example.com")

    assert client.put(f"/bounces/{HARD_BOUNCE}/activate").status_code == 200
    assert _accepted(_send(client, To="jim@example.com"))["Message"] == "OK"
    assert client.put(f"/bounces/{OLD_HARD_BOUNCE}/activate").status_code == 200
    assert _accepted(_send(client, To="jim.old@example.com"))["Message"] == "OK"


def test_a_suppression_is_refused_on_its_stream_until_it_is_deleted(
    client: httpx.Client,
) -> None:
    # ann@example.com is manually suppressed on outbound only: other streams deliver.
    _refused_for(_send(client, To="ann@example.com"), "ann@example.com")
    broadcast = _send(client, To="ann@example.com", MessageStream="broadcasts")
    assert _accepted(broadcast)["Message"] == "OK"
    deleted = client.post(
        "/message-streams/outbound/suppressions/delete",
        json={"Suppressions": [{"EmailAddress": "ann@example.com"}]},
    )
    assert deleted.json()["Suppressions"][0]["Status"] == "Deleted"
    assert _accepted(_send(client, To="ann@example.com"))["Message"] == "OK"

    # A suppression made through the API takes effect at once.
    suppressed = client.post(
        "/message-streams/outbound/suppressions",
        json={"Suppressions": [{"EmailAddress": "receiver@example.com"}]},
    )
    assert suppressed.json()["Suppressions"][0]["Status"] == "Suppressed"
    _refused_for(_send(client, To="receiver@example.com"), "receiver@example.com")


def test_a_spam_complaint_stays_inactive_on_its_stream(client: httpx.Client) -> None:
    spam = {"To": "complainer@example.net", "MessageStream": "broadcasts"}
    _refused_for(_send(client, **spam), "complainer@example.net")
    kept = client.post(
        "/message-streams/broadcasts/suppressions/delete",
        json={"Suppressions": [{"EmailAddress": "complainer@example.net"}]},
    )
    assert kept.json()["Suppressions"][0]["Status"] == "Failed"  # a recipient's complaint
    _refused_for(_send(client, **spam), "complainer@example.net")


def test_some_inactive_recipients_are_skipped_and_the_rest_delivered(
    client: httpx.Client, postmark: FakePostmark
) -> None:
    answer = _accepted(
        _send(client, To="receiver@example.com, jim@example.com", Cc="ann@example.com")
    )
    assert answer["Message"] == (
        "Message OK, but will not deliver to these inactive addresses: "
        f"jim@example.com, ann@example.com. {EXPLAINED}"
    )
    assert answer["To"] == "receiver@example.com, jim@example.com"
    details = client.get(f"/messages/outbound/{answer['MessageID']}/details").json()
    assert details["Recipients"] == ["receiver@example.com"]
    # Every recipient inactive, over To, Cc and Bcc: refused.
    _refused_for(
        _send(client, To="jim@example.com", Bcc="ann@example.com"),
        "jim@example.com",
        "ann@example.com",
    )


def test_a_batch_refuses_only_its_inactive_messages(client: httpx.Client) -> None:
    batch = client.post(
        "/email/batch",
        json=[{**MESSAGE, "To": "receiver@example.com"}, {**MESSAGE, "To": "jim@example.com"}],
    )
    assert batch.status_code == 200
    first, second = batch.json()
    assert (first["ErrorCode"], second["ErrorCode"]) == (0, 406)
    assert "Found inactive addresses: jim@example.com." in second["Message"]


def test_an_address_is_not_inactive_for_its_spelling(client: httpx.Client) -> None:
    """Only the server's bounces and suppressions make an address inactive."""
    answer = _accepted(_send(client, To="inactive@example.com"))
    assert answer["Message"] == "OK"
