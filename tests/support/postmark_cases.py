"""One Postmark tool call per tool: the arguments an agent would pass, and the request Postmark must receive."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_postmark import (
    BULK_ID,
    INBOUND_BLOCKED_ID,
    INBOUND_FAILED_ID,
    INBOUND_PROCESSED_ID,
    RECEIPT_MESSAGE_ID,
)

NO_BODY = object()  # the request must carry no body at all


@dataclass(frozen=True)
class Case:
    """A tool call and the request Postmark must receive for it."""

    tool: str
    args: dict[str, Any]
    request: str  # "METHOD /exact/path" as sent on the wire
    query: dict[str, str] = field(default_factory=dict)  # the whole query string
    body: Any = NO_BODY  # the whole JSON body
    account: bool = False  # X-Postmark-Account-Token instead of X-Postmark-Server-Token
    returns: str | None = None  # a key the structuredContent must have


# Seeded IDs of the fake (tests/support/fake_postmark.py).
HARD_BOUNCE = 692560173  # jim@example.com: inactive, can be reactivated, has a dump
WELCOME = {"TemplateAlias": "welcome"}  # template 1234, rendered in layout basic-layout
WELCOME_MODEL = {  # every variable of "welcome" and of its layout
    "name": "Ann",
    "product_name": "Acme",
    "items": [{"title": "Getting started"}],
    "company": {"address": "1 Main Street"},
}
WEBHOOK = 1234567
SERVER = 23  # the server the server token belongs to
OTHER_SERVER = 24  # "Production"
VERIFIED_DOMAIN, PENDING_DOMAIN = 36735, 36736  # example.com, example.org
CONFIRMED_SENDER, UNCONFIRMED_SENDER = 36500, 36501  # sender@example.com, news@example.org
DATA_REMOVAL = 1234

SENDER = "sender@example.com"
EMAIL = {
    "From": SENDER,
    "To": "customer@example.com",
    "Subject": "Your receipt",
    "TextBody": "Thanks for your order.",
    "HtmlBody": "<p>Thanks for your order.</p>",
    "Tag": "receipt",
    "Metadata": {"order_id": "1001"},
    "MessageStream": "outbound",
}
TEMPLATED_EMAIL = {
    **WELCOME,
    "TemplateModel": WELCOME_MODEL,
    "From": SENDER,
    "To": "customer@example.com",
    "MessageStream": "outbound",
}
BROADCAST = {**EMAIL, "MessageStream": "broadcasts"}
TEMPLATED_BROADCAST = {**TEMPLATED_EMAIL, "MessageStream": "broadcasts"}
STATS_FILTERS = {
    "tag": "receipt",
    "fromdate": "2024-01-13",
    "todate": "2024-01-15",
    "messagestream": "outbound",
}


def stats(tool: str, path: str) -> Case:
    return Case(tool, STATS_FILTERS, f"GET {path}", query=STATS_FILTERS, returns="Days")


CASES: dict[str, Case] = {
    c.tool: c
    for c in [
        # ---------------------------------------------------------------- sending
        Case("create_a_postmark_email", EMAIL, "POST /email", body=EMAIL, returns="MessageID"),
        Case(
            "create_a_postmark_templated_email",
            TEMPLATED_EMAIL,
            "POST /email/withTemplate",
            body=TEMPLATED_EMAIL,
            returns="MessageID",
        ),
        Case(
            "create_a_postmark_broadcast_email",
            {**EMAIL, "MessageStream": "broadcasts"},
            "POST /email",
            body={**EMAIL, "MessageStream": "broadcasts"},
            returns="MessageID",
        ),
        Case(
            "create_a_postmark_email_batch",
            {"Messages": [EMAIL, {**EMAIL, "To": "other@example.com"}]},
            "POST /email/batch",
            body=[EMAIL, {**EMAIL, "To": "other@example.com"}],  # a bare array upstream
            returns="result",
        ),
        Case(
            "create_a_postmark_templated_email_batch",
            {"Messages": [TEMPLATED_EMAIL, {**TEMPLATED_EMAIL, "To": "other@example.com"}]},
            "POST /email/batchWithTemplates",
            body={"Messages": [TEMPLATED_EMAIL, {**TEMPLATED_EMAIL, "To": "other@example.com"}]},
            returns="result",
        ),
        Case(
            "create_a_postmark_templated_broadcast_email",
            {**TEMPLATED_EMAIL, "MessageStream": "broadcasts"},
            "POST /email/withTemplate",
            body={**TEMPLATED_EMAIL, "MessageStream": "broadcasts"},
            returns="MessageID",
        ),
        Case(
            "create_a_postmark_broadcast_email_batch",
            {"Messages": [BROADCAST, {**BROADCAST, "To": "other@example.com"}]},
            "POST /email/batch",
            body=[BROADCAST, {**BROADCAST, "To": "other@example.com"}],
            returns="result",
        ),
        Case(
            "create_a_postmark_templated_broadcast_email_batch",
            {"Messages": [TEMPLATED_BROADCAST, {**TEMPLATED_BROADCAST, "To": "b@example.com"}]},
            "POST /email/batchWithTemplates",
            body={
                "Messages": [TEMPLATED_BROADCAST, {**TEMPLATED_BROADCAST, "To": "b@example.com"}]
            },
            returns="result",
        ),
        Case(
            "create_a_postmark_bulk_email",
            {
                "From": "news@example.com",
                "Subject": "Our January news",
                "HtmlBody": "<p>News</p>",
                "Messages": [{"To": "a@example.com"}, {"To": "b@example.com"}],
                "MessageStream": "broadcasts",  # bulk sends go on a Broadcasts stream
            },
            "POST /email/bulk",
            body={
                "From": "news@example.com",
                "Subject": "Our January news",
                "HtmlBody": "<p>News</p>",
                "Messages": [{"To": "a@example.com"}, {"To": "b@example.com"}],
                "MessageStream": "broadcasts",
            },
            returns="ID",
        ),
        Case(
            "get_single_postmark_bulk_email_by_id",
            {"id": BULK_ID},
            f"GET /email/bulk/{BULK_ID}",
            returns="PercentageCompleted",
        ),
        # ---------------------------------------------------------------- bounces
        Case(
            "list_all_postmark_bounces",
            {"limit": 2, "type": "HardBounce", "inactive": True, "emailFilter": "jim"},
            "GET /bounces",
            query={
                "count": "2",
                "offset": "0",
                "type": "HardBounce",
                "inactive": "true",
                "emailFilter": "jim",
            },
            returns="result",
        ),
        Case(
            "get_single_postmark_bounce_by_id",
            {"id": HARD_BOUNCE},
            f"GET /bounces/{HARD_BOUNCE}",
            returns="Email",
        ),
        Case(
            "get_single_postmark_bounce_dump_by_id",
            {"id": HARD_BOUNCE},
            f"GET /bounces/{HARD_BOUNCE}/dump",
            returns="Body",
        ),
        Case(
            "create_a_postmark_bounce_activation",
            {"id": HARD_BOUNCE},
            f"PUT /bounces/{HARD_BOUNCE}/activate",
            returns="Bounce",
        ),
        Case(
            "get_single_postmark_delivery_stat_by_id",
            {},
            "GET /deliverystats",
            returns="InactiveMails",
        ),
        Case(
            "list_all_postmark_bounce_tags",
            {"limit": 10},
            "GET /bounces/tags",  # does not page upstream: no count/offset
            returns="result",
        ),
        # ---------------------------------------------------------------- templates
        Case(
            "list_all_postmark_templates",
            {"limit": 10, "TemplateType": "Standard"},
            "GET /templates",
            query={"Count": "10", "Offset": "0", "TemplateType": "Standard"},
            returns="result",
        ),
        Case(
            "get_single_postmark_template_by_id",
            {"id": "welcome"},
            "GET /templates/welcome",
            returns="HtmlBody",
        ),
        Case(
            "get_single_postmark_template_model_by_id",
            {"id": "welcome"},
            "GET /templates/welcome",  # then its layout, unless that lookup is cached
            returns="RequiredVariables",
        ),
        Case(
            "create_a_postmark_template",
            {
                "Name": "Receipt",
                "Alias": "receipt",
                "Subject": "Your {{product_name}} receipt",
                "HtmlBody": "<p>Total: {{total}}</p>",
                "TextBody": "Total: {{total}}",
                "LayoutTemplate": "basic-layout",
            },
            "POST /templates",
            body={
                "Name": "Receipt",
                "Alias": "receipt",
                "Subject": "Your {{product_name}} receipt",
                "HtmlBody": "<p>Total: {{total}}</p>",
                "TextBody": "Total: {{total}}",
                "LayoutTemplate": "basic-layout",
            },
            returns="TemplateId",
        ),
        Case(
            "update_a_postmark_template_by_id",
            {"id": "1235", "Subject": "Reset your password now"},
            "PUT /templates/1235",
            body={"Subject": "Reset your password now"},
            returns="TemplateId",
        ),
        Case(
            "delete_a_postmark_template_by_id",
            {"id": "password-reset"},
            "DELETE /templates/password-reset",
            returns="Message",
        ),
        Case(
            "create_a_postmark_template_validation",
            {
                "Subject": "Hi {{name}}",
                "HtmlBody": "<p>Hello {{name}}</p>",
                "TestRenderModel": {"name": "Ann"},
            },
            "POST /templates/validate",
            body={
                "Subject": "Hi {{name}}",
                "HtmlBody": "<p>Hello {{name}}</p>",
                "TestRenderModel": {"name": "Ann"},
            },
            returns="AllContentIsValid",
        ),
        Case(
            "create_a_postmark_template_push_preview",
            {"SourceServerID": SERVER, "DestinationServerID": OTHER_SERVER},
            "PUT /templates/push",
            body={
                "SourceServerID": SERVER,
                "DestinationServerID": OTHER_SERVER,
                "PerformChanges": False,
            },
            account=True,
            returns="Templates",
        ),
        Case(
            "create_a_postmark_template_push",
            {"SourceServerID": SERVER, "DestinationServerID": OTHER_SERVER},
            "PUT /templates/push",
            body={
                "SourceServerID": SERVER,
                "DestinationServerID": OTHER_SERVER,
                "PerformChanges": True,
            },
            account=True,
            returns="Templates",
        ),
        # ---------------------------------------------------------------- message streams
        Case(
            "list_all_postmark_message_streams",
            {"limit": 10, "MessageStreamType": "Transactional", "IncludeArchivedStreams": True},
            "GET /message-streams",  # does not page upstream: no count/offset
            query={"MessageStreamType": "Transactional", "IncludeArchivedStreams": "true"},
            returns="result",
        ),
        Case(
            "get_single_postmark_message_stream_by_id",
            {"id": "broadcasts"},
            "GET /message-streams/broadcasts",
            returns="MessageStreamType",
        ),
        Case(
            "create_a_postmark_message_stream",
            {
                "ID": "receipts",
                "Name": "Receipts",
                "MessageStreamType": "Transactional",
                "Description": "Order receipts",
            },
            "POST /message-streams",
            body={
                "ID": "receipts",
                "Name": "Receipts",
                "MessageStreamType": "Transactional",
                "Description": "Order receipts",
            },
            returns="ID",
        ),
        Case(
            "update_a_postmark_message_stream_by_id",
            {
                "id": "broadcasts",
                "Name": "Newsletters",
                "SubscriptionManagementConfiguration": {"UnsubscribeHandlingType": "Custom"},
            },
            "PATCH /message-streams/broadcasts",
            body={
                "Name": "Newsletters",
                "SubscriptionManagementConfiguration": {"UnsubscribeHandlingType": "Custom"},
            },
            returns="Name",
        ),
        Case(
            "create_a_postmark_message_stream_archive",
            {"id": "broadcasts"},
            "POST /message-streams/broadcasts/archive",
            returns="ExpectedPurgeDate",
        ),
        Case(
            "create_a_postmark_message_stream_unarchive",
            {"id": "broadcasts"},
            "POST /message-streams/broadcasts/unarchive",
            returns="ID",
        ),
        # ---------------------------------------------------------------- suppressions
        Case(
            "list_all_postmark_suppressions",
            {"id": "outbound", "SuppressionReason": "HardBounce", "limit": 10},
            "GET /message-streams/outbound/suppressions/dump",  # a full dump: no count/offset
            query={"SuppressionReason": "HardBounce"},
            returns="result",
        ),
        Case(
            "create_a_postmark_suppression",
            {"id": "outbound", "Suppressions": [{"EmailAddress": "someone@example.com"}]},
            "POST /message-streams/outbound/suppressions",
            body={"Suppressions": [{"EmailAddress": "someone@example.com"}]},
            returns="Suppressions",
        ),
        Case(
            "delete_a_postmark_suppression_by_id",
            {"id": "outbound", "Suppressions": [{"EmailAddress": "ann@example.com"}]},
            "POST /message-streams/outbound/suppressions/delete",
            body={"Suppressions": [{"EmailAddress": "ann@example.com"}]},
            returns="Suppressions",
        ),
        # ---------------------------------------------------------------- messages
        Case(
            "list_all_postmark_outbound_messages",
            {"limit": 5, "tag": "receipt", "status": "sent", "metadata": {"order_id": "1001"}},
            "GET /messages/outbound",
            query={
                "count": "5",
                "offset": "0",
                "tag": "receipt",
                "status": "sent",
                "metadata_order_id": "1001",
            },
            returns="result",
        ),
        Case(
            "get_single_postmark_outbound_message_by_id",
            {"id": RECEIPT_MESSAGE_ID},
            f"GET /messages/outbound/{RECEIPT_MESSAGE_ID}/details",
            returns="MessageEvents",
        ),
        Case(
            "get_single_postmark_outbound_message_dump_by_id",
            {"id": RECEIPT_MESSAGE_ID},
            f"GET /messages/outbound/{RECEIPT_MESSAGE_ID}/dump",
            returns="Body",
        ),
        Case(
            "list_all_postmark_inbound_messages",
            {"limit": 5, "status": "blocked", "fromemail": "promo@spammy-domain.example"},
            "GET /messages/inbound",
            query={
                "count": "5",
                "offset": "0",
                "status": "blocked",
                "fromemail": "promo@spammy-domain.example",
            },
            returns="result",
        ),
        Case(
            "get_single_postmark_inbound_message_by_id",
            {"id": INBOUND_PROCESSED_ID},
            f"GET /messages/inbound/{INBOUND_PROCESSED_ID}/details",
            returns="MailboxHash",
        ),
        Case(
            "create_a_postmark_inbound_message_bypass",
            {"id": INBOUND_BLOCKED_ID},
            f"PUT /messages/inbound/{INBOUND_BLOCKED_ID}/bypass",
            returns="Message",
        ),
        Case(
            "create_a_postmark_inbound_message_retry",
            {"id": INBOUND_FAILED_ID},
            f"PUT /messages/inbound/{INBOUND_FAILED_ID}/retry",
            returns="Message",
        ),
        Case(
            "list_all_postmark_open_events",
            {"limit": 5, "recipient": "receiver@example.com", "client_family": "Chrome"},
            "GET /messages/outbound/opens",
            query={
                "count": "5",
                "offset": "0",
                "recipient": "receiver@example.com",
                "client_family": "Chrome",
            },
            returns="result",
        ),
        Case(
            "list_all_postmark_click_events",
            {"limit": 5, "tag": "receipt", "platform": "Desktop"},
            "GET /messages/outbound/clicks",
            query={"count": "5", "offset": "0", "tag": "receipt", "platform": "Desktop"},
            returns="result",
        ),
        Case(
            "list_all_postmark_message_open_events",
            {"id": RECEIPT_MESSAGE_ID, "limit": 5},
            f"GET /messages/outbound/opens/{RECEIPT_MESSAGE_ID}",
            query={"count": "5", "offset": "0"},
            returns="result",
        ),
        Case(
            "list_all_postmark_message_click_events",
            {"id": RECEIPT_MESSAGE_ID, "limit": 5},
            f"GET /messages/outbound/clicks/{RECEIPT_MESSAGE_ID}",
            query={"count": "5", "offset": "0"},
            returns="result",
        ),
        # ---------------------------------------------------------------- statistics
        Case(
            "get_single_postmark_outbound_overview_stat_by_id",
            STATS_FILTERS,
            "GET /stats/outbound",
            query=STATS_FILTERS,
            returns="Sent",
        ),
        stats("get_single_postmark_sent_count_stat_by_id", "/stats/outbound/sends"),
        stats("get_single_postmark_bounce_count_stat_by_id", "/stats/outbound/bounces"),
        stats("get_single_postmark_spam_complaint_stat_by_id", "/stats/outbound/spam"),
        stats("get_single_postmark_tracked_email_stat_by_id", "/stats/outbound/tracked"),
        stats("get_single_postmark_open_count_stat_by_id", "/stats/outbound/opens"),
        stats("get_single_postmark_open_platform_stat_by_id", "/stats/outbound/opens/platforms"),
        stats(
            "get_single_postmark_open_email_client_stat_by_id",
            "/stats/outbound/opens/emailclients",
        ),
        stats("get_single_postmark_open_read_time_stat_by_id", "/stats/outbound/opens/readtimes"),
        stats("get_single_postmark_click_count_stat_by_id", "/stats/outbound/clicks"),
        stats(
            "get_single_postmark_click_browser_family_stat_by_id",
            "/stats/outbound/clicks/browserfamilies",
        ),
        stats("get_single_postmark_click_platform_stat_by_id", "/stats/outbound/clicks/platforms"),
        stats("get_single_postmark_click_location_stat_by_id", "/stats/outbound/clicks/location"),
        # ---------------------------------------------------------------- webhooks
        Case(
            "list_all_postmark_webhooks",
            {"limit": 10, "MessageStream": "outbound"},
            "GET /webhooks",  # does not page upstream: no count/offset
            query={"MessageStream": "outbound"},
            returns="result",
        ),
        Case(
            "get_single_postmark_webhook_by_id",
            {"id": WEBHOOK},
            f"GET /webhooks/{WEBHOOK}",
            returns="Triggers",
        ),
        Case(
            "create_a_postmark_webhook",
            {
                "Url": "https://hooks.example.com/bounces",
                "MessageStream": "outbound",
                "HttpHeaders": [{"Name": "X-Source", "Value": "postmark"}],
                "Triggers": {"Bounce": {"Enabled": True, "IncludeContent": True}},
            },
            "POST /webhooks",
            body={
                "Url": "https://hooks.example.com/bounces",
                "MessageStream": "outbound",
                "HttpHeaders": [{"Name": "X-Source", "Value": "postmark"}],
                "Triggers": {"Bounce": {"Enabled": True, "IncludeContent": True}},
            },
            returns="ID",
        ),
        Case(
            "update_a_postmark_webhook_by_id",
            {
                "id": WEBHOOK,
                "Url": "https://hooks.example.com/v2",
                "HttpAuth": {"Username": "u", "Password": "p"},
            },
            f"PUT /webhooks/{WEBHOOK}",
            body={
                "Url": "https://hooks.example.com/v2",
                "HttpAuth": {"Username": "u", "Password": "p"},
            },
            returns="Url",
        ),
        Case(
            "delete_a_postmark_webhook_by_id",
            {"id": WEBHOOK},
            f"DELETE /webhooks/{WEBHOOK}",
            returns="Message",
        ),
        # ---------------------------------------------------------------- inbound rules
        Case(
            "list_all_postmark_inbound_rules",
            {"limit": 10},
            "GET /triggers/inboundrules",
            query={"count": "10", "offset": "0"},
            returns="result",
        ),
        Case(
            "create_a_postmark_inbound_rule",
            {"Rule": "spammer@example.net"},
            "POST /triggers/inboundrules",
            body={"Rule": "spammer@example.net"},
            returns="ID",
        ),
        Case(
            "delete_a_postmark_inbound_rule_by_id",
            {"id": 3},
            "DELETE /triggers/inboundrules/3",
            returns="Message",
        ),
        # ---------------------------------------------------------------- server settings
        Case(
            "get_single_postmark_current_server_by_id", {}, "GET /server", returns="InboundAddress"
        ),
        Case(
            "update_a_postmark_current_server_by_id",
            {"Name": "Staging", "TrackOpens": True, "TrackLinks": "HtmlOnly"},
            "PUT /server",
            body={"Name": "Staging", "TrackOpens": True, "TrackLinks": "HtmlOnly"},
            returns="Name",
        ),
        # ---------------------------------------------------------------- account: servers
        Case(
            "list_all_postmark_servers",
            {"limit": 10, "name": "Prod"},
            "GET /servers",
            query={"count": "10", "offset": "0", "name": "Prod"},
            account=True,
            returns="result",
        ),
        Case(
            "get_single_postmark_server_by_id",
            {"id": OTHER_SERVER},
            f"GET /servers/{OTHER_SERVER}",
            account=True,
            returns="DeliveryType",
        ),
        Case(
            "create_a_postmark_server",
            {"Name": "Marketing", "Color": "blue", "DeliveryType": "Sandbox"},
            "POST /servers",
            body={"Name": "Marketing", "Color": "blue", "DeliveryType": "Sandbox"},
            account=True,
            returns="DeliveryType",
        ),
        Case(
            "update_a_postmark_server_by_id",
            {"id": OTHER_SERVER, "Name": "Production EU", "InboundSpamThreshold": 5},
            f"PUT /servers/{OTHER_SERVER}",
            body={"Name": "Production EU", "InboundSpamThreshold": 5},
            account=True,
            returns="Name",
        ),
        Case(
            "delete_a_postmark_server_by_id",
            {"id": OTHER_SERVER},
            f"DELETE /servers/{OTHER_SERVER}",
            account=True,
            returns="Message",
        ),
        # ---------------------------------------------------------------- account: domains
        Case(
            "list_all_postmark_domains",
            {"limit": 10},
            "GET /domains",
            query={"count": "10", "offset": "0"},
            account=True,
            returns="result",
        ),
        Case(
            "get_single_postmark_domain_by_id",
            {"id": VERIFIED_DOMAIN},
            f"GET /domains/{VERIFIED_DOMAIN}",
            account=True,
            returns="DKIMHost",
        ),
        Case(
            "create_a_postmark_domain",
            {"Name": "example.net", "ReturnPathDomain": "pm-bounces.example.net"},
            "POST /domains",
            body={"Name": "example.net", "ReturnPathDomain": "pm-bounces.example.net"},
            account=True,
            returns="DKIMPendingHost",
        ),
        Case(
            "update_a_postmark_domain_by_id",
            {
                "id": PENDING_DOMAIN,
                "ReturnPathDomain": "pm-bounces.example.org",
                "CustomTrackingDomain": "track.example.org",
            },
            f"PUT /domains/{PENDING_DOMAIN}",
            body={
                "ReturnPathDomain": "pm-bounces.example.org",
                "CustomTrackingDomain": "track.example.org",
            },
            account=True,
            returns="ReturnPathDomain",
        ),
        Case(
            "delete_a_postmark_domain_by_id",
            {"id": PENDING_DOMAIN},
            f"DELETE /domains/{PENDING_DOMAIN}",
            account=True,
            returns="Message",
        ),
        Case(
            "create_a_postmark_domain_dkim_verification",
            {"id": PENDING_DOMAIN},
            f"PUT /domains/{PENDING_DOMAIN}/verifydkim",
            account=True,
            returns="DKIMVerified",
        ),
        Case(
            "create_a_postmark_domain_return_path_verification",
            {"id": VERIFIED_DOMAIN},
            f"PUT /domains/{VERIFIED_DOMAIN}/verifyreturnpath",
            account=True,
            returns="ReturnPathDomainVerified",
        ),
        Case(
            "create_a_postmark_domain_custom_tracking_verification",
            {"id": VERIFIED_DOMAIN},
            f"PUT /domains/{VERIFIED_DOMAIN}/verifyCustomTracking",
            account=True,
            returns="ID",
        ),
        Case(
            "create_a_postmark_domain_spf_verification",
            {"id": VERIFIED_DOMAIN},
            f"POST /domains/{VERIFIED_DOMAIN}/verifyspf",
            account=True,
            returns="SPFVerified",
        ),
        Case(
            "create_a_postmark_domain_dkim_rotation",
            {"id": VERIFIED_DOMAIN},  # a pending key cannot be rotated again (ErrorCode 505)
            f"POST /domains/{VERIFIED_DOMAIN}/rotatedkim",
            account=True,
            returns="DKIMPendingHost",
        ),
        # ---------------------------------------------------------------- account: signatures
        Case(
            "list_all_postmark_sender_signatures",
            {"limit": 10},
            "GET /senders",
            query={"count": "10", "offset": "0"},
            account=True,
            returns="result",
        ),
        Case(
            "get_single_postmark_sender_signature_by_id",
            {"id": CONFIRMED_SENDER},
            f"GET /senders/{CONFIRMED_SENDER}",
            account=True,
            returns="Confirmed",
        ),
        Case(
            "create_a_postmark_sender_signature",
            {
                "FromEmail": "billing@example.com",
                "Name": "Billing",
                "ReplyToEmail": "help@example.com",
                "ConfirmationPersonalNote": "Please confirm, thanks!",
            },
            "POST /senders",
            body={
                "FromEmail": "billing@example.com",
                "Name": "Billing",
                "ReplyToEmail": "help@example.com",
                "ConfirmationPersonalNote": "Please confirm, thanks!",
            },
            account=True,
            returns="Confirmed",
        ),
        Case(
            "update_a_postmark_sender_signature_by_id",
            {"id": CONFIRMED_SENDER, "Name": "Example Team", "ReplyToEmail": "reply@example.com"},
            f"PUT /senders/{CONFIRMED_SENDER}",
            body={"Name": "Example Team", "ReplyToEmail": "reply@example.com"},
            account=True,
            returns="ReplyToEmailAddress",
        ),
        Case(
            "delete_a_postmark_sender_signature_by_id",
            {"id": UNCONFIRMED_SENDER},
            f"DELETE /senders/{UNCONFIRMED_SENDER}",
            account=True,
            returns="Message",
        ),
        Case(
            "create_a_postmark_sender_signature_confirmation",
            {"id": UNCONFIRMED_SENDER},  # a confirmed one answers ErrorCode 506
            f"POST /senders/{UNCONFIRMED_SENDER}/resend",
            account=True,
            returns="Message",
        ),
        Case(
            "create_a_postmark_sender_signature_spf_verification",
            {"id": CONFIRMED_SENDER},
            f"POST /senders/{CONFIRMED_SENDER}/verifyspf",
            account=True,
            returns="SPFVerified",
        ),
        Case(
            "create_a_postmark_sender_signature_dkim_rotation",
            {"id": CONFIRMED_SENDER},  # its domain's key is verified, so it can be renewed
            f"POST /senders/{CONFIRMED_SENDER}/requestnewdkim",
            account=True,
            returns="Message",
        ),
        # ---------------------------------------------------------------- account: data removals
        Case(
            # Denied by policies/guardrails.yaml: called through `permissive` below.
            "create_a_postmark_data_removal",
            {
                "RequestedBy": "privacy@example.com",
                "RequestedFor": "jim@example.com",
                "NotifyWhenCompleted": True,
            },
            "POST /data-removals",
            body={
                "RequestedBy": "privacy@example.com",
                "RequestedFor": "jim@example.com",
                "NotifyWhenCompleted": True,
            },
            account=True,
            returns="Status",
        ),
        Case(
            "get_single_postmark_data_removal_by_id",
            {"id": DATA_REMOVAL},
            f"GET /data-removals/{DATA_REMOVAL}",
            account=True,
            returns="Status",
        ),
    ]
}
