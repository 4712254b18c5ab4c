"""The handlers every table of records keyed by a numeric ID shares: find one (or answer
Postmark's "not found"), read it, remove it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .call import ApiError, Call, int_id, ok


@dataclass(frozen=True)
class Collection:
    """Records of a PostmarkState table (`attribute`), by the path parameter `param`.

    `missing` makes the error for an ID that is not there (or no number), `removed` the
    message of a removal."""

    attribute: str
    param: str
    missing: Callable[[], ApiError]
    removed: Callable[[dict[str, Any]], str] = lambda record: "Removed."

    def table(self, call: Call) -> dict[int, dict[str, Any]]:
        return getattr(call.state, self.attribute)

    def find(self, call: Call) -> dict[str, Any]:
        error = self.missing()
        record = self.table(call).get(int_id(call.params[self.param], error.code, error.message))
        if record is None:
            raise error
        return record

    def get(self, call: Call) -> Any:
        """GET one: a copy of the record."""
        return dict(self.find(call))

    def delete(self, call: Call) -> Any:
        """DELETE one."""
        return self.remove(call, self.find(call))

    def remove(self, call: Call, record: dict[str, Any]) -> Any:
        del self.table(call)[record["ID"]]
        return ok(self.removed(record))
