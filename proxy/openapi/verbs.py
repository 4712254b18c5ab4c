"""What an operation does, by its verb, path and names: sends, reads, acts, changes many.

The words a POST sends by (`send`, `charge`, `publish`), the actions that only read or only
answer, the GETs that act, bulk updates, OAuth token endpoints: each a plain function of the
verb, path and operation, which the importer (build.py) turns into kinds, access and review
lines.
"""

from __future__ import annotations

import re
from typing import Any

from ..manifest import MethodKind
from . import naming
from .naming import snake
from .text import words_of

PARAM = re.compile(r"{([^{}]+)}")


# A POST is send-like when its verb sends (the summary's or operationId's first word, or
# the path's last segment), or when it creates something that is sent on creation. (`text`
# is no verb here: Box's POST /ai/text_gen generates text, it sends nothing.)
SEND_VERBS = {
    "send", "resend", "deliver", "dispatch", "broadcast", "notify", "charge", "refund",
    "payout", "transfer", "call", "dial", "publish", "trigger",
}  # fmt: skip


SENT_THINGS = {"email", "emails", "message", "messages", "sms", "mms", "mail", "calls", "fax"}


READING_ACTIONS = {"search", "validate", "validation", "preview", "lookup", "query"}


# POSTs that compute an answer and change nothing: Box's /ai/ask and /ai/text_gen.
ANSWERING_ACTIONS = {"ask", "gen", "completion", "embedding", "summarize", "translate"}


def answers(path: str) -> bool:
    """A POST whose last segment asks for an answer (`/ai/ask`, `/ai/text_gen`)."""
    words = naming.last_segment(path).split("_")
    return bool({naming.singular(w) for w in words} & ANSWERING_ACTIONS)


def reads(path: str) -> bool:
    """A POST that only reads: search, validate, preview (Postmark's /templates/validate)."""
    words = {w for s in naming.static_segments(path) for w in snake(s).split("_")}
    return bool({naming.singular(w) for w in words} & READING_ACTIONS)


# First words of a GET that changes state (Slack's auth.revoke, apps.uninstall, views.open).
ACTING = frozenset((
        "revoke", "uninstall", "install", "open", "publish", "delete", "remove", "close",
        "archive", "unarchive", "invite", "kick", "join", "leave", "rename", "set", "add",
        "create", "send", "post", "update", "cancel", "disable", "enable", "reset", "merge",
        "snooze", "acknowledge", "resolve", "trigger", "logout", "approve", "deny",
))  # fmt: skip


def acting_get(verb: str, path: str, op: dict) -> str | None:
    """The acting word of a GET whose method name or summary says it acts, if any."""
    if verb != "get":
        return None
    last = re.split(r"[^A-Za-z]+", path.rstrip("/").rsplit("/", 1)[-1].lower())
    summary = str(op.get("summary") or "").split(" ", 1)[0].lower()
    for word in (last[-1] if last else "", summary):
        if word in ACTING:
            return word
    return None


def changes_many(path: str, op: dict[str, Any]) -> bool:
    """A PUT/PATCH of a whole collection whose operation id says it changes many
    (`updateIncidents`), beside the update of one (`updateIncident` on /incidents/{id})."""
    if names_one(path):
        return False
    words = words_of(str(op.get("operationId") or "")).lower().split()
    return (
        len(words) >= 2
        and words[0] in ("update", "manage", "patch", "put")
        and (naming.singular(words[-1]) != words[-1])
    )


def token_endpoint(path: str, op: dict[str, Any]) -> bool:
    """An OAuth token endpoint (Box's POST /oauth2/token, `security: []`): what it hands
    out is the credential an account already holds, so no agent should call it."""
    statics = [s.lower() for s in path.partition("#")[0].strip("/").split("/")]
    return (
        op.get("security") == []
        and "token" in statics[-1:]
        and any(s.startswith("oauth") for s in statics)
    )


def names_one(path: str) -> bool:
    """`/calls/{Sid}` and Twilio's `/Calls/{Sid}.json` name one object."""
    tail = re.sub(r"\.(json|xml)$", "", path.rstrip("/").rsplit("/", 1)[-1])
    return bool(PARAM.fullmatch(tail))


def put_kind(path: str) -> MethodKind:
    """PUT /bounces/{id}/activate is an action (create); PUT /pet, PATCH /x/{id}/topics update."""
    segments = [re.sub(r"\.(json|xml)$", "", s) for s in path.rstrip("/").split("/") if s]
    if not segments or names_one(path):
        return "update"
    if naming.is_action(path):
        return "create"
    last = naming.last_segment(path).split("_")[-1]
    after_param = len(segments) > 1 and bool(PARAM.fullmatch(segments[-2]))
    if after_param and naming.singular(last) == last:  # /domains/{id}/verifydkim
        return "create"
    return "update"
