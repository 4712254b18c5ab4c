"""Servers: the server token's own (`/server`) and the account's (`/servers`), with the
settings Postmark checks (a unique name, a known color, hook URLs, spam threshold...)."""

from __future__ import annotations

import re
from typing import Any

from . import records
from .call import ApiError, Call, contains, get, has, json_object, page
from .crud import Collection
from .routing import route
from .state import PostmarkState

SERVERS = Collection(
    "servers",
    "serverid",
    lambda: ApiError(601, "Server does not exist."),
    lambda server: f"Server {server['Name']} removed.",
)
_TRACK_LINKS = ("None", "HtmlAndText", "HtmlOnly", "TextOnly")
_COLORS = ("purple", "blue", "turquoise", "green", "red", "yellow", "grey", "orange")
_SERVER_FIELDS = (
    "Name",
    "Color",
    "RawEmailEnabled",
    "SmtpApiActivated",
    "InboundHookUrl",
    "BounceHookUrl",
    "OpenHookUrl",
    "DeliveryHookUrl",
    "ClickHookUrl",
    "PostFirstOpenOnly",
    "InboundDomain",
    "InboundSpamThreshold",
    "TrackOpens",
    "TrackLinks",
    "IncludeBounceContentInHook",
    "EnableSmtpApiErrorHooks",
)


def _apply_settings(state: PostmarkState, server: dict[str, Any], body: dict[str, Any]) -> None:
    changes = {k: get(body, k) for k in _SERVER_FIELDS if has(body, k)}
    if "Name" in changes:
        name = changes["Name"]
        if not isinstance(name, str) or not name.strip():
            raise ApiError(608, "The server name is missing or invalid.")
        if any(
            s["Name"].lower() == name.lower() and s["ID"] != server["ID"]
            for s in state.servers.values()
        ):
            raise ApiError(603, f"A server named '{name}' already exists.")
    if "Color" in changes and str(changes["Color"]).lower() not in _COLORS:
        raise ApiError(607, f"Invalid server color '{changes['Color']}'.")
    threshold = changes.get("InboundSpamThreshold")
    if threshold is not None and (
        not isinstance(threshold, int) or threshold % 5 or not 0 <= threshold <= 30
    ):
        raise ApiError(611, "InboundSpamThreshold must be 0 to 30 in steps of 5.")
    if "TrackLinks" in changes and changes["TrackLinks"] not in _TRACK_LINKS:
        raise ApiError(612, f"Invalid TrackLinks option '{changes['TrackLinks']}'.")
    for name, value in changes.items():
        if name.endswith("HookUrl") and value and not re.match(r"^https?://", str(value)):
            raise ApiError(606, f"Invalid webhook URL in {name}.")
    server.update(changes)


def _edit(call: Call, server: dict[str, Any]) -> Any:
    body = json_object(call.body)
    if not body:
        raise ApiError(609, "No updated server data received.")
    _apply_settings(call.state, server, body)
    return dict(server)


def _get_current_server(call: Call) -> Any:
    return dict(call.state.server)


def _edit_current_server(call: Call) -> Any:
    return _edit(call, call.state.server)


def _list_servers(call: Call) -> Any:
    rows = [
        dict(s) for s in call.state.servers.values() if contains(s["Name"], call.query.get("name"))
    ]
    return page(rows, call.query, 600, "Servers")


def _create_server(call: Call) -> Any:
    body = json_object(call.body)
    if not isinstance(get(body, "Name"), str):
        raise ApiError(608, "The server name is missing or invalid.")
    delivery = get(body, "DeliveryType") or "Live"
    if delivery not in ("Live", "Sandbox"):
        raise ApiError(613, f"Invalid DeliveryType '{delivery}'.")
    sid = call.state.new_id("server", max(call.state.servers))
    server = records.server(sid, "", f"server-token-{sid}", "purple", delivery)
    _apply_settings(call.state, server, body)
    call.state.servers[sid] = server
    return dict(server)


def _edit_server(call: Call) -> Any:
    return _edit(call, SERVERS.find(call))


def _delete_server(call: Call) -> Any:
    server = SERVERS.find(call)
    if not call.sim.server_delete_enabled:
        raise ApiError(604, "Deleting servers through the API is not enabled for this account.")
    return SERVERS.remove(call, server)


ROUTES = (
    route("GET", "/server", _get_current_server),
    route("PUT", "/server", _edit_current_server),
    route("GET", "/servers", _list_servers, token="account"),
    route("POST", "/servers", _create_server, token="account"),
    route("GET", "/servers/{serverid}", SERVERS.get, token="account"),
    route("PUT", "/servers/{serverid}", _edit_server, token="account"),
    route("DELETE", "/servers/{serverid}", _delete_server, token="account"),
)
