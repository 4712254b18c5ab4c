"""Webhooks: one per stream and URL, with their triggers; not on an archived or inbound
stream, and a webhook's ID and stream never change."""

from __future__ import annotations

import copy
import re
from typing import Any

from .call import ApiError, Call, equals, get, has, json_object
from .crud import Collection
from .routing import route

WEBHOOKS = Collection(
    "webhooks",
    "id",
    lambda: ApiError(1352, "The webhook for the provided 'ID' was not found."),
    lambda hook: f"Webhook {hook['ID']} removed.",
)
_ALL_TRIGGERS_OFF = {
    "Open": {"Enabled": False, "PostFirstOpenOnly": False},
    "Click": {"Enabled": False},
    "Delivery": {"Enabled": False},
    "Bounce": {"Enabled": False, "IncludeContent": False},
    "SpamComplaint": {"Enabled": False, "IncludeContent": False},
    "SubscriptionChange": {"Enabled": False},
}


def _settings(body: dict[str, Any], hook: dict[str, Any]) -> None:
    if has(body, "Url"):
        url = get(body, "Url")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            raise ApiError(1354, "A valid 'Url' is required.")
        hook["Url"] = url
    for name in ("HttpAuth", "HttpHeaders"):
        if has(body, name):
            hook[name] = get(body, name)
    triggers = get(body, "Triggers")
    if isinstance(triggers, dict):
        for name, default in _ALL_TRIGGERS_OFF.items():
            value = get(triggers, name)
            if isinstance(value, dict):
                hook["Triggers"][name] = {k: get(value, k, v) for k, v in default.items()}


def _list_webhooks(call: Call) -> Any:
    stream = call.query.get("MessageStream")
    return {
        "Webhooks": [
            dict(w) for w in call.state.webhooks.values() if equals(w["MessageStream"], stream)
        ]
    }


def _create_webhook(call: Call) -> Any:
    body = json_object(call.body, 1355)
    if not body:
        raise ApiError(1355, "A request body is required.")
    if has(body, "ID"):
        raise ApiError(1356, "The 'ID' must not be provided when creating a webhook.")
    stream = call.state.stream(str(get(body, "MessageStream") or "outbound"))
    if stream is None:
        raise ApiError(1226, "The message stream for the provided 'ID' was not found.")
    if stream["ArchivedAt"] is not None:
        raise ApiError(1350, "Webhooks cannot be created on an archived stream.")
    if stream["MessageStreamType"] == "Inbound":
        raise ApiError(1351, "Webhooks cannot be created on the inbound stream.")
    if not has(body, "Url"):
        raise ApiError(1354, "A valid 'Url' is required.")
    hook: dict[str, Any] = {
        "ID": call.state.new_id("webhook", max(call.state.webhooks, default=1234567)),
        "Url": "",
        "MessageStream": stream["ID"],
        "HttpAuth": {"Username": "", "Password": ""},
        "HttpHeaders": [],
        "Triggers": copy.deepcopy(_ALL_TRIGGERS_OFF),
    }
    _settings(body, hook)
    call.state.webhooks[hook["ID"]] = hook
    return hook


def _edit_webhook(call: Call) -> Any:
    hook = WEBHOOKS.find(call)
    body = json_object(call.body, 1355)
    for immutable in ("ID", "MessageStream"):
        if has(body, immutable) and get(body, immutable) != hook[immutable]:
            raise ApiError(1357, "The 'ID' and 'MessageStream' of a webhook cannot be changed.")
    edited = copy.deepcopy(hook)
    _settings(body, edited)
    hook.update(edited)
    return dict(hook)


ROUTES = (
    route("GET", "/webhooks", _list_webhooks),
    route("POST", "/webhooks", _create_webhook),
    route("GET", "/webhooks/{id}", WEBHOOKS.get),
    route("PUT", "/webhooks/{id}", _edit_webhook),
    route("DELETE", "/webhooks/{id}", WEBHOOKS.delete),
)
