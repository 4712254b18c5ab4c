"""Postmark's records as the simulator builds them, and the seeded ones (seed.yaml).

A builder makes one record of its kind (a bounce, a template, a sent message...) with every
field Postmark answers; the handlers build new records with them, and the seed's rows are
their arguments. seed.yaml is read once, when this module is imported.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import yaml

SEED: dict[str, Any] = yaml.safe_load(Path(__file__).with_name("seed.yaml").read_text())

SERVER_ID: int = SEED["server_id"]
TEST_TOKEN = "POSTMARK_API_TEST"  # Postmark's test server token: sends are checked, not sent
WELCOME_MESSAGE_ID: str = SEED["ids"]["welcome_message"]
RECEIPT_MESSAGE_ID: str = SEED["ids"]["receipt_message"]
NEWSLETTER_MESSAGE_ID: str = SEED["ids"]["newsletter_message"]
RESET_MESSAGE_ID: str = SEED["ids"]["reset_message"]
ORDER_MESSAGE_ID: str = SEED["ids"]["order_message"]
INBOUND_PROCESSED_ID: str = SEED["ids"]["inbound_processed"]
INBOUND_BLOCKED_ID: str = SEED["ids"]["inbound_blocked"]
INBOUND_FAILED_ID: str = SEED["ids"]["inbound_failed"]
BULK_ID: str = SEED["ids"]["bulk"]
MAILBOX_FULL_BOUNCE_ID: int = SEED["ids"]["mailbox_full_bounce"]
BOUNCE_TYPES: dict[str, tuple[int, str]] = {
    kind: (code, name) for kind, (code, name) in SEED["bounce_types"].items()
}
_BOUNCE_DESCRIPTIONS: dict[str, str] = SEED["bounce_descriptions"]


def bounce(
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


def template(
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


def stream(
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


def outbound(
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


def event(kind: str, recipient: str, at: str, **details: str) -> dict[str, Any]:
    return {"Recipient": recipient, "Type": kind, "ReceivedAt": at, "Details": details}


def inbound(
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


def server(sid: int, name: str, token: str, color: str, delivery: str) -> dict[str, Any]:
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


def domain(did: int, name: str, *, verified: bool, return_path: str) -> dict[str, Any]:
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


def sender(
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


# --- the seeded records, built once; PostmarkState copies them (state.py) ---------------

SEED_BOUNCES = [bounce(**row) for row in SEED["bounces"]]
SEED_BOUNCE_CONTENT: dict[int, str] = SEED["bounce_content"]
SEED_BOUNCE_DUMPS: dict[int, str] = SEED["bounce_dumps"]
SEED_TEMPLATES = [template(**row) for row in SEED["templates"]]
SEED_STREAMS = [stream(**row) for row in SEED["streams"]]
SEED_SUPPRESSIONS: dict[str, list[dict[str, Any]]] = SEED["suppressions"]
SEED_WEBHOOKS: list[dict[str, Any]] = SEED["webhooks"]
SEED_OUTBOUND = [
    outbound(
        **{k: v for k, v in row.items() if k != "events"},
        events=[
            event(e["kind"], e["recipient"], e["at"], **e["details"]) for e in row.get("events", [])
        ],
    )
    for row in SEED["outbound"]
]


def _with_device(row: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in row.items() if k != "device"}
    return {**fields, **SEED["devices"][row["device"]]}


SEED_OPENS = [_with_device(row) for row in SEED["opens"]]
SEED_CLICKS = [_with_device(row) for row in SEED["clicks"]]
SEED_INBOUND = [inbound(**row) for row in SEED["inbound"]]
SEED_INBOUND_RULES: list[dict[str, Any]] = SEED["inbound_rules"]
SEED_BULK: dict[str, dict[str, Any]] = {row["Id"]: row for row in SEED["bulk"]}
STAT_DATES: tuple[str, ...] = tuple(SEED["stats"]["dates"])
STAT_SERIES: dict[str, tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]] = {
    name: (tuple(fields), tuple(tuple(day) for day in days))
    for name, (fields, days) in SEED["stats"]["series"].items()
}
