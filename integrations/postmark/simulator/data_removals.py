"""Data removal requests of the account: ask for one, and read its status."""

from __future__ import annotations

from typing import Any

from .call import EMAIL, ApiError, Call, get, json_object
from .crud import Collection
from .routing import route

DATA_REMOVALS = Collection(
    "data_removals", "id", lambda: ApiError(1301, "Invalid data removal ID.")
)


def _request_data_removal(call: Call) -> Any:
    body = json_object(call.body, 1300)
    for name in ("RequestedBy", "RequestedFor"):
        if not EMAIL.match(str(get(body, name) or "")):
            raise ApiError(
                1300, f"Invalid data removal request: '{name}' must be an email address."
            )
    rid = call.state.new_id("data-removal", max(call.state.data_removals))
    call.state.data_removals[rid] = {"ID": rid, "Status": "Pending"}
    return dict(call.state.data_removals[rid])


ROUTES = (
    route("POST", "/data-removals", _request_data_removal, token="account"),
    route("GET", "/data-removals/{id}", DATA_REMOVALS.get, token="account"),
)
