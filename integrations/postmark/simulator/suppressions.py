"""A message stream's suppression list: dump it (filtered), suppress addresses, and lift
suppressions (not a recipient's spam complaint); and which recipients a send may not reach."""

from __future__ import annotations

from typing import Any

from .call import EMAIL, ApiError, Call, date_range, equals, get, in_range, json_object, now
from .routing import route
from .state import PostmarkState
from .streams import find_stream

_INVALID = "An invalid email address was provided."


def inactive_recipients(state: PostmarkState, stream: str, addresses: list[str]) -> list[str]:
    """The addresses Postmark will not deliver to on `stream`, lower-cased as its answers name
    them, each once. Suppressions are per stream; an Inactive bounce on the stream blocks
    too, even with no suppression row (the seed's older hard bounces have none), until it
    is reactivated."""
    blocked = {s["EmailAddress"].lower() for s in state.suppressions.get(stream, [])}
    blocked |= {
        b["Email"].lower()
        for b in state.bounces
        if b["Inactive"] and b["MessageStream"].lower() == stream.lower()
    }
    return list(dict.fromkeys(a.lower() for a in addresses if a.lower() in blocked))


def _dump_suppressions(call: Call) -> Any:
    stream = find_stream(call)
    q = call.query
    dates = date_range(q, 1226)
    rows = [
        s
        for s in call.state.suppressions.get(stream["ID"], [])
        if equals(s["SuppressionReason"], q.get("SuppressionReason"))
        and equals(s["Origin"], q.get("Origin"))
        and equals(s["EmailAddress"], q.get("EmailAddress"))
        and in_range(s["CreatedAt"], dates)
    ]
    return {"Suppressions": [dict(s) for s in rows]}


def _items(call: Call) -> tuple[dict[str, Any], list[str]]:
    stream = find_stream(call)
    items = get(json_object(call.body, 1409), "Suppressions")
    if not isinstance(items, list):
        raise ApiError(
            1409, 'A body of the form {"Suppressions": [{"EmailAddress": ...}]} is required.'
        )
    if len(items) > 50:
        raise ApiError(1410, "At most 50 suppressions can be changed per request.")
    return stream, [str(get(item, "EmailAddress") or "") for item in items]


def _row(address: str, status: str, message: str | None) -> dict[str, Any]:
    return {"EmailAddress": address, "Status": status, "Message": message}


def _create_suppressions(call: Call) -> Any:
    stream, addresses = _items(call)
    kept = call.state.suppressions.setdefault(stream["ID"], [])
    rows = []
    for address in addresses:
        if not EMAIL.match(address):
            rows.append(_row(address, "Failed", _INVALID))
            continue
        if not any(s["EmailAddress"].lower() == address.lower() for s in kept):
            kept.append(
                {
                    "EmailAddress": address,
                    "SuppressionReason": "ManualSuppression",
                    "Origin": "Customer",
                    "CreatedAt": now()[:19] + "-05:00",
                }
            )
        rows.append(_row(address, "Suppressed", None))
    return {"Suppressions": rows}


def _delete_suppressions(call: Call) -> Any:
    stream, addresses = _items(call)
    kept = call.state.suppressions.setdefault(stream["ID"], [])
    rows = []
    for address in addresses:
        match = next((s for s in kept if s["EmailAddress"].lower() == address.lower()), None)
        if not EMAIL.match(address):
            rows.append(_row(address, "Failed", _INVALID))
        elif match is not None and match["SuppressionReason"] == "SpamComplaint":
            message = "You do not have the required authority to change this suppression."
            rows.append(_row(address, "Failed", message))
        else:
            if match is not None:
                kept.remove(match)
            rows.append(_row(address, "Deleted", None))
    return {"Suppressions": rows}


ROUTES = (
    route("GET", "/message-streams/{stream_ID}/suppressions/dump", _dump_suppressions),
    route("POST", "/message-streams/{stream_ID}/suppressions", _create_suppressions),
    route("POST", "/message-streams/{stream_ID}/suppressions/delete", _delete_suppressions),
)
