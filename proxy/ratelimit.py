"""Rate-limit data from upstream headers, normalised to the IETF RateLimit fields.

Upstreams spell it `X-RateLimit-*`, `RateLimit-*` or `Retry-After`, with resets as
delta seconds or epoch times. Callers get `ratelimit-limit`, `ratelimit-remaining`,
`ratelimit-reset` (delta seconds) and `retry-after` (delta seconds).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from .manifest import RateLimitHeaders

DEFAULT_NAMES = {
    "limit": ("ratelimit-limit", "x-ratelimit-limit", "x-rate-limit-limit"),
    "remaining": ("ratelimit-remaining", "x-ratelimit-remaining", "x-rate-limit-remaining"),
    "reset": ("ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset"),
    "retry_after": ("retry-after",),
}
# A reset larger than this many seconds is an epoch time, not a delta.
_EPOCH_CUTOFF = 10 * 365 * 24 * 3600


def _first(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        try:
            value = headers.get(name)
        except ValueError:  # a value that is not text (Latin-1 bytes, say): ignored
            continue
        if value is not None:
            return value.strip()
    return None


def _int(value: str | None) -> int | None:
    """A whole number of at most 12 digits, or None: `1e999`, `inf`, `nan` and
    non-ASCII digits (which float() would take) are ignored like any other junk."""
    if value is None or not _NUMBER.fullmatch(value):
        return None
    return int(float(value))


_NUMBER = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")


def _seconds(value: str | None, kind: str, now: float) -> int | None:
    """A reset or retry-after value as delta seconds from now."""
    if value is None:
        return None
    number = _int(value)
    if number is None:
        try:  # Retry-After may be an HTTP date
            return max(0, int(parsedate_to_datetime(value).timestamp() - now))
        except (TypeError, ValueError, OverflowError, IndexError):
            return None
    if kind == "epoch" or (kind == "auto" and number > _EPOCH_CUTOFF):
        return max(0, int(number - now))
    return number


def normalise(
    headers: Mapping[str, str], spec: RateLimitHeaders, now: float | None = None
) -> dict[str, str]:
    """IETF rate-limit headers for what the upstream said; empty if it said nothing."""
    now = time.time() if now is None else now

    def names(field: str) -> tuple[str, ...]:
        declared = getattr(spec, field)
        return tuple(n.lower() for n in declared) if declared else DEFAULT_NAMES[field]

    out: dict[str, str] = {}
    limit = _int(_first(headers, names("limit")))
    remaining = _int(_first(headers, names("remaining")))
    reset = _seconds(_first(headers, names("reset")), spec.reset_kind, now)
    retry_after = _seconds(_first(headers, names("retry_after")), "auto", now)
    if limit is not None:
        out["ratelimit-limit"] = str(limit)
    if remaining is not None:
        out["ratelimit-remaining"] = str(remaining)
    if reset is not None:
        out["ratelimit-reset"] = str(reset)
    if retry_after is not None:
        out["retry-after"] = str(retry_after)
    return out
