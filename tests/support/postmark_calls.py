"""Calls to the fake Postmark shared by the Postmark tests: a sender and recipient, the POSTs it got, a new stream."""

from __future__ import annotations

import uuid

import httpx

from tests.support.fake_postmark import FakePostmark

SEND = {"From": "sender@example.com", "To": "customer@example.com"}


def posts(postmark: FakePostmark) -> list[str]:
    return [r.path for r in postmark.requests if r.method == "POST"]


def new_stream(postmark: FakePostmark, kind: str) -> str:
    """A stream no earlier call looked up (the lookup cache outlives a test), made through
    the fake's own API; its requests are then forgotten."""
    sid = f"{kind[:2].lower()}-{uuid.uuid4().hex[:12]}"
    made = httpx.post(
        f"{postmark.url}/message-streams",
        json={"ID": sid, "Name": sid, "MessageStreamType": kind},
        headers={"X-Postmark-Server-Token": postmark.server_token},
        timeout=5,
    )
    assert made.status_code == 200, made.text
    postmark.requests.clear()
    postmark.counts.clear()
    return sid
