"""The sandbox's statistics answer as Postmark's do (issue 27): date filters keep whole days,
both bounds inclusive (item 11), and the delivery stats' bounce entries carry their TypeCode
(item 15). The tests drive the simulator over real HTTP on loopback (the tests' fake
Postmark); the seed has per-day statistics for 2024-01-13, -14 and -15.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark

SENT = {"2024-01-13": 120, "2024-01-14": 95, "2024-01-15": 140}  # seed.yaml stats.sends


@pytest.fixture
def client(postmark: FakePostmark) -> Iterator[httpx.Client]:
    headers = {"X-Postmark-Server-Token": postmark.server_token, "Accept": "application/json"}
    with httpx.Client(base_url=postmark.url, headers=headers, timeout=5) as c:
        yield c


@pytest.mark.parametrize(
    ("fromdate", "todate", "days"),
    [
        ("2024-01-13", "2024-01-13", ["2024-01-13"]),
        ("2024-01-14", None, ["2024-01-14", "2024-01-15"]),
        (None, "2024-01-14", ["2024-01-13", "2024-01-14"]),
        ("2024-01-13", "2024-01-15", ["2024-01-13", "2024-01-14", "2024-01-15"]),
        # A date and time names its day: the bounds are whole days.
        ("2024-01-14T12:00:00", "2024-01-14T08:00", ["2024-01-14"]),
        ("2024-01-16", None, []),
    ],
)
def test_date_filters_keep_whole_days_both_bounds_inclusive(
    client: httpx.Client, fromdate: str | None, todate: str | None, days: list[str]
) -> None:
    params = {k: v for k, v in (("fromdate", fromdate), ("todate", todate)) if v}
    sends = client.get("/stats/outbound/sends", params=params)
    assert sends.status_code == 200, sends.text
    assert sends.json() == {
        "Days": [{"Date": day, "Sent": SENT[day]} for day in days],
        "Sent": sum(SENT[day] for day in days),
    }
    overview = client.get("/stats/outbound", params=params).json()
    assert overview["Sent"] == sum(SENT[day] for day in days)


def test_delivery_stats_give_each_bounce_type_its_type_code(client: httpx.Client) -> None:
    stats = client.get("/deliverystats").json()
    assert stats["Bounces"][0] == {"Name": "All", "Count": 7}  # as Postmark's example has it
    by_type = {entry["Type"]: entry for entry in stats["Bounces"][1:]}
    assert by_type == {
        "HardBounce": {"Type": "HardBounce", "TypeCode": 1, "Name": "Hard bounce", "Count": 2},
        "SoftBounce": {"Type": "SoftBounce", "TypeCode": 4096, "Name": "Soft bounce", "Count": 2},
        "Transient": {"Type": "Transient", "TypeCode": 2, "Name": "Message delayed", "Count": 1},
        "SpamComplaint": {
            "Type": "SpamComplaint",
            "TypeCode": 100001,
            "Name": "Spam complaint",
            "Count": 1,
        },
        "BadEmailAddress": {
            "Type": "BadEmailAddress",
            "TypeCode": 100000,
            "Name": "Invalid email address",
            "Count": 1,
        },
    }
    # The same codes as the bounces themselves carry.
    bounces = client.get("/bounces", params={"count": 500, "offset": 0}).json()["Bounces"]
    assert {b["Type"]: b["TypeCode"] for b in bounces} == {
        kind: entry["TypeCode"] for kind, entry in by_type.items()
    }
