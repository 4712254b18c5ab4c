"""What a handler gets (a `Call`), what it raises (`ApiError`), and how it reads a request
as Postmark does: query names and JSON keys in any letter case, paging and date windows
checked as Postmark checks them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .state import PostmarkState

if TYPE_CHECKING:
    from .app import PostmarkSimulator

TZ = timezone(timedelta(hours=-5))
EMAIL = re.compile(r"^[^@\s<>,\"]+@[^@\s<>,\"]+\.[^@\s<>,\"]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$")


def now() -> str:
    """Postmark's timestamp style: 7 fractional digits and a UTC offset."""
    text = datetime.now(TZ).isoformat(timespec="microseconds")
    return text[:26] + "0" + text[26:]


class ApiError(Exception):
    """A Postmark `{ErrorCode, Message}` answer; handlers raise it, the dispatcher renders it."""

    def __init__(self, code: int, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class Query:
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
class Call:
    """What a handler gets: the simulator, its state, path parameters, query and parsed body."""

    sim: PostmarkSimulator
    state: PostmarkState
    params: dict[str, str]
    query: Query
    body: Any
    test_mode: bool = False  # sent with the POSTMARK_API_TEST server token


def get(obj: Any, key: str, default: Any = None) -> Any:
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


def has(obj: Any, key: str) -> bool:
    sentinel = object()
    return get(obj, key, sentinel) is not sentinel


def json_object(body: Any, code: int = 403) -> dict[str, Any]:
    """The body as a JSON object ({} when there is none)."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(code, "Incompatible JSON: the request body must be a JSON object.")
    return body


def ok(message: str) -> dict[str, Any]:
    return {"ErrorCode": 0, "Message": message}


def paging(q: Query, code: int) -> tuple[int, int]:
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


def page(rows: list[Any], q: Query, code: int, key: str) -> dict[str, Any]:
    """One page of `rows` under `key`, with their TotalCount."""
    count, offset = paging(q, code)
    return {"TotalCount": len(rows), key: rows[offset : offset + count]}


def bool_param(q: Query, name: str, code: int) -> bool | None:
    raw = q.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ApiError(code, f"The '{name}' parameter must be true or false.")


def date_range(q: Query, code: int) -> tuple[str, str]:
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


def in_range(timestamp: str, bounds: tuple[str, str]) -> bool:
    """Whether a record's time is within `date_range` bounds. A bare date (a statistics day)
    compares by date: Postmark's statistics count whole days, so a bound's time of day does
    not cut its day out."""
    if len(timestamp) == 10:
        return bounds[0][:10] <= timestamp <= bounds[1][:10]
    return bounds[0] <= timestamp[:19] <= bounds[1]


def contains(haystack: Any, needle: str | None) -> bool:
    return needle is None or needle.lower() in str(haystack or "").lower()


def equals(value: Any, wanted: str | None) -> bool:
    return wanted is None or str(value or "").lower() == wanted.lower()


def int_id(raw: str, code: int, message: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ApiError(code, message) from None
