"""Messages: search sent and received ones, their details and raw dumps, the opens and
clicks of sent ones, and bypassing a blocked or retrying a failed inbound message."""

from __future__ import annotations

from typing import Any

from .call import ApiError, Call, contains, date_range, equals, in_range, ok, page, paging
from .routing import route

_OUTBOUND_DETAIL_ONLY = ("TextBody", "HtmlBody", "Body", "MessageEvents")
_INBOUND_DETAIL_ONLY = ("TextBody", "HtmlBody", "Headers", "BlockedReason", "MessageEvents")
_INBOUND_STATUSES = ("blocked", "processed", "queued", "failed", "scheduled")
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


def _find_message(rows: list[dict[str, Any]], mid: str) -> dict[str, Any]:
    for row in rows:
        if row["MessageID"].lower() == mid.lower():
            return row
    raise ApiError(701, "This message was not found.")


def _search_outbound(call: Call) -> Any:
    q = call.query
    paging(q, 700)
    status = q.get("status")
    if status is not None and status.lower() not in ("queued", "sent", "processed"):
        raise ApiError(700, "The 'status' parameter must be queued, sent or processed.")
    dates = date_range(q, 700)
    metadata = q.with_prefix("metadata_")
    rows = [
        {k: v for k, v in m.items() if k not in _OUTBOUND_DETAIL_ONLY}
        for m in call.state.outbound
        if contains(" ".join(m["Recipients"]), q.get("recipient"))
        and contains(m["From"], q.get("fromemail"))
        and equals(m["Tag"], q.get("tag"))
        and equals(m["Status"], status)
        and contains(m["Subject"], q.get("subject"))
        and equals(m["MessageStream"], q.get("messagestream"))
        and in_range(m["ReceivedAt"], dates)
        and all(str(m["Metadata"].get(k, "")).lower() == v.lower() for k, v in metadata.items())
    ]
    return page(rows, q, 700, "Messages")


def _events(call: Call, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    q = call.query
    paging(q, 700)
    dates = date_range(q, 700)
    mid = call.params.get("messageid")
    out = []
    for row in rows:
        if mid is not None and row["MessageID"].lower() != mid.lower():
            continue
        if not (
            equals(row["Recipient"], q.get("recipient"))
            and equals(row["Tag"], q.get("tag"))
            and equals(row["Platform"], q.get("platform"))
            and equals(row["MessageStream"], q.get("messagestream"))
            and in_range(row["ReceivedAt"], dates)
        ):
            continue
        if all(
            equals(row[obj][key], q.get(name) or q.get(name.replace("_", "")))
            for name, (obj, key) in _EVENT_FILTERS.items()
        ):
            out.append(dict(row))
    return out


def _search_opens(call: Call) -> Any:
    return page(_events(call, call.state.opens), call.query, 700, "Opens")


def _message_opens(call: Call) -> Any:
    _find_message(call.state.outbound, call.params["messageid"])
    return page(_events(call, call.state.opens), call.query, 700, "Opens")


def _search_clicks(call: Call) -> Any:
    return page(_events(call, call.state.clicks), call.query, 700, "Clicks")


def _message_clicks(call: Call) -> Any:
    _find_message(call.state.outbound, call.params["messageid"])
    return page(_events(call, call.state.clicks), call.query, 700, "Clicks")


def _outbound_details(call: Call) -> Any:
    return dict(_find_message(call.state.outbound, call.params["messageid"]))


def _outbound_dump(call: Call) -> Any:
    return {"Body": _find_message(call.state.outbound, call.params["messageid"])["Body"]}


def _search_inbound(call: Call) -> Any:
    q = call.query
    paging(q, 700)
    status = q.get("status")
    if status is not None and status.lower() not in _INBOUND_STATUSES:
        raise ApiError(700, "Invalid 'status' for inbound messages.")
    dates = date_range(q, 700)
    rows = [
        {k: v for k, v in m.items() if k not in _INBOUND_DETAIL_ONLY}
        for m in call.state.inbound
        if contains(m["To"] + " " + m["OriginalRecipient"], q.get("recipient"))
        and contains(m["From"], q.get("fromemail"))
        and equals(m["Tag"], q.get("tag"))
        and contains(m["Subject"], q.get("subject"))
        and equals(m["MailboxHash"], q.get("mailboxhash"))
        and equals(m["Status"], status)
        and in_range(m["Date"], dates)
    ]
    return page(rows, q, 700, "InboundMessages")


def _inbound_details(call: Call) -> Any:
    return dict(_find_message(call.state.inbound, call.params["messageid"]))


def _bypass_inbound(call: Call) -> Any:
    message = _find_message(call.state.inbound, call.params["messageid"])
    if message["Status"] != "Blocked":
        raise ApiError(702, "Could not bypass this inbound message: it is not blocked.")
    message.update(Status="Queued", BlockedReason="")
    return ok(f"Successfully bypassed message: {message['MessageID']}")


def _retry_inbound(call: Call) -> Any:
    message = _find_message(call.state.inbound, call.params["messageid"])
    if message["Status"] != "Failed":
        raise ApiError(703, "Could not retry this inbound message: it has not failed.")
    message["Status"] = "Queued"
    return ok(f"Successfully rescheduled failed message: {message['MessageID']}")


ROUTES = (
    route("GET", "/messages/outbound", _search_outbound),
    route("GET", "/messages/outbound/opens", _search_opens),
    route("GET", "/messages/outbound/opens/{messageid}", _message_opens),
    route("GET", "/messages/outbound/clicks", _search_clicks),
    route("GET", "/messages/outbound/clicks/{messageid}", _message_clicks),
    route("GET", "/messages/outbound/{messageid}/details", _outbound_details),
    route("GET", "/messages/outbound/{messageid}/dump", _outbound_dump),
    route("GET", "/messages/inbound", _search_inbound),
    route("GET", "/messages/inbound/{messageid}/details", _inbound_details),
    route("PUT", "/messages/inbound/{messageid}/bypass", _bypass_inbound),
    route("PUT", "/messages/inbound/{messageid}/retry", _retry_inbound),
)
