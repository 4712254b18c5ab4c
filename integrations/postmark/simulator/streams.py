"""Message streams: list, create, read, edit, archive and unarchive. The default
transactional and inbound streams cannot be archived; a server has one inbound stream."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from . import records
from .call import TZ, ApiError, Call, bool_param, get, has, json_object, now
from .routing import route

_STREAM_TYPES = ("Transactional", "Broadcasts", "Inbound")
_UNSUBSCRIBE_TYPES = ("None", "Postmark", "Custom")


def find_stream(call: Call, key: str = "stream_ID") -> dict[str, Any]:
    stream = call.state.stream(call.params[key])
    if stream is None:
        raise ApiError(1226, "The message stream for the provided 'ID' was not found.")
    return stream


def _settings(body: dict[str, Any], stream: dict[str, Any]) -> None:
    if has(body, "Name"):
        name = get(body, "Name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(1223, "A message stream needs a Name.")
        if len(name) > 60:
            raise ApiError(1224, "The message stream Name is too long.")
        stream["Name"] = name
    if has(body, "Description"):
        description = get(body, "Description")
        if description and re.search(r"<[^>]+>", str(description)):
            raise ApiError(1234, "The message stream Description must not contain HTML.")
        stream["Description"] = description
    config = get(body, "SubscriptionManagementConfiguration")
    if isinstance(config, dict):
        handling = get(config, "UnsubscribeHandlingType")
        if handling not in _UNSUBSCRIBE_TYPES:
            raise ApiError(1240, f"Invalid UnsubscribeHandlingType '{handling}'.")
        stream["SubscriptionManagementConfiguration"] = {"UnsubscribeHandlingType": handling}


def _list_streams(call: Call) -> Any:
    kind = call.query.get("MessageStreamType") or "All"
    if kind.lower() not in ("all", *(t.lower() for t in _STREAM_TYPES)):
        raise ApiError(1221, f"Invalid MessageStreamType '{kind}'.")
    archived = bool_param(call.query, "IncludeArchivedStreams", 1221) or False
    rows = [
        dict(s)
        for s in call.state.streams.values()
        if kind.lower() in ("all", s["MessageStreamType"].lower())
        and (archived or s["ArchivedAt"] is None)
    ]
    return {"MessageStreams": rows, "TotalCount": len(rows)}


def _create_stream(call: Call) -> Any:
    body = json_object(call.body)
    sid = get(body, "ID")
    if not isinstance(sid, str) or not sid:
        raise ApiError(1222, "A message stream needs an ID.")
    if sid.lower().startswith("pm-"):
        raise ApiError(1233, "A message stream ID cannot start with 'pm-'.")
    if not re.match(r"^[a-z][a-z0-9-]{0,29}$", sid):
        raise ApiError(
            1227,
            "A stream ID has at most 30 characters: lowercase letters, digits "
            "and dashes, starting with a letter.",
        )
    if call.state.stream(sid) is not None:
        raise ApiError(1230, f"A message stream with the ID '{sid}' already exists.")
    kind = get(body, "MessageStreamType")
    if kind not in _STREAM_TYPES:
        raise ApiError(1221, f"Invalid MessageStreamType '{kind}'.")
    if kind == "Inbound":
        raise ApiError(1228, "A server can have only one inbound stream.")
    if len(call.state.streams) >= 10:
        raise ApiError(1225, "The maximum number of message streams has been reached.")
    if not has(body, "Name"):
        raise ApiError(1223, "A message stream needs a Name.")
    unsubscribe = "Postmark" if kind == "Broadcasts" else "None"
    stream = records.stream(sid, "", kind, None, now(), unsubscribe)
    _settings(body, stream)
    call.state.streams[sid] = stream
    return stream


def _get_stream(call: Call) -> Any:
    return dict(find_stream(call))


def _edit_stream(call: Call) -> Any:
    stream = find_stream(call)
    body = json_object(call.body)
    for immutable in ("ID", "MessageStreamType"):
        value = get(body, immutable)
        if value is not None and value != stream[immutable]:
            raise ApiError(
                1222 if immutable == "ID" else 1221,
                f"The {immutable} of a message stream cannot be changed.",
            )
    _settings(body, stream)
    stream["UpdatedAt"] = now()
    return dict(stream)


def _archive_stream(call: Call) -> Any:
    stream = find_stream(call)
    if stream["ID"] in ("outbound", "inbound"):
        raise ApiError(1229, "The default transactional and inbound streams cannot be archived.")
    purge = datetime.now(TZ) + timedelta(days=45)
    stream.update(ArchivedAt=now(), ExpectedPurgeDate=purge.isoformat(timespec="seconds"))
    return {
        "ID": stream["ID"],
        "ServerID": stream["ServerID"],
        "ExpectedPurgeDate": stream["ExpectedPurgeDate"],
    }


def _unarchive_stream(call: Call) -> Any:
    stream = find_stream(call)
    stream.update(ArchivedAt=None, ExpectedPurgeDate=None, UpdatedAt=now())
    return dict(stream)


ROUTES = (
    route("GET", "/message-streams", _list_streams),
    route("POST", "/message-streams", _create_stream),
    route("GET", "/message-streams/{stream_ID}", _get_stream),
    route("PATCH", "/message-streams/{stream_ID}", _edit_stream),
    route("POST", "/message-streams/{stream_ID}/archive", _archive_stream),
    route("POST", "/message-streams/{stream_ID}/unarchive", _unarchive_stream),
)
