"""The sandbox sends only from a confirmed sender signature or a verified domain, as Postmark
does (issue 27, item 10).

A From address with no sender signature, on a domain that is not verified, is HTTP 422 with
ErrorCode 400; one whose signature is not confirmed is ErrorCode 401. The seed's
`sender@example.com` is a confirmed signature on the verified domain example.com;
`news@example.org` is an unconfirmed one on the unverified example.org. The tests drive the
simulator over real HTTP on loopback (the tests' fake Postmark).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark

MESSAGE = {"To": "receiver@example.com", "Subject": "Hi", "TextBody": "Hello"}
EXAMPLE_ORG = 36736  # the seed's unverified domain


@pytest.fixture
def client(postmark: FakePostmark) -> Iterator[httpx.Client]:
    headers = {
        "X-Postmark-Server-Token": postmark.server_token,
        "X-Postmark-Account-Token": postmark.account_token,
        "Accept": "application/json",
    }
    with httpx.Client(base_url=postmark.url, headers=headers, timeout=5) as c:
        yield c


def _send(client: httpx.Client, sender: str, path: str = "/email") -> httpx.Response:
    return client.post(path, json={**MESSAGE, "From": sender})


def _not_a_signature(sender: str) -> dict:
    return {
        "ErrorCode": 400,
        "Message": f"The 'From' address you supplied ({sender}) is not a Sender Signature on "
        "your account. Please add and confirm this address in order to be able to use it in "
        "the 'From' field of your messages.",
    }


UNCONFIRMED = {"ErrorCode": 401, "Message": "Sender signature not confirmed"}


def test_a_from_address_with_no_signature_is_refused(
    client: httpx.Client, postmark: FakePostmark
) -> None:
    before = len(postmark.state.outbound)
    for sender in ("probe@elsewhere.org", "Probe <probe@elsewhere.org>", "someone@example.org"):
        refused = _send(client, sender)
        assert (refused.status_code, refused.json()) == (422, _not_a_signature(sender))
    assert len(postmark.state.outbound) == before  # nothing was sent


def test_an_unconfirmed_signature_is_refused(client: httpx.Client) -> None:
    for sender in ("news@example.org", "Example News <NEWS@example.org>"):
        refused = _send(client, sender)
        assert (refused.status_code, refused.json()) == (422, UNCONFIRMED)
    # A signature created through the API waits for its confirmation email, too.
    created = client.post("/senders", json={"FromEmail": "ops@elsewhere.org", "Name": "Ops"})
    assert created.status_code == 200 and created.json()["Confirmed"] is False
    refused = _send(client, "ops@elsewhere.org")
    assert (refused.status_code, refused.json()) == (422, UNCONFIRMED)


def test_a_confirmed_signature_or_a_verified_domain_sends(client: httpx.Client) -> None:
    for sender in ("sender@example.com", "Sender <SENDER@Example.com>", "anyone@example.com"):
        sent = _send(client, sender)
        assert sent.status_code == 200 and sent.json()["ErrorCode"] == 0, (sender, sent.text)
    # Verifying example.org's DKIM makes every address of it a sender, signed or not.
    assert client.put(f"/domains/{EXAMPLE_ORG}/verifyDkim").status_code == 200
    for sender in ("news@example.org", "someone@example.org"):
        sent = _send(client, sender)
        assert sent.status_code == 200 and sent.json()["ErrorCode"] == 0, (sender, sent.text)


def test_batches_and_bulk_sends_check_the_sender_too(client: httpx.Client) -> None:
    batch = client.post(
        "/email/batch",
        json=[{**MESSAGE, "From": "sender@example.com"}, {**MESSAGE, "From": "news@example.org"}],
    )
    assert [r["ErrorCode"] for r in batch.json()] == [0, 401]
    bulk = client.post(
        "/email/bulk",
        json={
            "From": "probe@elsewhere.org",
            "Subject": "Hi",
            "TextBody": "Hello",
            "MessageStream": "broadcasts",
            "Messages": [{"To": "receiver@example.com"}],
        },
    )
    assert (bulk.status_code, bulk.json()) == (422, _not_a_signature("probe@elsewhere.org"))


def test_the_test_token_checks_no_signature_and_no_suppression(client: httpx.Client) -> None:
    """POSTMARK_API_TEST validates a send without any server's state: no signatures, no
    suppressions."""
    test_send = client.post(
        "/email",
        json={**MESSAGE, "From": "probe@elsewhere.org", "To": "jim@example.com"},
        headers={"X-Postmark-Server-Token": "POSTMARK_API_TEST"},
    )
    assert test_send.status_code == 200 and test_send.json()["ErrorCode"] == 0, test_send.text
