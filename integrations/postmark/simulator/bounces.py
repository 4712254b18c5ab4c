"""Bounces: delivery statistics, the bounce list and its filters, one bounce, its raw SMTP
dump, and reactivation (which also lifts the address's HardBounce suppression)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .call import (
    ApiError,
    Call,
    bool_param,
    contains,
    date_range,
    equals,
    in_range,
    int_id,
    page,
    paging,
)
from .records import BOUNCE_TYPES
from .routing import route


def _find_bounce(call: Call) -> dict[str, Any]:
    bid = int_id(call.params["bounceid"], 1001, "Bounce not found.")
    for bounce in call.state.bounces:
        if bounce["ID"] == bid:
            return bounce
    raise ApiError(1001, "Bounce not found.")


def _delivery_stats(call: Call) -> Any:
    by_type: Counter[str] = Counter(b["Type"] for b in call.state.bounces)
    return {
        "InactiveMails": sum(1 for b in call.state.bounces if b["Inactive"]),
        "Bounces": [{"Name": "All", "Count": len(call.state.bounces)}]
        + [
            {"Type": kind, "TypeCode": code, "Name": name, "Count": n}
            for kind, n in by_type.items()
            for code, name in [BOUNCE_TYPES[kind]]
        ],
    }


def _list_bounces(call: Call) -> Any:
    q = call.query
    paging(q, 1000)
    kind = q.get("type")
    if kind is not None:
        kind = next((t for t in BOUNCE_TYPES if t.lower() == kind.lower()), None)
        if kind is None:
            raise ApiError(1000, f"Invalid bounce type '{q.get('type')}'.")
    inactive = bool_param(q, "inactive", 1000)
    dates = date_range(q, 1000)
    rows = [
        b
        for b in call.state.bounces
        if (kind is None or b["Type"] == kind)
        and (inactive is None or b["Inactive"] == inactive)
        and contains(b["Email"], q.get("emailFilter"))
        and equals(b["Tag"], q.get("tag"))
        and equals(b["MessageID"], q.get("messageID"))
        and equals(b["MessageStream"], q.get("messagestream"))
        and in_range(b["BouncedAt"], dates)
    ]
    return page([dict(b) for b in rows], q, 1000, "Bounces")


def _bounced_tags(call: Call) -> Any:
    return sorted({b["Tag"] for b in call.state.bounces if b["Tag"]})


def _get_bounce(call: Call) -> Any:
    bounce = _find_bounce(call)
    default = f"Return-Path: <>\r\nReceived: from mx.{bounce['Email'].split('@')[-1]} ...\r\n"
    return {**bounce, "Content": call.state.bounce_content.get(bounce["ID"], default)}


def _bounce_dump(call: Call) -> Any:
    bounce = _find_bounce(call)
    return {
        "Body": call.state.bounce_dumps.get(bounce["ID"], "") if bounce["DumpAvailable"] else ""
    }


def _activate_bounce(call: Call) -> Any:
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


ROUTES = (
    route("GET", "/deliverystats", _delivery_stats),
    route("GET", "/bounces", _list_bounces),
    route("GET", "/bounces/tags", _bounced_tags),
    route("GET", "/bounces/{bounceid}", _get_bounce),
    route("GET", "/bounces/{bounceid}/dump", _bounce_dump),
    route("PUT", "/bounces/{bounceid}/activate", _activate_bounce),
)
