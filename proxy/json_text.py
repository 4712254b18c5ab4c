"""JSON text for what yamcp answers: orjson, and the standard library where orjson refuses.

orjson encodes integers only within 64 bits, and an imported schema may hold a bound
beyond them (DigitalOcean's `maximum: 18446744073709552000`, a uint64's maximum written
from a float). JSON has no such limit, so those numbers are written exactly as given.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
