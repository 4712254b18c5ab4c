"""Outbound statistics: the overview and one route per series (sends, bounces, opens by
platform...), each day of the seed's (seed.yaml `stats`) within the asked dates."""

from __future__ import annotations

from functools import partial
from typing import Any

from .call import ApiError, Call, date_range, in_range
from .records import STAT_DATES, STAT_SERIES
from .routing import route


def _days(call: Call, series: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    q = call.query
    dates = date_range(q, 900)
    stream = q.get("messagestream")
    if stream is not None and call.state.stream(stream) is None:
        raise ApiError(1226, "The message stream for the provided 'ID' was not found.")
    names, rows = STAT_SERIES[series]
    days: list[dict[str, Any]] = [
        {"Date": date, **dict(zip(names, row, strict=True))}
        for date, row in zip(STAT_DATES, rows, strict=True)
        if in_range(date, dates)
    ]
    return days, {name: sum(day[name] for day in days) for name in names}


def _series(series: str, call: Call) -> Any:
    days, totals = _days(call, series)
    return {"Days": days, **totals}


def _overview(call: Call) -> Any:
    sent = _days(call, "sends")[1]["Sent"]
    bounces = _days(call, "bounces")[1]
    spam = _days(call, "spam")[1]["SpamComplaint"]
    tracked = _days(call, "tracked")[1]["Tracked"]
    opens = _days(call, "opens")[1]
    clicks = _days(call, "clicks")[1]
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


ROUTES = (
    route("GET", "/stats/outbound", _overview),
    *(route("GET", f"/stats/outbound/{name}", partial(_series, name)) for name in STAT_SERIES),
)
