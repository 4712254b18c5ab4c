"""A stateful, in-memory Postmark: the sandbox of `yamcp serve --sandbox`, and the tests' fake.

This is Postmark's Server and Account APIs as an ASGI app holding seeded data in memory:
bounces of several types (a mailbox-full soft bounce that can be reactivated, with the raw
SMTP dump that says so; hard bounces; a spam complaint; ...), delivery statistics, message
streams of each type, templates (one with a layout and an `{{#each}}`), sent and received
messages, webhooks, suppressions, servers, domains and sender signatures. It is stateful:
a send is listed among the outbound messages under the MessageID it answered, an activation
flips the bounce's `Inactive`, a template edit changes what the next templated send renders.
It never makes a network call of its own.

Two users, one simulator:

* `yamcp serve --sandbox` (the manifest names this file as `sandbox:`) serves it on
  loopback through `sandbox_app()`, with the credentials in `CREDENTIALS`, and points an
  account at it; nothing leaves the machine.
* `tests/fake_postmark.py` wraps it in a test harness (a uvicorn thread, request records,
  injected faults) and the proxy's tests run against it.

Why it is this detailed: a fake that answers `{}` would let the manifest drift from
Postmark unnoticed. Request and response shapes, auth headers, paging limits and ErrorCodes
follow our Postmark reference notes, whose files the tests read from tests/data/postmark/
(endpoints.tsv, errors.tsv, examples/*.json); the seeded data copies the example bodies, so
tests can compare answers with them.

It is as strict as Postmark at the door, so a proxy that sends sloppy requests fails here
and not in production:

* tokens: the header for the endpoint's kind (server or account) must carry exactly the
  token; only letter case may differ ("The header name and value are case insensitive",
  Postmark's API overview). A missing, wrong, padded or doubled token is 401, ErrorCode 10.
* media types: an `Accept` that rules out application/json, or a body whose `Content-Type`
  is missing or not application/json, is HTTP 415 ("check that the documented request
  headers are being passed (Content-Type and Accept)", Postmark's 2023 validation notice),
  with ErrorCode 409, "JSON required". No `Accept` at all means any type (RFC 9110).

Templates render by the rules of Postmark's engine, Mustachio (ActiveCampaign/mustachio),
as `mustachio.py` next to this file states them for the send checks: a path is read from
the current context only (`../` steps to the context it was read from), `{{#x}}` renders
its content once with x's value (no iteration), `{{#each x}}` over a value that is not a
list fails to render, and `{{{ pm:... }}}` / `{{{@content}}}` are Postmark's placeholders,
not model variables. A templated send that fails to render is accepted and then bounces
with the type TemplateRenderingFailed, as Postmark reports it.

Routing is case-insensitive and JSON keys are read case-insensitively, as Postmark does.
This folder is no package: load this file by its path (importlib), as the engine does.
"""

from __future__ import annotations

import copy
import html
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

SERVER_ID = 23
TEST_TOKEN = "POSTMARK_API_TEST"
_TZ = timezone(timedelta(hours=-5))


def _now() -> str:
    """Postmark's timestamp style: 7 fractional digits and a UTC offset."""
    text = datetime.now(_TZ).isoformat(timespec="microseconds")
    return text[:26] + "0" + text[26:]


# ======================================================================== seed data
# Values copied from examples/*.json where an example exists; the rest is built from the
# response_key_fields column of endpoints.tsv and the Swagger definitions.

BOUNCE_TYPES: dict[str, tuple[int, str]] = {
    "HardBounce": (1, "Hard bounce"),
    "Transient": (2, "Message delayed"),
    "Unsubscribe": (16, "Unsubscribe request"),
    "Subscribe": (32, "Subscribe request"),
    "AutoResponder": (64, "Auto responder"),
    "AddressChange": (128, "Address change"),
    "DnsError": (256, "DNS error"),
    "SpamNotification": (512, "Spam notification"),
    "OpenRelayTest": (1024, "Open relay test"),
    "Unknown": (2048, "Unknown"),
    "SoftBounce": (4096, "Soft bounce"),
    "VirusNotification": (8192, "Virus notification"),
    "ChallengeVerification": (16384, "Spam challenge verification"),
    "BadEmailAddress": (100000, "Invalid email address"),
    "SpamComplaint": (100001, "Spam complaint"),
    "ManuallyDeactivated": (100002, "Manually deactivated"),
    "Unconfirmed": (100003, "Registration not confirmed"),
    "Blocked": (100006, "ISP block"),
    "SMTPApiError": (100007, "SMTP API error"),
    "InboundError": (100008, "Processing failed"),
    "DMARCPolicy": (100009, "DMARC Policy"),
    "TemplateRenderingFailed": (100010, "Template rendering failed"),
}
_BOUNCE_DESCRIPTIONS = {
    "HardBounce": "The server was unable to deliver your message (ex: unknown user, mailbox not "
    "found).",
    "SoftBounce": "The server was unable to temporarily deliver your message (ex: Message is too "
    "large, mailbox full).",
    "Transient": "The server could not temporarily deliver your message (ex: Message is delayed "
    "due to network troubles).",
    "SpamComplaint": "The subscriber explicitly marked this message as spam.",
    "BadEmailAddress": "Invalid email address - The address is not a valid email address.",
    "TemplateRenderingFailed": "An error occurred while rendering your template.",
}
WELCOME_MESSAGE_ID = "d12c2f1c-60f3-4258-b163-d17052546ae4"
RECEIPT_MESSAGE_ID = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"
NEWSLETTER_MESSAGE_ID = "5c1b2a3d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
RESET_MESSAGE_ID = "8f14e45f-ceea-467f-a0e6-4d2b7a3c1e90"
ORDER_MESSAGE_ID = "e4a1c3b5-2d6f-4b8a-9c0e-1f2a3b4c5d6e"
INBOUND_PROCESSED_ID = "cc9bb7c8-8a8f-4c0e-a1ba-6f23e5e4b9f1"
INBOUND_BLOCKED_ID = "7f2e4c8a-1b3d-4e5f-9a6b-0c1d2e3f4a5b"  # bypass works on it
INBOUND_FAILED_ID = "3a4b5c6d-7e8f-4a0b-8c1d-2e3f4a5b6c7e"  # retry works on it


def _bounce(
    bid: int,
    kind: str,
    email: str,
    *,
    details: str,
    at: str,
    inactive: bool,
    can_activate: bool,
    dump: bool,
    tag: str = "welcome",
    message_id: str = WELCOME_MESSAGE_ID,
    stream: str = "outbound",
    sender: str = "sender@example.com",
    subject: str = "Hello from our app!",
) -> dict[str, Any]:
    code, name = BOUNCE_TYPES[kind]
    return {
        "RecordType": "Bounce",
        "ID": bid,
        "Type": kind,
        "TypeCode": code,
        "Name": name,
        "Tag": tag,
        "MessageID": message_id,
        "ServerID": SERVER_ID,
        "MessageStream": stream,
        "Description": _BOUNCE_DESCRIPTIONS[kind],
        "Details": details,
        "Email": email,
        "From": sender,
        "BouncedAt": at,
        "DumpAvailable": dump,
        "Inactive": inactive,
        "CanActivate": can_activate,
        "Subject": subject,
    }


