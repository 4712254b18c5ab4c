"""Sender signatures: create (not on a public mail domain), read, edit, delete, resend the
confirmation, verify SPF and request a new DKIM key; and which From addresses may send."""

from __future__ import annotations

from typing import Any

from . import records
from .call import EMAIL, ApiError, Call, get, has, json_object, ok, page
from .crud import Collection
from .domains import check_return_path, rotate_dkim
from .routing import route
from .state import PostmarkState

SENDERS = Collection(
    "senders",
    "signatureid",
    lambda: ApiError(501, "Sender Signature not found."),
    lambda sender: f"Signature {sender['EmailAddress']} removed.",
)
_PUBLIC_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com")
_LISTED = ("ID", "Domain", "EmailAddress", "ReplyToEmailAddress", "Name", "Confirmed")


def check_sender(state: PostmarkState, sender: str, address: str) -> None:
    """Postmark sends from a confirmed sender signature, or from any address of a domain
    whose DKIM is verified; `sender` is the From as supplied, which its refusal quotes."""
    domain = address.rsplit("@", 1)[-1].lower()
    if any(d["Name"].lower() == domain and d["DKIMVerified"] for d in state.domains.values()):
        return
    wanted = address.lower()
    signature = next(
        (s for s in state.senders.values() if s["EmailAddress"].lower() == wanted), None
    )
    if signature is None:
        raise ApiError(
            400,
            f"The 'From' address you supplied ({sender}) is not a Sender Signature on your "
            "account. Please add and confirm this address in order to be able to use it in "
            "the 'From' field of your messages.",
        )
    if not signature["Confirmed"]:
        raise ApiError(401, "Sender signature not confirmed")


def _settings(sender: dict[str, Any], body: dict[str, Any]) -> None:
    name = get(body, "Name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(520, "The 'Name' field is required.")
    note = get(body, "ConfirmationPersonalNote")
    if note is not None and len(str(note)) > 400:
        raise ApiError(521, "ConfirmationPersonalNote is longer than 400 characters.")
    reply_to = get(body, "ReplyToEmail")
    if reply_to and not EMAIL.match(str(reply_to)):
        raise ApiError(522, f"Invalid ReplyToEmail '{reply_to}'.")
    check_return_path(sender["Domain"], get(body, "ReturnPathDomain"))
    sender["Name"] = name
    if reply_to is not None:
        sender["ReplyToEmailAddress"] = reply_to
    if note is not None:
        sender["ConfirmationPersonalNote"] = note
    if has(body, "ReturnPathDomain"):
        sender["ReturnPathDomain"] = get(body, "ReturnPathDomain") or ""


def _list_senders(call: Call) -> Any:
    rows = [{k: s[k] for k in _LISTED} for s in call.state.senders.values()]
    return page(rows, call.query, 500, "SenderSignatures")


def _create_sender(call: Call) -> Any:
    body = json_object(call.body)
    email = get(body, "FromEmail")
    if not email or not get(body, "Name"):
        raise ApiError(520, "FromEmail and Name are required to create a Sender Signature.")
    if not EMAIL.match(str(email)):
        raise ApiError(522, f"Invalid FromEmail '{email}'.")
    domain_name = str(email).split("@")[1].lower()
    if domain_name in _PUBLIC_DOMAINS:
        raise ApiError(503, "You cannot use a public domain.")
    if any(s["EmailAddress"].lower() == str(email).lower() for s in call.state.senders.values()):
        raise ApiError(504, "This Sender Signature already exists.")
    sid = call.state.new_id("sender", max(call.state.senders))
    domain = next(
        (d for d in call.state.domains.values() if d["Name"] == domain_name),
        records.domain(0, domain_name, verified=False, return_path=""),
    )
    sender = records.sender(sid, str(email), "", domain, confirmed=False)
    _settings(sender, body)
    call.state.senders[sid] = sender
    return dict(sender)


def _edit_sender(call: Call) -> Any:
    sender = SENDERS.find(call)
    edited = dict(sender)
    _settings(edited, json_object(call.body))
    sender.update(edited)
    return dict(sender)


def _resend_confirmation(call: Call) -> Any:
    sender = SENDERS.find(call)
    if sender["Confirmed"]:
        raise ApiError(506, "This Sender Signature has already been confirmed.")
    return ok(f"Confirmation email for Sender Signature {sender['EmailAddress']} was re-sent.")


def _verify_spf(call: Call) -> Any:
    sender = SENDERS.find(call)
    sender["SPFVerified"] = True
    return dict(sender)


def _request_new_dkim(call: Call) -> Any:
    sender = SENDERS.find(call)
    rotate_dkim(sender, sender["Domain"])
    return ok(f"A new DKIM key was requested for {sender['Domain']}.")


ROUTES = (
    route("GET", "/senders", _list_senders, token="account"),
    route("POST", "/senders", _create_sender, token="account"),
    route("GET", "/senders/{signatureid}", SENDERS.get, token="account"),
    route("PUT", "/senders/{signatureid}", _edit_sender, token="account"),
    route("DELETE", "/senders/{signatureid}", SENDERS.delete, token="account"),
    route("POST", "/senders/{signatureid}/resend", _resend_confirmation, token="account"),
    route("POST", "/senders/{signatureid}/verifyspf", _verify_spf, token="account"),
    route("POST", "/senders/{signatureid}/requestnewdkim", _request_new_dkim, token="account"),
)
