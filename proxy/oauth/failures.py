"""Wrong API tokens typed on the consent page, counted so that guessing is slowed."""

from __future__ import annotations

import time
from collections import deque

# Wrong API tokens allowed per server and per client in a window, on one instance.
MAX_FAILURES = 10
FAILURE_WINDOW = 15 * 60.0


class Failures:
    """Wrong API tokens, counted per key over a sliding window: past the limit, the form
    refuses to check any more until the oldest failure ages out."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        seen = self._seen.setdefault(key, deque())
        while seen and now - seen[0] > self.window:
            seen.popleft()
        return seen

    def wait(self, *keys: str) -> float:
        """Seconds until another attempt may be checked; 0 when it may now."""
        now = time.monotonic()
        waits = [
            self.window - (now - seen[0])
            for key in keys
            if len(seen := self._recent(key, now)) >= self.limit
        ]
        return max(waits, default=0.0)

    def add(self, *keys: str) -> None:
        now = time.monotonic()
        if len(self._seen) > 10_000:
            self._seen.clear()
        for key in keys:
            self._recent(key, now).append(now)
