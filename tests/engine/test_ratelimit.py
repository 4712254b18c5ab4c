"""Rate-limit headers from any common convention become the IETF fields, as delta seconds."""

from __future__ import annotations

from email.utils import formatdate

import httpx

from proxy.manifest import RateLimitHeaders
from proxy.ratelimit import normalise

NOW = 1_800_000_000.0
DEFAULT = RateLimitHeaders()


def test_x_ratelimit_with_an_epoch_reset() -> None:
    headers = httpx.Headers(
        {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "3",
            "X-RateLimit-Reset": str(int(NOW) + 42),
        }
    )
    assert normalise(headers, DEFAULT, NOW) == {
        "ratelimit-limit": "100",
        "ratelimit-remaining": "3",
        "ratelimit-reset": "42",
    }


def test_ietf_fields_with_a_delta_reset_pass_through() -> None:
    headers = httpx.Headers(
        {"RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": "5"}
    )
    assert normalise(headers, DEFAULT, NOW)["ratelimit-reset"] == "5"


def test_retry_after_as_seconds_and_as_http_date() -> None:
    assert normalise(httpx.Headers({"Retry-After": "17"}), DEFAULT, NOW) == {"retry-after": "17"}
    date = formatdate(NOW + 90, usegmt=True)
    assert normalise(httpx.Headers({"Retry-After": date}), DEFAULT, NOW) == {"retry-after": "90"}


def test_past_resets_and_garbage_are_clamped_or_dropped() -> None:
    headers = httpx.Headers({"X-RateLimit-Reset": str(int(NOW) - 100), "X-RateLimit-Limit": "lots"})
    assert normalise(headers, DEFAULT, NOW) == {"ratelimit-reset": "0"}


def test_nothing_said_means_no_headers() -> None:
    assert normalise(httpx.Headers({"Content-Type": "application/json"}), DEFAULT, NOW) == {}


def test_manifest_declares_other_names_and_kinds() -> None:
    spec = RateLimitHeaders(
        limit=["X-Quota-Limit"],
        remaining=["X-Quota-Left"],
        reset=["X-Quota-Reset"],
        reset_kind="delta",
    )
    headers = httpx.Headers(
        {
            "X-Quota-Limit": "5",
            "X-Quota-Left": "1",
            "X-Quota-Reset": "3",
            "X-RateLimit-Limit": "999",
        }
    )
    assert normalise(headers, spec, NOW) == {
        "ratelimit-limit": "5",
        "ratelimit-remaining": "1",
        "ratelimit-reset": "3",
    }
    epoch = RateLimitHeaders(reset=["X-Quota-Reset"], reset_kind="epoch")
    assert normalise(httpx.Headers({"X-Quota-Reset": str(int(NOW) + 8)}), epoch, NOW) == {
        "ratelimit-reset": "8"
    }