_EXAMPLE_AT = "2024-01-15T16:09:19.6421112-05:00"
MAILBOX_FULL_BOUNCE_ID = 692560179  # inactive, activatable; its dump says "mailbox full"
SEED_BOUNCES = [  # newest first, as Postmark lists them
    _bounce(
        692560173,
        "HardBounce",
        "jim@example.com",
        at=_EXAMPLE_AT,
        inactive=True,
        can_activate=True,
        dump=True,
        details="smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    ),
    _bounce(
        692560174,
        "SoftBounce",
        "ann@example.com",
        at=_EXAMPLE_AT,
        inactive=False,
        can_activate=True,
        dump=False,
        details="smtp;452 4.2.2 The email account that you tried to reach is over quota.",
    ),
    _bounce(
        692560175,
        "SpamComplaint",
        "complainer@example.net",
        at="2024-01-14T09:12:44.1234567-05:00",
        inactive=True,
        can_activate=False,
        dump=False,
        tag="newsletter",
        message_id=NEWSLETTER_MESSAGE_ID,
        stream="broadcasts",
        sender="news@example.com",
        subject="January newsletter",
        details="Test spam complaint details",
    ),
    _bounce(
        692560176,
        "Transient",
        "bob@example.org",
        at="2024-01-13T11:00:00.0000000-05:00",
        inactive=False,
        can_activate=True,
        dump=True,
        tag="password-reset",
        message_id=RESET_MESSAGE_ID,
        subject="Reset your password",
        details="smtp;421 4.4.2 Connection timed out",
    ),
    _bounce(
        692560177,
        "HardBounce",
        "jim.old@example.com",
        at="2024-01-12T08:30:00.0000000-05:00",
        inactive=True,
        can_activate=True,
        dump=False,
        details="smtp;550 5.1.1 User unknown",
    ),
    _bounce(
        692560178,
        "BadEmailAddress",
        "dave@bad-domain.invalid",
        at="2024-01-11T07:45:00.0000000-05:00",
        inactive=True,
        can_activate=False,
        dump=False,
        tag="",
        details="Invalid email address",
    ),
    # The bounce triage workflow's case: a full mailbox made Postmark deactivate the address
    # (a soft bounce turns Inactive after repeated failures); the dump says it was full, so
    # the address can be reactivated.
    _bounce(
        MAILBOX_FULL_BOUNCE_ID,
        "SoftBounce",
        "mia@example.com",
        at="2024-01-10T14:20:31.0000000-05:00",
        inactive=True,
        can_activate=True,
        dump=True,
        tag="order-shipped",
        message_id=ORDER_MESSAGE_ID,
        subject="Your order has shipped",
        details="smtp;552 5.2.2 Mailbox full: mia@example.com is over its storage quota.",
    ),
]
SEED_BOUNCE_CONTENT = {692560173: "Return-Path: <>\r\nReceived: from mx.example.com ...\r\n"}
SEED_BOUNCE_DUMPS = {
    692560173: "Return-Path: <>\r\nReceived: from mail.example.com (mail.example.com "
    "[192.0.2.10])\r\n\tby smtp.postmarkapp.com with ESMTP; Mon, 15 Jan 2024 16:09:19 -0500\r\n"
    "From: Mail Delivery System <MAILER-DAEMON@example.com>\r\nTo: "
    "pm_bounces@pm-bounces.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n"
    "This is the mail system at host mail.example.com.\r\n\r\n<jim@example.com>: host "
    "mx.example.com said: 550 5.1.1 The email account that you tried to reach does not "
    "exist.\r\n",
    692560176: "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@example.org>\r\n"
    "Subject: Delayed Mail (still being retried)\r\n\r\n<bob@example.org>: 421 4.4.2 "
    "Connection timed out\r\n",
    MAILBOX_FULL_BOUNCE_ID: "Return-Path: <>\r\nReceived: from mx.example.com (mx.example.com "
    "[192.0.2.30])\r\n\tby smtp.postmarkapp.com with ESMTP; Wed, 10 Jan 2024 14:20:31 -0500\r\n"
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\nTo: "
    "pm_bounces@pm-bounces.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    "This is the mail system at host mx.example.com.\r\n\r\n"
    "I'm sorry to have to inform you that your message could not be delivered to one or\r\n"
    "more recipients: the recipient's mailbox is full.\r\n\r\n"
    "<mia@example.com>: host mx.example.com[192.0.2.30] said: 552 5.2.2 Mailbox full:\r\n"
    "    mia@example.com is over its storage quota (in reply to RCPT TO command)\r\n\r\n"
    "Reporting-MTA: dns; mx.example.com\r\nFinal-Recipient: rfc822; mia@example.com\r\n"
    "Action: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n",
}

WELCOME_HTML = (
    "<h1>Hello {{name}}</h1><p>Thanks for trying {{product_name}}.</p>"
    "<ul>{{#each items}}<li>{{title}}</li>{{/each}}</ul><p>{{company.address}}</p>"
)
WELCOME_TEXT = (
    "Hello {{name}},\n\nThanks for trying {{product_name}}.\n"
    "{{#each items}}- {{title}}\n{{/each}}\n{{company.address}}"
)


def _template(
    tid: int,
    name: str,
    alias: str,
    kind: str,
    layout: str | None,
    subject: str | None,
    html_body: str,
    text_body: str,
) -> dict[str, Any]:
    return {
        "TemplateId": tid,
        "Name": name,
        "Subject": subject,
        "HtmlBody": html_body,
        "TextBody": text_body,
        "AssociatedServerId": SERVER_ID,
        "Active": True,
        "Alias": alias,
        "TemplateType": kind,
        "LayoutTemplate": layout,
    }


SEED_TEMPLATES = [
    _template(
        1234,
        "Welcome",
        "welcome",
        "Standard",
        "basic-layout",
        "Welcome to {{product_name}}, {{name}}!",
        WELCOME_HTML,
        WELCOME_TEXT,
    ),
    _template(
        1235,
        "Password reset",
        "password-reset",
        "Standard",
        None,
        "Reset your {{product_name}} password",
        '<p>Hi {{name}}, <a href="{{action_url}}">reset your password</a>.</p>',
        "Hi {{name}}, reset your password: {{action_url}}",
    ),
    _template(
        1236,
        "Basic layout",
        "basic-layout",
        "Layout",
        None,
        None,
        "<html><body>{{{@content}}}<footer>{{company.address}}</footer></body></html>",
        "{{{@content}}}\n--\n{{company.address}}",
    ),
]


def _stream(
    sid: str, name: str, kind: str, description: str | None, created: str, unsubscribe: str
) -> dict[str, Any]:
    return {
        "ID": sid,
        "ServerID": SERVER_ID,
        "Name": name,
        "Description": description,
        "MessageStreamType": kind,
        "CreatedAt": created,
        "UpdatedAt": None,
        "ArchivedAt": None,
        "ExpectedPurgeDate": None,
        "SubscriptionManagementConfiguration": {"UnsubscribeHandlingType": unsubscribe},
    }


SEED_STREAMS = [
    _stream(
        "outbound",
        "Default Transactional Stream",
        "Transactional",
        None,
        "2020-07-09T04:44:46-04:00",
        "None",
    ),
    _stream(
        "inbound", "Default Inbound Stream", "Inbound", None, "2020-07-09T04:44:46-04:00", "None"
    ),
    _stream(
        "broadcasts",
        "Broadcasts",
        "Broadcasts",
        "Newsletters and announcements",
        "2020-07-10T08:00:00-04:00",
        "Postmark",
    ),
]
SEED_SUPPRESSIONS = {
    "outbound": [
        {
            "EmailAddress": "jim@example.com",
            "SuppressionReason": "HardBounce",
            "Origin": "Recipient",
            "CreatedAt": "2024-01-15T16:09:19-05:00",
        },
        {
            "EmailAddress": "ann@example.com",
            "SuppressionReason": "ManualSuppression",
            "Origin": "Customer",
            "CreatedAt": "2024-01-16T10:00:00-05:00",
        },
    ],
    "broadcasts": [
        {
            "EmailAddress": "complainer@example.net",
            "SuppressionReason": "SpamComplaint",
            "Origin": "Recipient",
            "CreatedAt": "2024-01-14T09:12:44-05:00",
        },
    ],
}
_ALL_TRIGGERS_OFF = {
    "Open": {"Enabled": False, "PostFirstOpenOnly": False},
    "Click": {"Enabled": False},
    "Delivery": {"Enabled": False},
    "Bounce": {"Enabled": False, "IncludeContent": False},
    "SpamComplaint": {"Enabled": False, "IncludeContent": False},
    "SubscriptionChange": {"Enabled": False},
}
SEED_WEBHOOKS = [
    {
        "ID": 1234567,
        "Url": "https://hooks.example.com/postmark",
        "MessageStream": "outbound",
        "HttpAuth": {"Username": "hook-user", "Password": "hook-pass"},
        "HttpHeaders": [{"Name": "X-Example", "Value": "fake"}],
        "Triggers": {
            "Open": {"Enabled": True, "PostFirstOpenOnly": False},
            "Click": {"Enabled": True},
            "Delivery": {"Enabled": True},
            "Bounce": {"Enabled": True, "IncludeContent": False},
            "SpamComplaint": {"Enabled": False, "IncludeContent": False},
            "SubscriptionChange": {"Enabled": False},
        },
    }
]


def _outbound(
    mid: str,
    to: str,
    subject: str,
    tag: str,
    at: str,
    *,
    stream: str = "outbound",
    sender: str = "sender@example.com",
    metadata: dict[str, str] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "MessageID": mid,
        "MessageStream": stream,
        "Tag": tag,
        "To": [{"Email": to, "Name": None}],
        "Cc": [],
        "Bcc": [],
        "Recipients": [to],
        "ReceivedAt": at,
        "From": sender,
        "Subject": subject,
        "Attachments": [],
        "Status": "Sent",
        "TrackOpens": True,
        "TrackLinks": "HtmlAndText",
        "Metadata": metadata or {},
        "Sandboxed": False,
        "TextBody": f"{subject}\n\nThis is the text body.",
        "HtmlBody": f"<html><body><p>{html.escape(subject)}</p></body></html>",
        "Body": f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n"
        "Content-Type: text/plain\r\n\r\nThis is the text body.\r\n",
        "MessageEvents": events or [],
    }


def _event(kind: str, recipient: str, at: str, **details: str) -> dict[str, Any]:
    return {"Recipient": recipient, "Type": kind, "ReceivedAt": at, "Details": details}


SEED_OUTBOUND = [
    _outbound(
        RECEIPT_MESSAGE_ID,
        "receiver@example.com",
        "Your receipt",
        "receipt",
        "2024-01-15T10:30:00.4178645-05:00",
        metadata={"order_id": "1001"},
        events=[
            _event(
                "Delivered",
                "receiver@example.com",
                "2024-01-15T10:30:02-05:00",
                DeliveryMessage="smtp;250 2.0.0 OK",
                DestinationServer="mx.example.com",
                DestinationIP="192.0.2.25",
            ),
            _event(
                "Opened",
                "receiver@example.com",
                "2024-01-15T10:35:00-05:00",
                Summary="Email opened with Chrome",
            ),
            _event(
                "LinkClicked",
                "receiver@example.com",
                "2024-01-15T10:36:00-05:00",
                Summary="Clicked https://example.com/receipt/1001",
            ),
        ],
    ),
    _outbound(
        WELCOME_MESSAGE_ID,
        "jim@example.com",
        "Hello from our app!",
        "welcome",
        "2024-01-15T16:09:17.0000000-05:00",
        events=[
            _event(
                "Bounced",
                "jim@example.com",
                _EXAMPLE_AT,
                BounceID="692560173",
                Summary="The email account that you tried to reach does not exist.",
            ),
        ],
    ),
    _outbound(
        NEWSLETTER_MESSAGE_ID,
        "complainer@example.net",
        "January newsletter",
        "newsletter",
        "2024-01-14T09:00:00.0000000-05:00",
        stream="broadcasts",
        sender="news@example.com",
    ),
    _outbound(
        RESET_MESSAGE_ID,
        "bob@example.org",
        "Reset your password",
        "password-reset",
        "2024-01-13T10:58:00.0000000-05:00",
    ),
    _outbound(
        ORDER_MESSAGE_ID,
        "mia@example.com",
        "Your order has shipped",
        "order-shipped",
        "2024-01-10T14:20:29.0000000-05:00",
        metadata={"order_id": "998"},
        events=[
            _event(
                "Bounced",
                "mia@example.com",
                "2024-01-10T14:20:31.0000000-05:00",
                BounceID=str(MAILBOX_FULL_BOUNCE_ID),
                Summary="552 5.2.2 Mailbox full",
            ),
        ],
    ),
]
_GEO = {
    "CountryISOCode": "US",
    "Country": "United States",
    "RegionISOCode": "NY",
    "Region": "New York",
    "City": "New York",
    "Zip": "10001",
    "Coords": "40.7506,-73.9971",
    "IP": "198.51.100.7",
}
_DESKTOP = {
    "UserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/120.0",
    "Platform": "Desktop",
    "Client": {"Name": "Chrome 120", "Company": "Google", "Family": "Chrome"},
    "OS": {"Name": "OS X 10.15 Catalina", "Company": "Apple Computer, Inc.", "Family": "OS X"},
    "Geo": _GEO,
}
_MOBILE = {
    "UserAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X)",
    "Platform": "Mobile",
    "Client": {"Name": "Apple Mail", "Company": "Apple", "Family": "Apple Mail"},
    "OS": {"Name": "iOS 17.2", "Company": "Apple Computer, Inc.", "Family": "iOS"},
    "Geo": {**_GEO, "City": "Brooklyn", "Zip": "11201"},
}
SEED_OPENS = [
    {
        "RecordType": "Open",
        "MessageID": RECEIPT_MESSAGE_ID,
        "MessageStream": "outbound",
        "ReceivedAt": "2024-01-15T10:35:00-05:00",
        "Recipient": "receiver@example.com",
        "Tag": "receipt",
        "FirstOpen": True,
        "ReadSeconds": 12,
        **_DESKTOP,
    },
    {
        "RecordType": "Open",
        "MessageID": RECEIPT_MESSAGE_ID,
        "MessageStream": "outbound",
        "ReceivedAt": "2024-01-15T18:02:00-05:00",
        "Recipient": "receiver@example.com",
        "Tag": "receipt",
        "FirstOpen": False,
        "ReadSeconds": 4,
        **_MOBILE,
    },
]
SEED_CLICKS = [
    {
        "RecordType": "Click",
        "MessageID": RECEIPT_MESSAGE_ID,
        "MessageStream": "outbound",
        "ReceivedAt": "2024-01-15T10:36:00-05:00",
        "Recipient": "receiver@example.com",
        "Tag": "receipt",
        "ClickLocation": "HTML",
        "OriginalLink": "https://example.com/receipt/1001",
        **_DESKTOP,
    },
]


def _inbound(
    mid: str,
    sender: str,
    name: str,
    subject: str,
    status: str,
    mailbox: str,
    at: str,
    blocked: str = "",
) -> dict[str, Any]:
    to = f"451d9b70cf9364d23ff6f9d51d870251+{mailbox}@inbound.postmarkapp.com"
    return {
        "MessageID": mid,
        "From": sender,
        "FromName": name,
        "FromFull": {"Email": sender, "Name": name, "MailboxHash": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": "", "MailboxHash": mailbox}],
        "Cc": "",
        "CcFull": [],
        "ReplyTo": "",
        "OriginalRecipient": to,
        "Subject": subject,
        "Date": at,
        "MailboxHash": mailbox,
        "Tag": "",
        "Status": status,
        "Attachments": [],
        "TextBody": f"{subject}\n-- \n{name}",
        "HtmlBody": f"<p>{html.escape(subject)}</p>",
        "Headers": [{"Name": "X-Spam-Status", "Value": "No"}],
        "BlockedReason": blocked,
        "MessageEvents": [],
    }


SEED_INBOUND = [
    _inbound(
        INBOUND_PROCESSED_ID,
        "customer@example.net",
        "Casey Customer",
        "Question about my order",
        "Processed",
        "ticket42",
        "2024-01-15T09:00:00.0000000-05:00",
    ),
    _inbound(
        INBOUND_BLOCKED_ID,
        "promo@spammy-domain.example",
        "Promo",
        "You won a prize",
        "Blocked",
        "",
        "2024-01-14T12:00:00.0000000-05:00",
        blocked="Blocked by inbound rule: spammy-domain.example",
    ),
    _inbound(
        INBOUND_FAILED_ID,
        "partner@example.org",
        "Pat Partner",
        "Invoice attached",
        "Failed",
        "billing",
        "2024-01-13T15:30:00.0000000-05:00",
    ),
]
SEED_INBOUND_RULES = [
    {"ID": 3, "Rule": "someone@example.com"},
    {"ID": 5, "Rule": "spammy-domain.example"},
]
BULK_ID = "f24af63c-533d-4b7a-ad65-4a7b3202d3a7"
SEED_BULK = {
    BULK_ID: {
        "Id": BULK_ID,
        "SubmittedAt": "2024-03-17T07:25:01.4178645-05:00",
        "TotalMessages": 1000,
        "PercentageCompleted": 45.5,
        "Status": "Processing",
        "Subject": "Hello {{FirstName}}",
    }
}


def _server(sid: int, name: str, token: str, color: str, delivery: str) -> dict[str, Any]:
    inbound_hash = f"{sid:02d}a7c3e1b9d5f4e6a8c0b2d4f6e8a0c2"
    return {
        "ID": sid,
        "Name": name,
        "ApiTokens": [token],
        "Color": color,
        "SmtpApiActivated": True,
        "RawEmailEnabled": False,
        "DeliveryType": delivery,
        "ServerLink": f"https://account.postmarkapp.com/servers/{sid}/streams",
        "InboundAddress": f"{inbound_hash}@inbound.postmarkapp.com",
        "InboundHookUrl": "",
        "BounceHookUrl": "",
        "OpenHookUrl": "",
        "DeliveryHookUrl": "",
        "ClickHookUrl": "",
        "PostFirstOpenOnly": False,
        "InboundDomain": "",
        "InboundHash": inbound_hash,
        "InboundSpamThreshold": 0,
        "TrackOpens": False,
        "TrackLinks": "None",
        "IncludeBounceContentInHook": True,
        "EnableSmtpApiErrorHooks": False,
    }


def _domain(did: int, name: str, *, verified: bool, return_path: str) -> dict[str, Any]:
    key = "k=rsa;p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDfake" + name.replace(".", "")
    host = f"20240115000000pm._domainkey.{name}"
    return {
        "ID": did,
        "Name": name,
        "SPFVerified": verified,
        "SPFHost": name,
        "SPFTextValue": "v=spf1 a mx include:spf.mtasv.net ~all",
        "DKIMVerified": verified,
        "WeakDKIM": False,
        "DKIMHost": host if verified else "",
        "DKIMTextValue": key if verified else "",
        "DKIMPendingHost": "" if verified else host,
        "DKIMPendingTextValue": "" if verified else key,
        "DKIMRevokedHost": "",
        "DKIMRevokedTextValue": "",
        "SafeToRemoveRevokedKeyFromDNS": False,
        "DKIMUpdateStatus": "Verified" if verified else "Pending",
        "ReturnPathDomain": return_path,
        "ReturnPathDomainVerified": verified and bool(return_path),
        "ReturnPathDomainCNAMEValue": "pm.mtasv.net",
    }


def _sender(
    sid: int, email: str, name: str, domain: dict[str, Any], *, confirmed: bool
) -> dict[str, Any]:
    fields = {k: v for k, v in domain.items() if k not in ("ID", "Name")}
    return {
        "ID": sid,
        "Name": name,
        "Domain": domain["Name"],
        "EmailAddress": email,
        "ReplyToEmailAddress": "",
        "Confirmed": confirmed,
        "ConfirmationPersonalNote": "",
        **fields,
    }


# Per-day statistics, one row per date of _STAT_DATES; totals are sums of the returned days.
_STAT_DATES = ("2024-01-13", "2024-01-14", "2024-01-15")
_STAT_SERIES: dict[str, tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]] = {
    "sends": (("Sent",), ((120,), (95,), (140,))),
    "bounces": (
        ("HardBounce", "SoftBounce", "SMTPApiError", "Transient"),
        ((2, 1, 0, 1), (1, 0, 1, 0), (3, 1, 0, 2)),
    ),
    "spam": (("SpamComplaint",), ((0,), (1,), (0,))),
    "tracked": (("Tracked",), ((100,), (80,), (120,))),
    "opens": (("Opens", "Unique"), ((60, 45), (52, 40), (75, 58))),
    "opens/platforms": (
        ("Desktop", "Mobile", "WebMail", "Unknown"),
        ((20, 18, 5, 2), (15, 20, 4, 1), (25, 25, 6, 2)),
    ),
    "opens/emailclients": (
        ("Apple Mail", "Gmail", "Outlook"),
        ((20, 18, 7), (22, 12, 6), (30, 20, 8)),
    ),
    "opens/readtimes": (
        ("0s", "1s", "2s", "5s", "10s", "20s+"),
        ((5, 10, 8, 9, 8, 5), (4, 9, 8, 8, 6, 5), (6, 14, 12, 11, 9, 6)),
    ),
    "clicks": (("Clicks", "Unique"), ((30, 22), (25, 19), (41, 30))),
    "clicks/browserfamilies": (
        ("Chrome", "Safari", "Firefox"),
        ((12, 8, 2), (10, 7, 2), (16, 11, 3)),
    ),
    "clicks/platforms": (("Desktop", "Mobile", "Unknown"), ((12, 9, 1), (10, 8, 1), (15, 14, 1))),
    "clicks/location": (("HTML", "Text"), ((20, 2), (18, 1), (28, 2))),
}


@dataclass
class PostmarkState:
    """Everything the simulator remembers; `PostmarkSimulator.reset()` rebuilds it from the
    seeds."""

    server_id: int
    servers: dict[int, dict[str, Any]]
    bounces: list[dict[str, Any]]
    bounce_content: dict[int, str]
    bounce_dumps: dict[int, str]
    templates: dict[int, dict[str, Any]]
    streams: dict[str, dict[str, Any]]
    suppressions: dict[str, list[dict[str, Any]]]
    webhooks: dict[int, dict[str, Any]]
    outbound: list[dict[str, Any]]
    opens: list[dict[str, Any]]
    clicks: list[dict[str, Any]]
    inbound: list[dict[str, Any]]
    inbound_rules: dict[int, dict[str, Any]]
    bulk: dict[str, dict[str, Any]]
    domains: dict[int, dict[str, Any]]
    senders: dict[int, dict[str, Any]]
    data_removals: dict[int, dict[str, Any]]
    pushed: dict[int, set[str]] = field(default_factory=dict)
    next_id: Counter[str] = field(default_factory=Counter)

    @property
    def server(self) -> dict[str, Any]:
        """The server the server token belongs to (`GET /server`); also in `servers`."""
        return self.servers[self.server_id]

    def new_id(self, kind: str, start: int) -> int:
        self.next_id[kind] = max(self.next_id[kind], start) + 1
        return self.next_id[kind]


def seed_state(server_token: str) -> PostmarkState:
    """A fresh copy of the seeded data; nothing is shared with earlier copies."""
    example_com = _domain(36735, "example.com", verified=True, return_path="pm-bounces.example.com")
    example_org = _domain(36736, "example.org", verified=False, return_path="")
    c = copy.deepcopy
    return PostmarkState(
        server_id=SERVER_ID,
        servers={
            SERVER_ID: _server(SERVER_ID, "Staging Testing", server_token, "red", "Live"),
            24: _server(24, "Production", "server-token-production", "green", "Live"),
        },
        bounces=c(SEED_BOUNCES),
        bounce_content=dict(SEED_BOUNCE_CONTENT),
        bounce_dumps=dict(SEED_BOUNCE_DUMPS),
        templates={t["TemplateId"]: c(t) for t in SEED_TEMPLATES},
        streams={s["ID"]: c(s) for s in SEED_STREAMS},
        suppressions=c(SEED_SUPPRESSIONS),
        webhooks={w["ID"]: c(w) for w in SEED_WEBHOOKS},
        outbound=c(SEED_OUTBOUND),
        opens=c(SEED_OPENS),
        clicks=c(SEED_CLICKS),
        inbound=c(SEED_INBOUND),
        inbound_rules={r["ID"]: dict(r) for r in SEED_INBOUND_RULES},
        bulk=c(SEED_BULK),
        domains={36735: example_com, 36736: example_org},
        senders={
            36500: _sender(
                36500, "sender@example.com", "Example Sender", example_com, confirmed=True
            ),
            36501: _sender(36501, "news@example.org", "Example News", example_org, confirmed=False),
        },
        data_removals={1234: {"ID": 1234, "Status": "Done"}},
    )


# ======================================================================== plumbing


class ApiError(Exception):
    """A Postmark `{ErrorCode, Message}` answer; handlers raise it, the dispatcher renders it."""

    def __init__(self, code: int, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class _Query:
    """Query parameters with case-insensitive names (Postmark mixes `count` and `Count`)."""

    def __init__(self, raw: dict[str, list[str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, values in raw.items():
            self._values.setdefault(key.lower(), []).extend(values)

    def get(self, name: str) -> str | None:
        """The first non-blank value, or None."""
        values = [v for v in self._values.get(name.lower(), []) if v.strip()]
        return values[0].strip() if values else None

    def with_prefix(self, prefix: str) -> dict[str, str]:
        return {
            k[len(prefix) :]: v[0] for k, v in self._values.items() if k.startswith(prefix) and v
        }


@dataclass
class _Call:
    """What a handler gets: the simulator, its state, path parameters, query and parsed body."""

    sim: PostmarkSimulator
    state: PostmarkState
    params: dict[str, str]
    query: _Query
    body: Any
    test_mode: bool = False  # sent with the POSTMARK_API_TEST server token


Handler = Callable[[_Call], Any]


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    token: str  # "server" or "account"
    handler: Handler
    sending: bool


ROUTES: list[_Route] = []


def _route(
    method: str, template: str, *, token: str = "server", sending: bool = False
) -> Callable[[Handler], Handler]:
    """Register a handler. Order matters: literal segments before `{param}` ones."""
    parts = re.split(r"(\{\w+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    pattern = re.compile(f"^{regex}/?$", re.IGNORECASE)

    def register(handler: Handler) -> Handler:
        ROUTES.append(_Route(method, template, pattern, token, handler, sending))
        return handler

    return register


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """A JSON field, matching the key case-insensitively as Postmark does."""
    if not isinstance(obj, dict):
        return default
    if key in obj:
        return obj[key]
    lowered = key.lower()
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == lowered:
            return v
    return default


def _has(obj: Any, key: str) -> bool:
    sentinel = object()
    return _get(obj, key, sentinel) is not sentinel


def _object(body: Any, code: int = 403) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(code, "Incompatible JSON: the request body must be a JSON object.")
    return body


def _ok(message: str) -> dict[str, Any]:
    return {"ErrorCode": 0, "Message": message}


def _paging(q: _Query, code: int) -> tuple[int, int]:
    """count/offset exactly as Postmark checks them: both required, count <= 500, window 10k."""
    values = []
    for name in ("count", "offset"):
        raw = q.get(name)
        if raw is None:
            raise ApiError(code, f"The '{name}' parameter is required.")
        try:
            values.append(int(raw))
        except ValueError:
            raise ApiError(code, f"The '{name}' parameter must be an integer.") from None
    count, offset = values
    if not 1 <= count <= 500:
        raise ApiError(code, "The 'count' parameter must be between 1 and 500.")
    if offset < 0:
        raise ApiError(code, "The 'offset' parameter must not be negative.")
    if count + offset > 10000:
        raise ApiError(code, "The sum of 'count' and 'offset' must not exceed 10000.")
    return count, offset


def _bool_param(q: _Query, name: str, code: int) -> bool | None:
    raw = q.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ApiError(code, f"The '{name}' parameter must be true or false.")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$")


def _date_range(q: _Query, code: int) -> tuple[str, str]:
    """fromdate/todate as comparable 'YYYY-MM-DDTHH:MM:SS' bounds (time zones ignored)."""
    bounds = []
    for name, fill in (("fromdate", "T00:00:00"), ("todate", "T23:59:59")):
        raw = q.get(name)
        if raw is None:
            bounds.append("" if name == "fromdate" else "9999")
            continue
        if not _DATE.match(raw):
            raise ApiError(
                code,
                f"The '{name}' parameter should be a date (YYYY-MM-DD) "
                "or a date and time (YYYY-MM-DDThh:mm:ss).",
            )
        bounds.append((raw + fill[len(raw) - 10 :])[:19] if len(raw) > 10 else raw + fill)
    return bounds[0], bounds[1]


def _in_range(timestamp: str, bounds: tuple[str, str]) -> bool:
    return bounds[0] <= timestamp[:19] <= bounds[1]


def _contains(haystack: Any, needle: str | None) -> bool:
    return needle is None or needle.lower() in str(haystack or "").lower()


def _equals(value: Any, wanted: str | None) -> bool:
    return wanted is None or str(value or "").lower() == wanted.lower()


def _int_id(raw: str, code: int, message: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ApiError(code, message) from None


def _page(rows: list[Any], q: _Query, code: int, key: str) -> dict[str, Any]:
    count, offset = _paging(q, code)
    return {"TotalCount": len(rows), key: rows[offset : offset + count]}


# ======================================================================== templating
# Mustachio, Postmark's template language (ActiveCampaign/mustachio; file names below are
# that repository's): {{var}}, {{{raw}}}, {{&raw}}, {{a.b}}, {{../a}}, {{#each list}},
# {{#section}}, {{^inverted}}, {{/...}}, {{! comment}}, and Postmark's own placeholders
# {{{@content}}} (a layout's slot) and {{{ pm:... }}}, which read nothing from the model.
# `mustachio.py` next to this file states the same rules for the send checks; the tests
# hold the two to agree.


class TemplateSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass
class _Node:
    kind: str  # text | var | raw | content | each | section | inverted
    value: str
    children: list[_Node] = field(default_factory=list)


_EACH_WITHOUT_PATH = (
    "The 'each' block being opened requires a model path to be specified in "
    "the form '{#each <name>}'."
)


def parse_template(text: str) -> list[_Node]:
    """Parse template content; raises TemplateSyntaxError with Postmark-style line/position."""

    def fail(message: str, index: int) -> TemplateSyntaxError:
        line = text.count("\n", 0, index) + 1
        return TemplateSyntaxError(message, line, index - (text.rfind("\n", 0, index) + 1) + 1)

    root: list[_Node] = []
    current = root
    stack: list[tuple[_Node, int, list[_Node]]] = []
    pos = 0
    while pos < len(text):
        start = text.find("{{", pos)
        literal = text[pos:] if start < 0 else text[pos:start]
        if "}}" in literal:
            raise fail("Unexpected '}}' without a matching '{{'.", pos + literal.index("}}"))
        if literal:
            current.append(_Node("text", literal))
        if start < 0:
            break
        triple = text.startswith("{{{", start)
        opener, closer = ("{{{", "}}}") if triple else ("{{", "}}")
        end = text.find(closer, start + len(opener))
        if end < 0:
            raise fail(f"A tag was opened with '{opener}' but never closed with '{closer}'.", start)
        inner = text[start + len(opener) : end]
        if "{" in inner or "}" in inner:
            raise fail("Unbalanced braces in a tag.", start)
        pos = end + len(closer)
        tag = inner.strip()
        if not tag:
            raise fail("Empty tag: a model path is required between the braces.", start)
        if tag.startswith("!"):
            continue
        if tag.startswith("@"):
            current.append(_Node("content", tag))
        elif tag.startswith("pm:"):
            current.append(_Node("placeholder", tag))
        elif triple or tag[0] == "&":
            current.append(_Node("raw", tag.lstrip("&").strip()))
        elif tag[0] in "#^":
            name = tag[1:].strip()
            top = stack[-1][0] if stack else None
            if top is not None and top.kind in ("section", "inverted") and name == top.value:
                # {{#x}}..{{^x}}..{{/x}}: the new block closes x (Tokenizer.cs, same-token scope)
                current = stack.pop()[2]
            if tag[0] == "#" and (name == "each" or name.startswith("each ")):
                if not name[4:].strip():
                    raise fail(_EACH_WITHOUT_PATH, start)
                node = _Node("each", name[4:].strip())
            elif not name:
                raise fail("A block must name a model path.", start)
            else:
                node = _Node("section" if tag[0] == "#" else "inverted", name)
            current.append(node)
            stack.append((node, start, current))
            current = node.children
        elif tag[0] == "/":
            name = tag[1:].strip()
            if not stack:
                raise fail(f"The closing element '{{{{/{name}}}}}' has no opening element.", start)
            node, _, parent = stack[-1]
            if name != ("each" if node.kind == "each" else node.value):
                raise fail("It appears that open and closing elements are mismatched.", start)
            stack.pop()
            current = parent
        else:
            current.append(_Node("var", tag))
    if stack:
        node, at, _ = stack[-1]
        raise fail(
            f"A scope block to the following path was opened but not closed: "
            f"'{node.value}', please close it using the appropriate syntax.",
            at,
        )
    return root


def _scope_path(depth: int, path: str) -> tuple[int, list[str]]:
    while path.startswith("../"):
        path, depth = path[3:], max(0, depth - 1)
    return depth, [s for s in path.split(".") if s and s != "this"]


def _walk(obj: dict[str, Any], segments: list[str]) -> dict[str, Any]:
    for segment in segments:
        nxt = obj.get(segment)
        if not isinstance(nxt, dict):
            nxt = obj[segment] = {}
        obj = nxt
    return obj


def suggest_model(nodes: list[_Node], scopes: list[dict[str, Any]]) -> None:
    """Fill scopes[0] with the model the template uses: `name` -> "name_Value", as Postmark."""
    for node in nodes:
        depth, segs = _scope_path(len(scopes) - 1, node.value)
        if node.kind in ("var", "raw") and segs:
            _walk(scopes[depth], segs[:-1]).setdefault(segs[-1], f"{segs[-1]}_Value")
        elif node.kind == "each" and segs:
            parent = _walk(scopes[depth], segs[:-1])
            items = parent.get(segs[-1])
            if not (isinstance(items, list) and items and isinstance(items[0], dict)):
                items = parent[segs[-1]] = [{}]
            suggest_model(node.children, [*scopes, items[0]])
        elif node.kind == "section" and segs:
            suggest_model(node.children, [*scopes, _walk(scopes[depth], segs)])
        elif node.kind == "inverted":
            suggest_model(node.children, scopes)


class TemplateRenderError(Exception):
    """Mustachio could not render the template with this model (Parser.cs)."""


@dataclass
class _Context:
    """ContextObject.cs: a value and the context it was read from (its parent)."""

    value: Any
    parent: _Context | None = None


_PATH_ELEMENT = re.compile(r"(\.\.[\\/])|([^.]+)")  # ContextObject.cs _pathFinder


def _context_for(ctx: _Context, path: str) -> _Context:
    """ContextObject.cs GetContextForPath: each element is read from the context before it,
    never from an outer one; `../` steps to the parent, and at the root stays there."""
    for match in _PATH_ELEMENT.finditer(path):
        element = match.group(0)
        if element.startswith(".."):
            ctx = ctx.parent or ctx
            continue
        value = ctx.value.get(element) if isinstance(ctx.value, dict) else None
        ctx = _Context(value, ctx)
    return ctx


def _exists(value: Any) -> bool:
    """ContextObject.cs Exists: not null, false, 0, "" or an empty list or object."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return False
    return not (isinstance(value, list | dict) and not value)


def _printable(value: Any) -> str:
    """ContextObject.cs ToString: plain values print; null, lists and objects print nothing."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"  # .NET's Boolean.ToString()
    return str(value)


def render_template(nodes: list[_Node], model: Any, *, escape: bool, content: str = "") -> str:
    """Render parsed template content with a model; raises TemplateRenderError."""
    return _render(nodes, _Context(model if model is not None else {}), escape, content)


def _render(nodes: list[_Node], ctx: _Context, escape: bool, content: str) -> str:
    out: list[str] = []
    for node in nodes:
        if node.kind == "text":
            out.append(node.value)
        elif node.kind == "content":
            out.append(content)
        elif node.kind == "placeholder":
            continue  # pm:...: Postmark fills these itself (TokenExpander.cs); no model value
        elif node.kind in ("var", "raw"):
            text = _printable(_context_for(ctx, node.value).value)
            out.append(html.escape(text) if escape and node.kind == "var" else text)
        else:
            found = _context_for(ctx, node.value)
            if node.kind == "section":  # Parser.cs HandleElementOpen: once, no iteration
                if _exists(found.value):
                    out.append(_render(node.children, found, escape, content))
            elif node.kind == "inverted":
                if not _exists(found.value):
                    out.append(_render(node.children, found, escape, content))
            elif _exists(found.value):  # each: Parser.cs HandleCollectionOpen
                if not isinstance(found.value, list):
                    raise TemplateRenderError(
                        f"'{node.value}' is used like an array by the template, but is a "
                        "scalar value or object in your model."
                    )
                for item in found.value:
                    out.append(_render(node.children, _Context(item, found), escape, content))
    return "".join(out)


# ======================================================================== sending


def _split_addresses(value: str) -> list[str]:
    """Addresses from a Postmark recipient field: comma-separated, `Name <addr>` allowed."""
    parts, buf, quoted = [], "", False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    addresses = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        match = re.search(r"<([^<>]*)>\s*$", part)
        addresses.append(match.group(1).strip() if match else part)
    return addresses


_EMAIL = re.compile(r"^[^@\s<>,\"]+@[^@\s<>,\"]+\.[^@\s<>,\"]+$")


def _send_stream(state: PostmarkState, msg: dict[str, Any]) -> str:
    stream_id = _get(msg, "MessageStream") or "outbound"
    stream = _find_stream_or_none(state, str(stream_id))
    if stream is None or stream["ArchivedAt"] is not None:
        raise ApiError(1235, f"The stream provided: '{stream_id}' does not exist on this server.")
    if stream["MessageStreamType"] == "Inbound":
        raise ApiError(
            1236,
            f"Sending is not supported on the '{stream['ID']}' stream: it is an Inbound stream.",
        )
    return str(stream["ID"])


def _check_recipients(msg: dict[str, Any], *, need_to: bool = True) -> list[str]:
    sender = _get(msg, "From")
    if not isinstance(sender, str) or not sender.strip():
        raise ApiError(300, "Invalid 'From' address: a sender address is required.")
    if not all(_EMAIL.match(a) for a in _split_addresses(sender)):
        raise ApiError(300, f"Invalid 'From' address: '{sender}'.")
    recipients: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        value = _get(msg, name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise ApiError(300, f"Invalid '{name}' address: it must be a string.")
        for address in _split_addresses(value):
            if not _EMAIL.match(address):
                raise ApiError(300, f"Invalid '{name}' address: '{address}'.")
            recipients.append(address)
    if need_to and not _split_addresses(str(_get(msg, "To") or "")):
        raise ApiError(300, "Zero recipients specified")
    if len(recipients) > 50:
        raise ApiError(
            300,
            f"You may not send to more than 50 recipients (To, Cc and Bcc); "
            f"this message has {len(recipients)}.",
        )
    return recipients


def _check_inactive(recipients: list[str]) -> None:
    inactive = [a for a in recipients if "inactive" in a.lower()]
    if inactive:
        raise ApiError(
            406,
            "You tried to send to recipient(s) that have been marked as inactive. "
            f"Found inactive addresses: {', '.join(inactive)}. Inactive recipients "
            "are ones that have generated a hard bounce, a spam complaint, or a "
            "manual suppression.",
        )


def _resolve_template(state: PostmarkState, msg: dict[str, Any]) -> dict[str, Any]:
    tid, alias = _get(msg, "TemplateId"), _get(msg, "TemplateAlias")
    if tid is None and not alias:
        raise ApiError(1101, "A 'TemplateId' or 'TemplateAlias' must be provided.")
    if tid is not None and alias:
        raise ApiError(1101, "Provide either 'TemplateId' or 'TemplateAlias', not both.")
    key = "TemplateId" if tid is not None else "TemplateAlias"
    template = _find_template_or_none(state, str(tid if tid is not None else alias))
    if template is None or template["TemplateType"] != "Standard" or not template["Active"]:
        raise ApiError(
            1101, f"The '{key}' associated with this request is not valid or was not found."
        )
    return template


def _render_for_send(
    state: PostmarkState, template: dict[str, Any], model: dict[str, Any]
) -> tuple[str, str, str]:
    def render(text: str | None, escape: bool, content: str = "") -> str:
        return render_template(parse_template(text or ""), model, escape=escape, content=content)

    subject = render(template["Subject"], False)
    html_body = render(template["HtmlBody"], True)
    text_body = render(template["TextBody"], False)
    layout = _find_template_or_none(state, template["LayoutTemplate"] or "")
    if layout is not None and layout["TemplateType"] == "Layout":
        html_body = render(layout["HtmlBody"], True, html_body)
        text_body = render(layout["TextBody"], False, text_body)
    return subject, html_body, text_body


def _send_one(call: _Call, msg: Any, *, templated: bool) -> dict[str, Any]:
    """Validate one message like Postmark, record it as sent, and answer its send result."""
    if not isinstance(msg, dict):
        raise ApiError(403, "Incompatible JSON: a message must be a JSON object.")
    failed = ""  # why the template did not render: accepted, then bounced, as Postmark does
    recipients = _check_recipients(msg)
    stream = _send_stream(call.state, msg)
    if templated:
        template = _resolve_template(call.state, msg)
        model = _get(msg, "TemplateModel")
        if not isinstance(model, dict):
            raise ApiError(1120, "The 'TemplateModel' field is required and must be an object.")
        try:
            subject, html_body, text_body = _render_for_send(call.state, template, model)
        except TemplateRenderError as exc:
            failed = str(exc)
            subject, html_body, text_body = str(template["Subject"] or ""), "", ""
    else:
        subject = str(_get(msg, "Subject") or "")
        html_body, text_body = _get(msg, "HtmlBody"), _get(msg, "TextBody")
        if not html_body and not text_body:
            raise ApiError(300, "Provide either email TextBody or HtmlBody or both.")
    _check_inactive(recipients)
    result = {
        "To": _get(msg, "To"),
        "SubmittedAt": _now(),
        "MessageID": str(uuid.uuid4()),
        "ErrorCode": 0,
        "Message": "OK",
    }
    if call.test_mode:
        return result
    to = _split_addresses(str(_get(msg, "To")))
    sent = _outbound(
        result["MessageID"],
        to[0],
        subject,
        str(_get(msg, "Tag") or ""),
        result["SubmittedAt"],
        stream=stream,
        sender=str(_get(msg, "From")),
        metadata=_get(msg, "Metadata") or {},
    )
    sent.update(
        To=[{"Email": a, "Name": None} for a in to],
        Recipients=recipients,
        Status="Sent",
        Cc=[{"Email": a, "Name": None} for a in _split_addresses(str(_get(msg, "Cc") or ""))],
        Bcc=[{"Email": a, "Name": None} for a in _split_addresses(str(_get(msg, "Bcc") or ""))],
        TextBody=text_body or "",
        HtmlBody=html_body or "",
        TrackOpens=bool(_get(msg, "TrackOpens", False)),
        TrackLinks=_get(msg, "TrackLinks") or "None",
    )
    call.state.outbound.insert(0, sent)
    if failed:
        _bounce_rendering(call.state, sent, failed)
    return result


def _bounce_rendering(state: PostmarkState, sent: dict[str, Any], reason: str) -> None:
    """Postmark accepts a templated send that fails to render, then reports a bounce of the
    type TemplateRenderingFailed for each recipient."""
    for address in sent["Recipients"]:
        bid = state.new_id("bounce", max(b["ID"] for b in state.bounces))
        bounce = _bounce(
            bid,
            "TemplateRenderingFailed",
            address,
            details=f"Template rendering failed: {reason}",
            at=sent["ReceivedAt"],
            inactive=False,
            can_activate=False,
            dump=False,
            tag=sent["Tag"],
            message_id=sent["MessageID"],
            stream=sent["MessageStream"],
            sender=sent["From"],
            subject=sent["Subject"],
        )
        state.bounces.insert(0, bounce)
        sent["MessageEvents"].append(
            _event(
                "Bounced",
                address,
                sent["ReceivedAt"],
                BounceID=str(bid),
                Summary="Template rendering failed",
            )
        )


@_route("POST", "/email", sending=True)
def _send_email(call: _Call) -> Any:
    return _send_one(call, _object(call.body), templated=False)


@_route("POST", "/email/withTemplate", sending=True)
def _send_with_template(call: _Call) -> Any:
    return _send_one(call, _object(call.body), templated=True)


def _batch(call: _Call, messages: Any, *, templated: bool) -> list[dict[str, Any]]:
    """HTTP 200 with one result per message: failures carry only ErrorCode and Message."""
    if len(messages) > 500:
        raise ApiError(410, f"Too many batch messages: at most 500, got {len(messages)}.")
    results = []
    for msg in messages:
        try:
            results.append(_send_one(call, msg, templated=templated))
        except ApiError as exc:
            results.append({"ErrorCode": exc.code, "Message": exc.message})
    return results


@_route("POST", "/email/batch", sending=True)
def _send_batch(call: _Call) -> Any:
    if not isinstance(call.body, list):
        raise ApiError(403, "Incompatible JSON: the batch body must be a JSON array of messages.")
    return _batch(call, call.body, templated=False)


@_route("POST", "/email/batchWithTemplates", sending=True)
def _send_batch_with_templates(call: _Call) -> Any:
    messages = _get(_object(call.body), "Messages")
    if not isinstance(messages, list):
        raise ApiError(403, 'Incompatible JSON: the body must be {"Messages": [...]}.')
    return _batch(call, messages, templated=True)


@_route("POST", "/email/bulk", sending=True)
def _send_bulk(call: _Call) -> Any:
    body = _object(call.body)
    _check_recipients(body, need_to=False)
    _send_stream(call.state, body)
    messages = _get(body, "Messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(300, "'Messages' must be a non-empty list of recipients.")
    for item in messages:
        if not isinstance(item, dict) or not _get(item, "To"):
            raise ApiError(300, "Every entry of 'Messages' needs a 'To' address.")
    if _has(body, "TemplateId") or _has(body, "TemplateAlias"):
        subject = _resolve_template(call.state, body)["Subject"]
    else:
        subject = _get(body, "Subject")
        if not subject or not (_get(body, "HtmlBody") or _get(body, "TextBody")):
            raise ApiError(300, "Provide a Subject and HtmlBody or TextBody, or a template.")
    bulk_id, at = str(uuid.uuid4()), _now()
    call.state.bulk[bulk_id] = {
        "Id": bulk_id,
        "SubmittedAt": at,
        "TotalMessages": len(messages),
        "PercentageCompleted": 0.0,
        "Status": "Accepted",
        "Subject": subject,
    }
    return {"ID": bulk_id, "Status": "Accepted", "SubmittedAt": at}


@_route("GET", "/email/bulk/{bulkRequestId}")
def _bulk_status(call: _Call) -> Any:
    wanted = call.params["bulkRequestId"].lower()
    for bulk_id, status in call.state.bulk.items():
        if bulk_id.lower() == wanted:
            return status
    raise ApiError(12, "The bulk request was not found.", status=404)


# ======================================================================== bounces


def _find_bounce(call: _Call) -> dict[str, Any]:
    bid = _int_id(call.params["bounceid"], 1001, "Bounce not found.")
    for bounce in call.state.bounces:
        if bounce["ID"] == bid:
            return bounce
    raise ApiError(1001, "Bounce not found.")


@_route("GET", "/deliverystats")
def _delivery_stats(call: _Call) -> Any:
    by_type: Counter[str] = Counter(b["Type"] for b in call.state.bounces)
    return {
        "InactiveMails": sum(1 for b in call.state.bounces if b["Inactive"]),
        "Bounces": [{"Name": "All", "Count": len(call.state.bounces)}]
        + [
            {"Type": kind, "Name": BOUNCE_TYPES[kind][1], "Count": n} for kind, n in by_type.items()
        ],
    }


@_route("GET", "/bounces")
def _list_bounces(call: _Call) -> Any:
    q = call.query
    _paging(q, 1000)
    kind = q.get("type")
    if kind is not None:
        kind = next((t for t in BOUNCE_TYPES if t.lower() == kind.lower()), None)
        if kind is None:
            raise ApiError(1000, f"Invalid bounce type '{q.get('type')}'.")
    inactive = _bool_param(q, "inactive", 1000)
    dates = _date_range(q, 1000)
    rows = [
        b
        for b in call.state.bounces
        if (kind is None or b["Type"] == kind)
        and (inactive is None or b["Inactive"] == inactive)
        and _contains(b["Email"], q.get("emailFilter"))
        and _equals(b["Tag"], q.get("tag"))
        and _equals(b["MessageID"], q.get("messageID"))
        and _equals(b["MessageStream"], q.get("messagestream"))
        and _in_range(b["BouncedAt"], dates)
    ]
    return _page([dict(b) for b in rows], q, 1000, "Bounces")


@_route("GET", "/bounces/tags")
def _bounced_tags(call: _Call) -> Any:
    return sorted({b["Tag"] for b in call.state.bounces if b["Tag"]})


@_route("GET", "/bounces/{bounceid}")
def _get_bounce(call: _Call) -> Any:
    bounce = _find_bounce(call)
    default = f"Return-Path: <>\r\nReceived: from mx.{bounce['Email'].split('@')[-1]} ...\r\n"
    return {**bounce, "Content": call.state.bounce_content.get(bounce["ID"], default)}


@_route("GET", "/bounces/{bounceid}/dump")
def _bounce_dump(call: _Call) -> Any:
    bounce = _find_bounce(call)
    return {
        "Body": call.state.bounce_dumps.get(bounce["ID"], "") if bounce["DumpAvailable"] else ""
    }


@_route("PUT", "/bounces/{bounceid}/activate")
def _activate_bounce(call: _Call) -> Any:
    """Like examples/activate_bounce.200.json, the answer has Inactive and CanActivate false;
    so a second activation of the same bounce gets ErrorCode 1003."""
    bounce = _find_bounce(call)
    if not bounce["CanActivate"]:
        raise ApiError(1003, "Due to the type of bounce, this address cannot be reactivated.")
    bounce.update(Inactive=False, CanActivate=False)
    kept = call.state.suppressions.get(bounce["MessageStream"], [])
    call.state.suppressions[bounce["MessageStream"]] = [
        s
        for s in kept
        if not (
            s["EmailAddress"].lower() == bounce["Email"].lower()
            and s["SuppressionReason"] == "HardBounce"
        )
    ]
    return {"Message": "OK", "Bounce": dict(bounce)}


# ======================================================================== templates


def _find_template_or_none(state: PostmarkState, key: str) -> dict[str, Any] | None:
    if key.isdigit():
        return state.templates.get(int(key))
    return next(
        (t for t in state.templates.values() if t["Alias"] and t["Alias"].lower() == key.lower()),
        None,
    )


def _find_template(call: _Call) -> dict[str, Any]:
    key = call.params["templateIdOrAlias"]
    template = _find_template_or_none(call.state, key)
    if template is None:
        field_name = "TemplateId" if key.isdigit() else "TemplateAlias"
        raise ApiError(
            1101, f"The '{field_name}' associated with this request is not valid or was not found."
        )
    return template


def _template_summary(t: dict[str, Any]) -> dict[str, Any]:
    return {
        k: t[k] for k in ("TemplateId", "Name", "Alias", "Active", "TemplateType", "LayoutTemplate")
    }


@_route("GET", "/templates")
def _list_templates(call: _Call) -> Any:
    q = call.query
    _paging(q, 1100)
    kind = (q.get("TemplateType") or "All").lower()
    if kind not in ("all", "standard", "layout"):
        raise ApiError(1100, "TemplateType must be All, Standard or Layout.")
    layout = q.get("LayoutTemplate")
    rows = [
        {
            "Active": t["Active"],
            "TemplateId": t["TemplateId"],
            "Name": t["Name"],
            "Alias": t["Alias"],
            "TemplateType": t["TemplateType"],
            "LayoutTemplate": t["LayoutTemplate"],
        }
        for t in sorted(call.state.templates.values(), key=lambda t: t["TemplateId"])
        if kind in ("all", t["TemplateType"].lower()) and _equals(t["LayoutTemplate"], layout)
    ]
    return _page(rows, q, 1100, "Templates")


@_route("POST", "/templates/validate")
def _validate_template(call: _Call) -> Any:
    """Validate and test-render; the suggested model comes from the {{variables}} used."""
    body = _object(call.body)
    present = [
        (n, _get(body, n))
        for n in ("HtmlBody", "TextBody", "Subject")
        if isinstance(_get(body, n), str)
    ]
    if not present:
        raise ApiError(1120, "Provide at least one of Subject, HtmlBody or TextBody.")
    suggested: dict[str, Any] = {}
    parsed: dict[str, list[_Node]] = {}
    errors: dict[str, TemplateSyntaxError] = {}
    for name, text in present:
        try:
            parsed[name] = parse_template(text)
            suggest_model(parsed[name], [suggested])
        except TemplateSyntaxError as exc:
            errors[name] = exc
    test_model = _get(body, "TestRenderModel")
    model = test_model if isinstance(test_model, dict) else suggested
    result: dict[str, Any] = {"AllContentIsValid": not errors}
    for name, _ in present:
        if name in errors:
            exc = errors[name]
            result[name] = {
                "ContentIsValid": False,
                "ValidationErrors": [
                    {"Message": exc.message, "Line": exc.line, "CharacterPosition": exc.column}
                ],
                "RenderedContent": None,
            }
            continue
        try:
            rendered = render_template(parsed[name], model, escape=name == "HtmlBody")
        except TemplateRenderError as exc:
            # The content is valid; this test model cannot render it (a send with it bounces).
            result[name] = {
                "ContentIsValid": True,
                "ValidationErrors": [{"Message": str(exc), "Line": 1, "CharacterPosition": 1}],
                "RenderedContent": None,
            }
            continue
        if (
            name == "HtmlBody"
            and _get(body, "InlineCssForHtmlTestRender", True) is not False
            and "<html" not in rendered.lower()
        ):
            rendered = f"<html><head></head><body>{rendered}</body></html>"
        result[name] = {"ContentIsValid": True, "ValidationErrors": [], "RenderedContent": rendered}
    result["SuggestedTemplateModel"] = None if errors else suggested
    return result


def _check_template_content(state: PostmarkState, t: dict[str, Any]) -> None:
    if not t["Name"]:
        raise ApiError(1120, "The 'Name' field is required.")
    if not (t["HtmlBody"] or t["TextBody"]):
        raise ApiError(1120, "Provide an HtmlBody or a TextBody.")
    if t["TemplateType"] == "Standard" and not t["Subject"]:
        raise ApiError(1120, "The 'Subject' field is required for a Standard template.")
    if t["TemplateType"] == "Layout":
        if t["Subject"]:
            raise ApiError(1123, "A layout may not have a Subject.")
        for name in ("HtmlBody", "TextBody"):
            if t[name] and t[name].count("{{{@content}}}") != 1:
                raise ApiError(
                    1131,
                    f"The layout {name} must contain the '{{{{{{@content}}}}}}' "
                    "placeholder exactly once.",
                )
    for name in ("Subject", "HtmlBody", "TextBody"):
        try:
            parse_template(t[name] or "")
        except TemplateSyntaxError as exc:
            raise ApiError(1122, f"The '{name}' is not a valid template: {exc.message}") from None
    if t["Alias"]:
        if not re.match(r"^[A-Za-z][\w.-]*$", t["Alias"]):
            raise ApiError(1122, f"Invalid template alias '{t['Alias']}'.")
        for other in state.templates.values():
            if other["TemplateId"] != t["TemplateId"] and (
                (other["Alias"] or "").lower() == t["Alias"].lower()
            ):
                raise ApiError(1122, f"A template with the alias '{t['Alias']}' already exists.")
    if t["LayoutTemplate"]:
        layout = _find_template_or_none(state, t["LayoutTemplate"])
        if layout is None or layout["TemplateType"] != "Layout":
            raise ApiError(1101, f"The 'LayoutTemplate' '{t['LayoutTemplate']}' was not found.")


_TEMPLATE_FIELDS = ("Name", "Subject", "HtmlBody", "TextBody", "Alias", "LayoutTemplate")


@_route("POST", "/templates")
def _create_template(call: _Call) -> Any:
    body = _object(call.body)
    if not body:
        raise ApiError(1109, "No template data received.")
    kind = _get(body, "TemplateType") or "Standard"
    if kind not in ("Standard", "Layout"):
        raise ApiError(1122, "TemplateType must be Standard or Layout.")
    if len(call.state.templates) >= 100:
        raise ApiError(1105, "The template limit (100) would be exceeded.")
    tid = call.state.new_id("template", max(call.state.templates, default=1236))
    template = _template(tid, "", "", kind, None, None, "", "")
    template.update({k: _get(body, k) for k in _TEMPLATE_FIELDS})
    _check_template_content(call.state, template)
    call.state.templates[tid] = template
    return _template_summary(template)


@_route("PUT", "/templates/push", token="account")
def _push_templates(call: _Call) -> Any:
    """Copy aliased templates between servers; the simulator only holds templates for its own
    server, so other servers have none of their own (pushed aliases are remembered)."""
    body = _object(call.body)
    source, dest = _get(body, "SourceServerID"), _get(body, "DestinationServerID")
    for value in (source, dest):
        if not isinstance(value, int) or value not in call.state.servers:
            raise ApiError(601, f"Server {value} does not exist.")
    templates = (
        sorted(call.state.templates.values(), key=lambda t: t["TemplateId"])
        if source == call.state.server_id
        else []
    )
    templates = [t for t in templates if t["Alias"]]
    if not templates:
        raise ApiError(1124, "There are no templates with an alias to push.")
    existing = (
        {(t["Alias"] or "").lower() for t in call.state.templates.values()}
        if dest == call.state.server_id
        else call.state.pushed.get(dest, set())
    )
    rows = [
        {
            "Action": "Edit" if t["Alias"].lower() in existing else "Create",
            "TemplateId": t["TemplateId"],
            "Alias": t["Alias"],
            "Name": t["Name"],
            "TemplateType": t["TemplateType"],
        }
        for t in templates
    ]
    if _get(body, "PerformChanges") is True and dest != call.state.server_id:
        call.state.pushed.setdefault(dest, set()).update(t["Alias"].lower() for t in templates)
    return {"TotalCount": len(rows), "Templates": rows}


@_route("GET", "/templates/{templateIdOrAlias}")
def _get_template(call: _Call) -> Any:
    return dict(_find_template(call))


@_route("PUT", "/templates/{templateIdOrAlias}")
def _edit_template(call: _Call) -> Any:
    template = _find_template(call)
    body = _object(call.body)
    if not body:
        raise ApiError(1109, "No template data received.")
    kind = _get(body, "TemplateType")
    if kind is not None and kind != template["TemplateType"]:
        raise ApiError(1122, "The TemplateType of a template cannot be changed.")
    edited = {**template, **{k: _get(body, k) for k in _TEMPLATE_FIELDS if _has(body, k)}}
    _check_template_content(call.state, edited)
    template.update(edited)
    return _template_summary(template)


@_route("DELETE", "/templates/{templateIdOrAlias}")
def _delete_template(call: _Call) -> Any:
    template = _find_template(call)
    if (
        template["TemplateType"] == "Layout"
        and template["Alias"]
        and any(
            (t["LayoutTemplate"] or "").lower() == template["Alias"].lower()
            for t in call.state.templates.values()
        )
    ):
        raise ApiError(1130, "This layout cannot be deleted: templates use it.")
    del call.state.templates[template["TemplateId"]]
    return _ok("Template removed.")


# ======================================================================== message streams


def _find_stream_or_none(state: PostmarkState, sid: str) -> dict[str, Any] | None:
    return next((s for k, s in state.streams.items() if k.lower() == sid.lower()), None)


def _find_stream(call: _Call, key: str = "stream_ID") -> dict[str, Any]:
    stream = _find_stream_or_none(call.state, call.params[key])
    if stream is None:
        raise ApiError(1226, "The message stream for the provided 'ID' was not found.")
    return stream


_STREAM_TYPES = ("Transactional", "Broadcasts", "Inbound")
_UNSUBSCRIBE_TYPES = ("None", "Postmark", "Custom")


def _stream_settings(body: dict[str, Any], stream: dict[str, Any]) -> None:
    if _has(body, "Name"):
        name = _get(body, "Name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(1223, "A message stream needs a Name.")
        if len(name) > 60:
            raise ApiError(1224, "The message stream Name is too long.")
        stream["Name"] = name
    if _has(body, "Description"):
        description = _get(body, "Description")
        if description and re.search(r"<[^>]+>", str(description)):
            raise ApiError(1234, "The message stream Description must not contain HTML.")
        stream["Description"] = description
    config = _get(body, "SubscriptionManagementConfiguration")
    if isinstance(config, dict):
        handling = _get(config, "UnsubscribeHandlingType")
        if handling not in _UNSUBSCRIBE_TYPES:
            raise ApiError(1240, f"Invalid UnsubscribeHandlingType '{handling}'.")
        stream["SubscriptionManagementConfiguration"] = {"UnsubscribeHandlingType": handling}


@_route("GET", "/message-streams")
def _list_streams(call: _Call) -> Any:
    kind = call.query.get("MessageStreamType") or "All"
    if kind.lower() not in ("all", *(t.lower() for t in _STREAM_TYPES)):
        raise ApiError(1221, f"Invalid MessageStreamType '{kind}'.")
    archived = _bool_param(call.query, "IncludeArchivedStreams", 1221) or False
    rows = [
        dict(s)
        for s in call.state.streams.values()
        if kind.lower() in ("all", s["MessageStreamType"].lower())
        and (archived or s["ArchivedAt"] is None)
    ]
    return {"MessageStreams": rows, "TotalCount": len(rows)}


@_route("POST", "/message-streams")
def _create_stream(call: _Call) -> Any:
    body = _object(call.body)
    sid = _get(body, "ID")
    if not isinstance(sid, str) or not sid:
        raise ApiError(1222, "A message stream needs an ID.")
    if sid.lower().startswith("pm-"):
        raise ApiError(1233, "A message stream ID cannot start with 'pm-'.")
    if not re.match(r"^[a-z][a-z0-9-]{0,29}$", sid):
        raise ApiError(
            1227,
            "A stream ID has at most 30 characters: lowercase letters, digits "
            "and dashes, starting with a letter.",
        )
    if _find_stream_or_none(call.state, sid) is not None:
        raise ApiError(1230, f"A message stream with the ID '{sid}' already exists.")
    kind = _get(body, "MessageStreamType")
    if kind not in _STREAM_TYPES:
        raise ApiError(1221, f"Invalid MessageStreamType '{kind}'.")
    if kind == "Inbound":
        raise ApiError(1228, "A server can have only one inbound stream.")
    if len(call.state.streams) >= 10:
        raise ApiError(1225, "The maximum number of message streams has been reached.")
    if not _has(body, "Name"):
        raise ApiError(1223, "A message stream needs a Name.")
    stream = _stream(sid, "", kind, None, _now(), "Postmark" if kind == "Broadcasts" else "None")
    _stream_settings(body, stream)
    call.state.streams[sid] = stream
    return stream


@_route("GET", "/message-streams/{stream_ID}")
def _get_stream(call: _Call) -> Any:
    return dict(_find_stream(call))


@_route("PATCH", "/message-streams/{stream_ID}")
def _edit_stream(call: _Call) -> Any:
    stream = _find_stream(call)
    body = _object(call.body)
    for immutable in ("ID", "MessageStreamType"):
        value = _get(body, immutable)
        if value is not None and value != stream[immutable]:
            raise ApiError(
                1222 if immutable == "ID" else 1221,
                f"The {immutable} of a message stream cannot be changed.",
            )
    _stream_settings(body, stream)
    stream["UpdatedAt"] = _now()
    return dict(stream)


@_route("POST", "/message-streams/{stream_ID}/archive")
def _archive_stream(call: _Call) -> Any:
    stream = _find_stream(call)
    if stream["ID"] in ("outbound", "inbound"):
        raise ApiError(1229, "The default transactional and inbound streams cannot be archived.")
    now = datetime.now(_TZ)
    stream.update(
        ArchivedAt=_now(),
        ExpectedPurgeDate=(now + timedelta(days=45)).isoformat(timespec="seconds"),
    )
    return {
        "ID": stream["ID"],
        "ServerID": stream["ServerID"],
        "ExpectedPurgeDate": stream["ExpectedPurgeDate"],
    }


@_route("POST", "/message-streams/{stream_ID}/unarchive")
def _unarchive_stream(call: _Call) -> Any:
    stream = _find_stream(call)
    stream.update(ArchivedAt=None, ExpectedPurgeDate=None, UpdatedAt=_now())
    return dict(stream)


# ---------------------------------------------------------------- suppressions


@_route("GET", "/message-streams/{stream_ID}/suppressions/dump")
def _dump_suppressions(call: _Call) -> Any:
    stream = _find_stream(call)
    q = call.query
    dates = _date_range(q, 1226)
    rows = [
        s
        for s in call.state.suppressions.get(stream["ID"], [])
        if _equals(s["SuppressionReason"], q.get("SuppressionReason"))
        and _equals(s["Origin"], q.get("Origin"))
        and _equals(s["EmailAddress"], q.get("EmailAddress"))
        and _in_range(s["CreatedAt"], dates)
    ]
    return {"Suppressions": [dict(s) for s in rows]}


def _suppression_items(call: _Call) -> tuple[dict[str, Any], list[str]]:
    stream = _find_stream(call)
    items = _get(_object(call.body, 1409), "Suppressions")
    if not isinstance(items, list):
        raise ApiError(
            1409, 'A body of the form {"Suppressions": [{"EmailAddress": ...}]} is required.'
        )
    if len(items) > 50:
        raise ApiError(1410, "At most 50 suppressions can be changed per request.")
    return stream, [str(_get(item, "EmailAddress") or "") for item in items]


@_route("POST", "/message-streams/{stream_ID}/suppressions")
def _create_suppressions(call: _Call) -> Any:
    stream, addresses = _suppression_items(call)
    kept = call.state.suppressions.setdefault(stream["ID"], [])
    rows = []
    for address in addresses:
        if not _EMAIL.match(address):
            rows.append(
                {
                    "EmailAddress": address,
                    "Status": "Failed",
                    "Message": "An invalid email address was provided.",
                }
            )
            continue
        if not any(s["EmailAddress"].lower() == address.lower() for s in kept):
            kept.append(
                {
                    "EmailAddress": address,
                    "SuppressionReason": "ManualSuppression",
                    "Origin": "Customer",
                    "CreatedAt": _now()[:19] + "-05:00",
                }
            )
        rows.append({"EmailAddress": address, "Status": "Suppressed", "Message": None})
    return {"Suppressions": rows}


@_route("POST", "/message-streams/{stream_ID}/suppressions/delete")
def _delete_suppressions(call: _Call) -> Any:
    stream, addresses = _suppression_items(call)
    kept = call.state.suppressions.setdefault(stream["ID"], [])
    rows = []
    for address in addresses:
        match = next((s for s in kept if s["EmailAddress"].lower() == address.lower()), None)
        if not _EMAIL.match(address):
            rows.append(
                {
                    "EmailAddress": address,
                    "Status": "Failed",
                    "Message": "An invalid email address was provided.",
                }
            )
        elif match is not None and match["SuppressionReason"] == "SpamComplaint":
            rows.append(
                {
                    "EmailAddress": address,
                    "Status": "Failed",
                    "Message": "You do not have the required authority to change this suppression.",
                }
            )
        else:
            if match is not None:
                kept.remove(match)
            rows.append({"EmailAddress": address, "Status": "Deleted", "Message": None})
    return {"Suppressions": rows}


# ======================================================================== webhooks


def _find_webhook(call: _Call) -> dict[str, Any]:
    wid = _int_id(call.params["id"], 1352, "The webhook for the provided 'ID' was not found.")
    if wid not in call.state.webhooks:
        raise ApiError(1352, "The webhook for the provided 'ID' was not found.")
    return call.state.webhooks[wid]


def _webhook_settings(body: dict[str, Any], hook: dict[str, Any]) -> None:
    if _has(body, "Url"):
        url = _get(body, "Url")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            raise ApiError(1354, "A valid 'Url' is required.")
        hook["Url"] = url
    for name in ("HttpAuth", "HttpHeaders"):
        if _has(body, name):
            hook[name] = _get(body, name)
    triggers = _get(body, "Triggers")
    if isinstance(triggers, dict):
        for name, default in _ALL_TRIGGERS_OFF.items():
            value = _get(triggers, name)
            if isinstance(value, dict):
                hook["Triggers"][name] = {k: _get(value, k, v) for k, v in default.items()}


@_route("GET", "/webhooks")
def _list_webhooks(call: _Call) -> Any:
    stream = call.query.get("MessageStream")
    return {
        "Webhooks": [
            dict(w) for w in call.state.webhooks.values() if _equals(w["MessageStream"], stream)
        ]
    }


@_route("POST", "/webhooks")
def _create_webhook(call: _Call) -> Any:
    body = _object(call.body, 1355)
    if not body:
        raise ApiError(1355, "A request body is required.")
    if _has(body, "ID"):
        raise ApiError(1356, "The 'ID' must not be provided when creating a webhook.")
    stream = _find_stream_or_none(call.state, str(_get(body, "MessageStream") or "outbound"))
    if stream is None:
        raise ApiError(1226, "The message stream for the provided 'ID' was not found.")
    if stream["ArchivedAt"] is not None:
        raise ApiError(1350, "Webhooks cannot be created on an archived stream.")
    if stream["MessageStreamType"] == "Inbound":
        raise ApiError(1351, "Webhooks cannot be created on the inbound stream.")
    if not _has(body, "Url"):
        raise ApiError(1354, "A valid 'Url' is required.")
    hook: dict[str, Any] = {
        "ID": call.state.new_id("webhook", max(call.state.webhooks, default=1234567)),
        "Url": "",
        "MessageStream": stream["ID"],
        "HttpAuth": {"Username": "", "Password": ""},
        "HttpHeaders": [],
        "Triggers": copy.deepcopy(_ALL_TRIGGERS_OFF),
    }
    _webhook_settings(body, hook)
    call.state.webhooks[hook["ID"]] = hook
    return hook


@_route("GET", "/webhooks/{id}")
def _get_webhook(call: _Call) -> Any:
    return dict(_find_webhook(call))


@_route("PUT", "/webhooks/{id}")
def _edit_webhook(call: _Call) -> Any:
    hook = _find_webhook(call)
    body = _object(call.body, 1355)
    for immutable in ("ID", "MessageStream"):
        if _has(body, immutable) and _get(body, immutable) != hook[immutable]:
            raise ApiError(1357, "The 'ID' and 'MessageStream' of a webhook cannot be changed.")
    edited = copy.deepcopy(hook)
    _webhook_settings(body, edited)
    hook.update(edited)
    return dict(hook)


@_route("DELETE", "/webhooks/{id}")
def _delete_webhook(call: _Call) -> Any:
    hook = _find_webhook(call)
    del call.state.webhooks[hook["ID"]]
    return _ok(f"Webhook {hook['ID']} removed.")


# ======================================================================== messages

_OUTBOUND_DETAIL_ONLY = ("TextBody", "HtmlBody", "Body", "MessageEvents")
_INBOUND_DETAIL_ONLY = ("TextBody", "HtmlBody", "Headers", "BlockedReason", "MessageEvents")


def _find_message(rows: list[dict[str, Any]], mid: str) -> dict[str, Any]:
    for row in rows:
        if row["MessageID"].lower() == mid.lower():
            return row
    raise ApiError(701, "This message was not found.")


@_route("GET", "/messages/outbound")
def _search_outbound(call: _Call) -> Any:
    q = call.query
    _paging(q, 700)
    status = q.get("status")
    if status is not None and status.lower() not in ("queued", "sent", "processed"):
        raise ApiError(700, "The 'status' parameter must be queued, sent or processed.")
    dates = _date_range(q, 700)
    metadata = q.with_prefix("metadata_")
    rows = [
        {k: v for k, v in m.items() if k not in _OUTBOUND_DETAIL_ONLY}
        for m in call.state.outbound
        if _contains(" ".join(m["Recipients"]), q.get("recipient"))
        and _contains(m["From"], q.get("fromemail"))
        and _equals(m["Tag"], q.get("tag"))
        and _equals(m["Status"], status)
        and _contains(m["Subject"], q.get("subject"))
        and _equals(m["MessageStream"], q.get("messagestream"))
        and _in_range(m["ReceivedAt"], dates)
        and all(str(m["Metadata"].get(k, "")).lower() == v.lower() for k, v in metadata.items())
    ]
    return _page(rows, q, 700, "Messages")


@_route("GET", "/messages/outbound/opens")
def _search_opens(call: _Call) -> Any:
    return _page(_events(call, call.state.opens), call.query, 700, "Opens")


@_route("GET", "/messages/outbound/opens/{messageid}")
def _message_opens(call: _Call) -> Any:
    _find_message(call.state.outbound, call.params["messageid"])
    return _page(_events(call, call.state.opens), call.query, 700, "Opens")


@_route("GET", "/messages/outbound/clicks")
def _search_clicks(call: _Call) -> Any:
    return _page(_events(call, call.state.clicks), call.query, 700, "Clicks")


@_route("GET", "/messages/outbound/clicks/{messageid}")
def _message_clicks(call: _Call) -> Any:
    _find_message(call.state.outbound, call.params["messageid"])
    return _page(_events(call, call.state.clicks), call.query, 700, "Clicks")


# Open/click filters -> (object, field); the Python SDK sends camelCase names, so both work.
_EVENT_FILTERS = {
    "client_name": ("Client", "Name"),
    "client_company": ("Client", "Company"),
    "client_family": ("Client", "Family"),
    "os_name": ("OS", "Name"),
    "os_family": ("OS", "Family"),
    "os_company": ("OS", "Company"),
    "country": ("Geo", "Country"),
    "region": ("Geo", "Region"),
    "city": ("Geo", "City"),
}


def _events(call: _Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    q = call.query
    _paging(q, 700)
    dates = _date_range(q, 700)
    mid = call.params.get("messageid")
    out = []
    for row in rows:
        if mid is not None and row["MessageID"].lower() != mid.lower():
            continue
        if not (
            _equals(row["Recipient"], q.get("recipient"))
            and _equals(row["Tag"], q.get("tag"))
            and _equals(row["Platform"], q.get("platform"))
            and _equals(row["MessageStream"], q.get("messagestream"))
            and _in_range(row["ReceivedAt"], dates)
        ):
            continue
        if all(
            _equals(row[obj][key], q.get(name) or q.get(name.replace("_", "")))
            for name, (obj, key) in _EVENT_FILTERS.items()
        ):
            out.append(dict(row))
    return out


@_route("GET", "/messages/outbound/{messageid}/details")
def _outbound_details(call: _Call) -> Any:
    return dict(_find_message(call.state.outbound, call.params["messageid"]))


@_route("GET", "/messages/outbound/{messageid}/dump")
def _outbound_dump(call: _Call) -> Any:
    return {"Body": _find_message(call.state.outbound, call.params["messageid"])["Body"]}


@_route("GET", "/messages/inbound")
def _search_inbound(call: _Call) -> Any:
    q = call.query
    _paging(q, 700)
    status = q.get("status")
    if status is not None and status.lower() not in (
        "blocked",
        "processed",
        "queued",
        "failed",
        "scheduled",
    ):
        raise ApiError(700, "Invalid 'status' for inbound messages.")
    dates = _date_range(q, 700)
    rows = [
        {k: v for k, v in m.items() if k not in _INBOUND_DETAIL_ONLY}
        for m in call.state.inbound
        if _contains(m["To"] + " " + m["OriginalRecipient"], q.get("recipient"))
        and _contains(m["From"], q.get("fromemail"))
        and _equals(m["Tag"], q.get("tag"))
        and _contains(m["Subject"], q.get("subject"))
        and _equals(m["MailboxHash"], q.get("mailboxhash"))
        and _equals(m["Status"], status)
        and _in_range(m["Date"], dates)
    ]
    return _page(rows, q, 700, "InboundMessages")


@_route("GET", "/messages/inbound/{messageid}/details")
def _inbound_details(call: _Call) -> Any:
    return dict(_find_message(call.state.inbound, call.params["messageid"]))


@_route("PUT", "/messages/inbound/{messageid}/bypass")
def _bypass_inbound(call: _Call) -> Any:
    message = _find_message(call.state.inbound, call.params["messageid"])
    if message["Status"] != "Blocked":
        raise ApiError(702, "Could not bypass this inbound message: it is not blocked.")
    message.update(Status="Queued", BlockedReason="")
    return _ok(f"Successfully bypassed message: {message['MessageID']}")


@_route("PUT", "/messages/inbound/{messageid}/retry")
def _retry_inbound(call: _Call) -> Any:
    message = _find_message(call.state.inbound, call.params["messageid"])
    if message["Status"] != "Failed":
        raise ApiError(703, "Could not retry this inbound message: it has not failed.")
    message["Status"] = "Queued"
    return _ok(f"Successfully rescheduled failed message: {message['MessageID']}")


# ======================================================================== statistics


def _stat_days(call: _Call, series: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    q = call.query
    dates = _date_range(q, 900)
    stream = q.get("messagestream")
    if stream is not None and _find_stream_or_none(call.state, stream) is None:
        raise ApiError(1226, "The message stream for the provided 'ID' was not found.")
    names, rows = _STAT_SERIES[series]
    days = [
        {"Date": date, **dict(zip(names, row, strict=True))}
        for date, row in zip(_STAT_DATES, rows, strict=True)
        if _in_range(date, dates)
    ]
    return days, {name: sum(day[name] for day in days) for name in names}


def _stats_route(series: str) -> None:
    def handler(call: _Call) -> Any:
        days, totals = _stat_days(call, series)
        return {"Days": days, **totals}

    _route("GET", f"/stats/outbound/{series}")(handler)


@_route("GET", "/stats/outbound")
def _stats_overview(call: _Call) -> Any:
    sent = _stat_days(call, "sends")[1]["Sent"]
    bounces = _stat_days(call, "bounces")[1]
    spam = _stat_days(call, "spam")[1]["SpamComplaint"]
    tracked = _stat_days(call, "tracked")[1]["Tracked"]
    opens = _stat_days(call, "opens")[1]
    clicks = _stat_days(call, "clicks")[1]
    bounced = bounces["HardBounce"] + bounces["SoftBounce"] + bounces["Transient"]
    return {
        "Sent": sent,
        "Bounced": bounced,
        "SMTPApiErrors": bounces["SMTPApiError"],
        "BounceRate": round(100 * bounced / sent, 3) if sent else 0,
        "SpamComplaints": spam,
        "SpamComplaintsRate": round(100 * spam / sent, 3) if sent else 0,
        "Opens": opens["Opens"],
        "UniqueOpens": opens["Unique"],
        "Tracked": tracked,
        "WithLinkTracking": tracked,
        "WithOpenTracking": tracked,
        "TotalTrackedLinksSent": tracked * 2,
        "UniqueLinksClicked": clicks["Unique"],
        "TotalClicks": clicks["Clicks"],
        "WithClientRecorded": opens["Unique"],
        "WithPlatformRecorded": opens["Unique"],
        "WithReadTimeRecorded": opens["Unique"],
    }


for _series in _STAT_SERIES:
    _stats_route(_series)


# ======================================================================== server settings

_TRACK_LINKS = ("None", "HtmlAndText", "HtmlOnly", "TextOnly")
_COLORS = ("purple", "blue", "turquoise", "green", "red", "yellow", "grey", "orange")
_SERVER_FIELDS = (
    "Name",
    "Color",
    "RawEmailEnabled",
    "SmtpApiActivated",
    "InboundHookUrl",
    "BounceHookUrl",
    "OpenHookUrl",
    "DeliveryHookUrl",
    "ClickHookUrl",
    "PostFirstOpenOnly",
    "InboundDomain",
    "InboundSpamThreshold",
    "TrackOpens",
    "TrackLinks",
    "IncludeBounceContentInHook",
    "EnableSmtpApiErrorHooks",
)


def _apply_server_settings(
    state: PostmarkState, server: dict[str, Any], body: dict[str, Any]
) -> None:
    changes = {k: _get(body, k) for k in _SERVER_FIELDS if _has(body, k)}
    if "Name" in changes:
        name = changes["Name"]
        if not isinstance(name, str) or not name.strip():
            raise ApiError(608, "The server name is missing or invalid.")
        if any(
            s["Name"].lower() == name.lower() and s["ID"] != server["ID"]
            for s in state.servers.values()
        ):
            raise ApiError(603, f"A server named '{name}' already exists.")
    if "Color" in changes and str(changes["Color"]).lower() not in _COLORS:
        raise ApiError(607, f"Invalid server color '{changes['Color']}'.")
    threshold = changes.get("InboundSpamThreshold")
    if threshold is not None and (
        not isinstance(threshold, int) or threshold % 5 or not 0 <= threshold <= 30
    ):
        raise ApiError(611, "InboundSpamThreshold must be 0 to 30 in steps of 5.")
    if "TrackLinks" in changes and changes["TrackLinks"] not in _TRACK_LINKS:
        raise ApiError(612, f"Invalid TrackLinks option '{changes['TrackLinks']}'.")
    for name, value in changes.items():
        if name.endswith("HookUrl") and value and not re.match(r"^https?://", str(value)):
            raise ApiError(606, f"Invalid webhook URL in {name}.")
    server.update(changes)


@_route("GET", "/server")
def _get_current_server(call: _Call) -> Any:
    return dict(call.state.server)


@_route("PUT", "/server")
def _edit_current_server(call: _Call) -> Any:
    body = _object(call.body)
    if not body:
        raise ApiError(609, "No updated server data received.")
    _apply_server_settings(call.state, call.state.server, body)
    return dict(call.state.server)


# ======================================================================== account: servers


def _find_server(call: _Call) -> dict[str, Any]:
    sid = _int_id(call.params["serverid"], 601, "Server does not exist.")
    if sid not in call.state.servers:
        raise ApiError(601, "Server does not exist.")
    return call.state.servers[sid]


@_route("GET", "/servers", token="account")
def _list_servers(call: _Call) -> Any:
    rows = [
        dict(s) for s in call.state.servers.values() if _contains(s["Name"], call.query.get("name"))
    ]
    return _page(rows, call.query, 600, "Servers")


@_route("POST", "/servers", token="account")
def _create_server(call: _Call) -> Any:
    body = _object(call.body)
    if not isinstance(_get(body, "Name"), str):
        raise ApiError(608, "The server name is missing or invalid.")
    delivery = _get(body, "DeliveryType") or "Live"
    if delivery not in ("Live", "Sandbox"):
        raise ApiError(613, f"Invalid DeliveryType '{delivery}'.")
    sid = call.state.new_id("server", max(call.state.servers))
    server = _server(sid, "", f"server-token-{sid}", "purple", delivery)
    _apply_server_settings(call.state, server, body)
    call.state.servers[sid] = server
    return dict(server)


@_route("GET", "/servers/{serverid}", token="account")
def _get_server(call: _Call) -> Any:
    return dict(_find_server(call))


@_route("PUT", "/servers/{serverid}", token="account")
def _edit_server(call: _Call) -> Any:
    server = _find_server(call)
    body = _object(call.body)
    if not body:
        raise ApiError(609, "No updated server data received.")
    _apply_server_settings(call.state, server, body)
    return dict(server)


@_route("DELETE", "/servers/{serverid}", token="account")
def _delete_server(call: _Call) -> Any:
    server = _find_server(call)
    if not call.sim.server_delete_enabled:
        raise ApiError(604, "Deleting servers through the API is not enabled for this account.")
    del call.state.servers[server["ID"]]
    return _ok(f"Server {server['Name']} removed.")


# ======================================================================== account: domains

_ROTATION_FIELDS = (
    "ID",
    "Name",
    "DKIMVerified",
    "WeakDKIM",
    "DKIMHost",
    "DKIMTextValue",
    "DKIMPendingHost",
    "DKIMPendingTextValue",
    "DKIMRevokedHost",
    "DKIMRevokedTextValue",
    "SafeToRemoveRevokedKeyFromDNS",
    "DKIMUpdateStatus",
)
_DOMAIN_NAME = re.compile(r"^(?=.{1,255}$)([a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$", re.I)
_PUBLIC_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com")


def _find_domain(call: _Call) -> dict[str, Any]:
    did = _int_id(call.params["domainid"], 510, "Domain not found.")
    if did not in call.state.domains:
        raise ApiError(510, "Domain not found.")
    return call.state.domains[did]


def _check_return_path(name: str, return_path: Any) -> None:
    if return_path and not str(return_path).lower().endswith("." + name.lower()):
        raise ApiError(511, f"The ReturnPathDomain must be a subdomain of {name}.")


@_route("GET", "/domains", token="account")
def _list_domains(call: _Call) -> Any:
    rows = [
        {
            k: d[k]
            for k in (
                "ID",
                "Name",
                "SPFVerified",
                "DKIMVerified",
                "WeakDKIM",
                "ReturnPathDomainVerified",
            )
        }
        for d in call.state.domains.values()
    ]
    return _page(rows, call.query, 500, "Domains")


@_route("POST", "/domains", token="account")
def _create_domain(call: _Call) -> Any:
    body = _object(call.body)
    name = _get(body, "Name")
    if not name:
        raise ApiError(514, "A Name is required to create a Domain.")
    if len(str(name)) > 255:
        raise ApiError(515, "The domain Name is too long.")
    if not _DOMAIN_NAME.match(str(name)):
        raise ApiError(516, f"'{name}' is not a valid domain name.")
    if any(d["Name"].lower() == str(name).lower() for d in call.state.domains.values()):
        raise ApiError(512, "This domain already exists.")
    _check_return_path(name, _get(body, "ReturnPathDomain"))
    did = call.state.new_id("domain", max(call.state.domains))
    domain = _domain(
        did,
        str(name).lower(),
        verified=False,
        return_path=str(_get(body, "ReturnPathDomain") or ""),
    )
    call.state.domains[did] = domain
    return dict(domain)


@_route("GET", "/domains/{domainid}", token="account")
def _get_domain(call: _Call) -> Any:
    return dict(_find_domain(call))


@_route("PUT", "/domains/{domainid}", token="account")
def _edit_domain(call: _Call) -> Any:
    domain = _find_domain(call)
    body = _object(call.body)
    if _has(body, "ReturnPathDomain"):
        _check_return_path(domain["Name"], _get(body, "ReturnPathDomain"))
        domain.update(
            ReturnPathDomain=_get(body, "ReturnPathDomain") or "", ReturnPathDomainVerified=False
        )
    return dict(domain)


@_route("DELETE", "/domains/{domainid}", token="account")
def _delete_domain(call: _Call) -> Any:
    domain = _find_domain(call)
    del call.state.domains[domain["ID"]]
    return _ok(f"Domain {domain['Name']} removed.")


def _verify_dkim(record: dict[str, Any]) -> None:
    """The simulated DNS always holds the expected records: a pending key becomes active."""
    if record["DKIMPendingHost"]:
        if record["DKIMHost"]:
            record.update(
                DKIMRevokedHost=record["DKIMHost"], DKIMRevokedTextValue=record["DKIMTextValue"]
            )
        record.update(
            DKIMHost=record["DKIMPendingHost"],
            DKIMTextValue=record["DKIMPendingTextValue"],
            DKIMPendingHost="",
            DKIMPendingTextValue="",
        )
    record.update(DKIMVerified=True, DKIMUpdateStatus="Verified")


@_route("PUT", "/domains/{domainid}/verifyDkim", token="account")
def _verify_domain_dkim(call: _Call) -> Any:
    domain = _find_domain(call)
    _verify_dkim(domain)
    return dict(domain)


@_route("PUT", "/domains/{domainid}/verifyReturnPath", token="account")
def _verify_domain_return_path(call: _Call) -> Any:
    domain = _find_domain(call)
    domain["ReturnPathDomainVerified"] = bool(domain["ReturnPathDomain"])
    return dict(domain)


@_route("POST", "/domains/{domainid}/verifyspf", token="account")
def _verify_domain_spf(call: _Call) -> Any:
    domain = _find_domain(call)
    domain["SPFVerified"] = True
    return {k: domain[k] for k in ("SPFHost", "SPFVerified", "SPFTextValue")}


def _rotate_dkim(record: dict[str, Any], host_suffix: str) -> None:
    if record["DKIMUpdateStatus"] == "Pending":
        raise ApiError(505, "This DKIM is already scheduled for renewal.")
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    record.update(
        DKIMPendingHost=f"{stamp}pm._domainkey.{host_suffix}",
        DKIMPendingTextValue=f"k=rsa;p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNrotated{stamp}",
        DKIMUpdateStatus="Pending",
    )


@_route("POST", "/domains/{domainid}/rotatedkim", token="account")
def _rotate_domain_dkim(call: _Call) -> Any:
    domain = _find_domain(call)
    _rotate_dkim(domain, domain["Name"])
    return {k: domain[k] for k in _ROTATION_FIELDS}


@_route("PUT", "/domains/{domainid}/verifyCustomTracking", token="account")
def _verify_custom_tracking(call: _Call) -> Any:
    return dict(_find_domain(call))


# ======================================================================== account: senders


def _find_sender(call: _Call) -> dict[str, Any]:
    sid = _int_id(call.params["signatureid"], 501, "Sender Signature not found.")
    if sid not in call.state.senders:
        raise ApiError(501, "Sender Signature not found.")
    return call.state.senders[sid]


def _sender_settings(sender: dict[str, Any], body: dict[str, Any]) -> None:
    name = _get(body, "Name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(520, "The 'Name' field is required.")
    note = _get(body, "ConfirmationPersonalNote")
    if note is not None and len(str(note)) > 400:
        raise ApiError(521, "ConfirmationPersonalNote is longer than 400 characters.")
    reply_to = _get(body, "ReplyToEmail")
    if reply_to and not _EMAIL.match(str(reply_to)):
        raise ApiError(522, f"Invalid ReplyToEmail '{reply_to}'.")
    _check_return_path(sender["Domain"], _get(body, "ReturnPathDomain"))
    sender["Name"] = name
    if reply_to is not None:
        sender["ReplyToEmailAddress"] = reply_to
    if note is not None:
        sender["ConfirmationPersonalNote"] = note
    if _has(body, "ReturnPathDomain"):
        sender["ReturnPathDomain"] = _get(body, "ReturnPathDomain") or ""


@_route("GET", "/senders", token="account")
def _list_senders(call: _Call) -> Any:
    rows = [
        {
            k: s[k]
            for k in ("ID", "Domain", "EmailAddress", "ReplyToEmailAddress", "Name", "Confirmed")
        }
        for s in call.state.senders.values()
    ]
    return _page(rows, call.query, 500, "SenderSignatures")


@_route("POST", "/senders", token="account")
def _create_sender(call: _Call) -> Any:
    body = _object(call.body)
    email = _get(body, "FromEmail")
    if not email or not _get(body, "Name"):
        raise ApiError(520, "FromEmail and Name are required to create a Sender Signature.")
    if not _EMAIL.match(str(email)):
        raise ApiError(522, f"Invalid FromEmail '{email}'.")
    domain_name = str(email).split("@")[1].lower()
    if domain_name in _PUBLIC_DOMAINS:
        raise ApiError(503, "You cannot use a public domain.")
    if any(s["EmailAddress"].lower() == str(email).lower() for s in call.state.senders.values()):
        raise ApiError(504, "This Sender Signature already exists.")
    sid = call.state.new_id("sender", max(call.state.senders))
    domain = next(
        (d for d in call.state.domains.values() if d["Name"] == domain_name),
        _domain(0, domain_name, verified=False, return_path=""),
    )
    sender = _sender(sid, str(email), "", domain, confirmed=False)
    _sender_settings(sender, body)
    call.state.senders[sid] = sender
    return dict(sender)


@_route("GET", "/senders/{signatureid}", token="account")
def _get_sender(call: _Call) -> Any:
    return dict(_find_sender(call))


@_route("PUT", "/senders/{signatureid}", token="account")
def _edit_sender(call: _Call) -> Any:
    sender = _find_sender(call)
    edited = dict(sender)
    _sender_settings(edited, _object(call.body))
    sender.update(edited)
    return dict(sender)


@_route("DELETE", "/senders/{signatureid}", token="account")
def _delete_sender(call: _Call) -> Any:
    sender = _find_sender(call)
    del call.state.senders[sender["ID"]]
    return _ok(f"Signature {sender['EmailAddress']} removed.")


@_route("POST", "/senders/{signatureid}/resend", token="account")
def _resend_confirmation(call: _Call) -> Any:
    sender = _find_sender(call)
    if sender["Confirmed"]:
        raise ApiError(506, "This Sender Signature has already been confirmed.")
    return _ok(f"Confirmation email for Sender Signature {sender['EmailAddress']} was re-sent.")


@_route("POST", "/senders/{signatureid}/verifyspf", token="account")
def _verify_sender_spf(call: _Call) -> Any:
    sender = _find_sender(call)
    sender["SPFVerified"] = True
    return dict(sender)


@_route("POST", "/senders/{signatureid}/requestnewdkim", token="account")
def _request_new_dkim(call: _Call) -> Any:
    sender = _find_sender(call)
    _rotate_dkim(sender, sender["Domain"])
    return _ok(f"A new DKIM key was requested for {sender['Domain']}.")


# ======================================================================== account: data removals


@_route("POST", "/data-removals", token="account")
def _request_data_removal(call: _Call) -> Any:
    body = _object(call.body, 1300)
    for name in ("RequestedBy", "RequestedFor"):
        if not _EMAIL.match(str(_get(body, name) or "")):
            raise ApiError(
                1300, f"Invalid data removal request: '{name}' must be an email address."
            )
    rid = call.state.new_id("data-removal", max(call.state.data_removals))
    call.state.data_removals[rid] = {"ID": rid, "Status": "Pending"}
    return dict(call.state.data_removals[rid])


@_route("GET", "/data-removals/{id}", token="account")
def _data_removal_status(call: _Call) -> Any:
    rid = _int_id(call.params["id"], 1301, "Invalid data removal ID.")
    if rid not in call.state.data_removals:
        raise ApiError(1301, "Invalid data removal ID.")
    return dict(call.state.data_removals[rid])


# ======================================================================== inbound rule triggers


@_route("GET", "/triggers/inboundrules")
def _list_inbound_rules(call: _Call) -> Any:
    return _page(
        [dict(r) for r in call.state.inbound_rules.values()], call.query, 800, "InboundRules"
    )


@_route("POST", "/triggers/inboundrules")
def _create_inbound_rule(call: _Call) -> Any:
    rule = _get(_object(call.body, 809), "Rule")
    if not rule:
        raise ApiError(809, "No trigger data received.")
    rule = str(rule)
    if not (_EMAIL.match(rule) or _DOMAIN_NAME.match(rule)):
        raise ApiError(813, f"'{rule}' is not a valid email address or domain.")
    if any(r["Rule"].lower() == rule.lower() for r in call.state.inbound_rules.values()):
        raise ApiError(810, "This inbound rule already exists.")
    rid = call.state.new_id("inbound-rule", max(call.state.inbound_rules, default=5))
    call.state.inbound_rules[rid] = {"ID": rid, "Rule": rule}
    return dict(call.state.inbound_rules[rid])


@_route("DELETE", "/triggers/inboundrules/{triggerid}")
def _delete_inbound_rule(call: _Call) -> Any:
    rid = _int_id(call.params["triggerid"], 812, "Inbound rule not found.")
    rule = call.state.inbound_rules.pop(rid, None)
    if rule is None:
        raise ApiError(812, "Inbound rule not found.")
    return _ok(f"Rule {rule['Rule']} removed.")


# ======================================================================== dispatch


def _json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(payload, status_code=status, headers=headers)


def _match(method: str, path: str) -> tuple[_Route, dict[str, str]] | list[str]:
    """The route for this request, or the methods the path allows (empty: unknown path)."""
    allowed: list[str] = []
    for route in ROUTES:
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method == method:
            return route, {k: unquote(v) for k, v in found.groupdict().items()}
        allowed.append(route.method)
    return allowed


def _same_token(supplied: str | None, expected: str) -> bool:
    """Postmark's comparison: the whole value, ignoring only letter case."""
    return supplied is not None and supplied.lower() == expected.lower()


def _media_types(header: str) -> list[tuple[str, float]]:
    """`type/subtype` (lower case) and its q of each range in an Accept-style header."""
    ranges = []
    for item in header.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if kind:
            ranges.append((kind.lower(), q))
    return ranges


def _media_type_problem(headers: dict[str, str], body: bytes) -> str | None:
    """Why Postmark would answer 415 to these headers, or None."""
    accept = headers.get("accept")
    if accept is not None:
        json_ok = any(
            q > 0 and kind in ("application/json", "application/*", "*/*")
            for kind, q in _media_types(accept)
        )
        if not json_ok:
            return f"Unsupported Media Type: Accept {accept!r} rules out application/json."
    if body:
        content_type = headers.get("content-type")
        kinds = _media_types(content_type or "")
        if len(kinds) != 1 or kinds[0][0] != "application/json":
            return (
                f"Unsupported Media Type: a request body must be sent as application/json, "
                f"not {content_type or 'without a Content-Type'}."
            )
    return None


def dispatch(
    sim: PostmarkSimulator,
    method: str,
    path: str,
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: bytes,
) -> Response:
    """Route, authenticate, check media types, parse JSON and run the handler, in that order."""
    found = _match(method, path)
    if isinstance(found, list):
        if not found:
            return _json_response(
                404, {"ErrorCode": 12, "Message": f"Resource not found: {method} {path}"}
            )
        return _json_response(
            405,
            {
                "ErrorCode": 12,
                "Message": f"The requested resource does not support http method '{method}'.",
            },
            {"Allow": ", ".join(sorted(set(found)))},
        )
    route, params = found
    account = route.token == "account"
    supplied = headers.get("x-postmark-account-token" if account else "x-postmark-server-token")
    expected = sim.account_token if account else sim.server_token
    test_mode = route.sending and _same_token(supplied, TEST_TOKEN)
    if not test_mode and not _same_token(supplied, expected):
        kind = "Account" if account else "Server"
        return _json_response(
            401, {"ErrorCode": 10, "Message": f"Request does not contain a valid {kind} token."}
        )
    unsupported = _media_type_problem(headers, body)
    if unsupported:
        return _json_response(415, {"ErrorCode": 409, "Message": unsupported})
    parsed: Any = None
    if method in ("POST", "PUT", "PATCH") and body.strip():
        try:
            parsed = json.loads(body)
        except ValueError:
            return _json_response(
                422, {"ErrorCode": 402, "Message": "Received invalid JSON input."}
            )
    call = _Call(sim, sim.state, params, _Query(query), parsed, test_mode)
    try:
        return _json_response(200, route.handler(call))
    except ApiError as exc:
        return _json_response(exc.status, {"ErrorCode": exc.code, "Message": exc.message})


# ======================================================================== the simulator

# What `yamcp serve --sandbox` gives the sandbox account: the manifest's credential secret
# names and the values this simulator accepts. They open nothing but this simulator.
CREDENTIALS = {
    "server_token": "sandbox-server-token",
    "account_token": "sandbox-account-token",
}


class PostmarkSimulator:
    """Postmark as an ASGI app: seeded, in memory, stateful.

    `server_token` and `account_token` are the tokens it accepts (any letter case), `state`
    its data (PostmarkState, mutable), `server_delete_enabled` False makes
    DELETE /servers/{id} answer ErrorCode 604. `reset()` restores the seeded data.
    """

    def __init__(
        self, server_token: str = "server-token-test", account_token: str = "account-token-test"
    ) -> None:
        self.server_token = server_token
        self.account_token = account_token
        self.server_delete_enabled = True
        self.state = seed_state(server_token)

    def reset(self) -> None:
        """Forget every change: back to the seeded data."""
        self.state = seed_state(self.server_token)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        method, path, query, headers = request_parts(scope, request)
        response = dispatch(self, method, path, query, headers, body)
        await response(scope, receive, send)


def request_parts(
    scope: dict[str, Any], request: Request
) -> tuple[str, str, dict[str, list[str]], dict[str, str]]:
    """Method, path as sent (not percent-decoded), query and headers (names lower-cased,
    repeated ones joined with ", "), as `dispatch` takes them."""
    method = scope["method"].upper()
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return method, path, query, headers


def sandbox_app() -> PostmarkSimulator:
    """A fresh simulator that accepts `CREDENTIALS`: what `yamcp serve --sandbox` serves."""
    return PostmarkSimulator(CREDENTIALS["server_token"], CREDENTIALS["account_token"])
