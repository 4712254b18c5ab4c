"""What an integration's hooks get: a way to ask the upstream, and a short-lived cache.

Hooks exist for the few checks a manifest cannot declare (an email template's model,
stream types). They run before a call is sent and may refuse it with `HookRefused`;
a `transform` may reshape a successful result. They never see other accounts.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .errors import HookRefused

if TYPE_CHECKING:
    from .policy import Rule
    from .registry import Integration
    from .tools import Tool


class TTLCache:
    """A small bounded cache of lookups, keyed per account so none leak across."""

    def __init__(self, max_items: int = 4096) -> None:
        self._items: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._max = max_items

    def get(self, key: tuple) -> Any:
        hit = self._items.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: tuple, value: Any, ttl: float) -> None:
        self._items[key] = (time.monotonic() + ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def drop(self, prefix: tuple) -> None:
        """Forget every entry whose key starts with `prefix`."""
        size = len(prefix)
        for key in [k for k in self._items if k[:size] == prefix]:
            del self._items[key]


class HookContext:
    def __init__(
        self,
        lookup: Callable[[Tool, dict[str, Any]], Awaitable[Any]],
        integration: Integration,
        account_id: str,
        cache: TTLCache,
        rules: tuple[Rule, ...] = (),
    ) -> None:
        self.integration = integration
        # The policy constraints this call is under: a check may refuse what would slip
        # past them (an argument the constraint does not look at, say).
        self.rules = rules
        self.account_id = account_id
        # Runs a tool for this call's account, without hooks, and answers its CallOutcome:
        # handed in by `forward`, so that this module does not import it.
        self._lookup = lookup
        self._cache = cache

    async def call(self, tool_name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run another tool of this integration for this account; its structured result.

        Raises LookupFailed, carrying the lookup's own outcome, when it fails: a check
        fails closed, and may tell "not found" (by `status` and `code`) from the rest.
        """
        outcome = await self._lookup(self.integration.tools[tool_name], arguments)
        if outcome.result["isError"]:
            error = outcome.result["structuredContent"].get("error", {})
            raise LookupFailed(error.get("message", "lookup failed"), outcome)
        return outcome.result["structuredContent"]

    async def cached(self, key: tuple, ttl: float, load: Callable[[], Awaitable[Any]]) -> Any:
        """`load()` once per `ttl` seconds per account and key."""
        full = (self.integration.name, self.account_id, *key)
        value = self._cache.get(full)
        if value is None:
            value = await load()
            self._cache.put(full, value, ttl)
        return value


class LookupFailed(HookRefused):
    """A hook's own upstream lookup failed. `outcome` is that lookup's CallOutcome; `status`
    and `code` are the upstream's HTTP status and error code, when it answered.

    A check that lets it propagate (or raises it again with its own message, keeping the
    outcome) has the call end as the lookup did: a 429 there is the caller's 429, with its
    rate-limit data, and the call says nothing was sent.
    """

    def __init__(self, message: str, outcome: Any) -> None:
        super().__init__(message)
        self.outcome = outcome
        error = outcome.result["structuredContent"].get("error", {})
        self.status: int | None = error.get("status")
        self.code: Any = error.get("code")
