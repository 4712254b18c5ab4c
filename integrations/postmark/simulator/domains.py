"""Domains of the account: create, read, edit the Return-Path, delete, and verify or rotate
their DKIM, SPF and Return-Path records (the simulated DNS always holds what is expected)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from . import records
from .call import ApiError, Call, get, has, json_object, page
from .crud import Collection
from .routing import route

DOMAINS = Collection(
    "domains",
    "domainid",
    lambda: ApiError(510, "Domain not found."),
    lambda domain: f"Domain {domain['Name']} removed.",
)
DOMAIN_NAME = re.compile(r"^(?=.{1,255}$)([a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$", re.I)
_LISTED = ("ID", "Name", "SPFVerified", "DKIMVerified", "WeakDKIM", "ReturnPathDomainVerified")
_ROTATION_FIELDS = (
    "ID",
    "Name",
    "DKIMVerified",
    "WeakDKIM",
    "DKIMHost",
    "DKIMTextValue",
    "DKIMPendingHost",
    "DKIMPendingTextValue",
    "DKIMRevokedHost",
    "DKIMRevokedTextValue",
    "SafeToRemoveRevokedKeyFromDNS",
    "DKIMUpdateStatus",
)


def check_return_path(name: str, return_path: Any) -> None:
    if return_path and not str(return_path).lower().endswith("." + name.lower()):
        raise ApiError(511, f"The ReturnPathDomain must be a subdomain of {name}.")


def rotate_dkim(record: dict[str, Any], host_suffix: str) -> None:
    """Schedule a new DKIM key for a domain or a sender signature's domain."""
    if record["DKIMUpdateStatus"] == "Pending":
        raise ApiError(505, "This DKIM is already scheduled for renewal.")
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    record.update(
        DKIMPendingHost=f"{stamp}pm._domainkey.{host_suffix}",
        DKIMPendingTextValue=f"k=rsa;p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNrotated{stamp}",
        DKIMUpdateStatus="Pending",
    )


def _list_domains(call: Call) -> Any:
    rows = [{k: d[k] for k in _LISTED} for d in call.state.domains.values()]
    return page(rows, call.query, 500, "Domains")


def _create_domain(call: Call) -> Any:
    body = json_object(call.body)
    name = get(body, "Name")
    if not name:
        raise ApiError(514, "A Name is required to create a Domain.")
    if len(str(name)) > 255:
        raise ApiError(515, "The domain Name is too long.")
    if not DOMAIN_NAME.match(str(name)):
        raise ApiError(516, f"'{name}' is not a valid domain name.")
    if any(d["Name"].lower() == str(name).lower() for d in call.state.domains.values()):
        raise ApiError(512, "This domain already exists.")
    check_return_path(name, get(body, "ReturnPathDomain"))
    did = call.state.new_id("domain", max(call.state.domains))
    domain = records.domain(
        did,
        str(name).lower(),
        verified=False,
        return_path=str(get(body, "ReturnPathDomain") or ""),
    )
    call.state.domains[did] = domain
    return dict(domain)


def _edit_domain(call: Call) -> Any:
    domain = DOMAINS.find(call)
    body = json_object(call.body)
    if has(body, "ReturnPathDomain"):
        check_return_path(domain["Name"], get(body, "ReturnPathDomain"))
        domain.update(
            ReturnPathDomain=get(body, "ReturnPathDomain") or "", ReturnPathDomainVerified=False
        )
    return dict(domain)


def _verify_dkim(call: Call) -> Any:
    """A pending key becomes the active one; the active one, if any, is revoked."""
    record = DOMAINS.find(call)
    if record["DKIMPendingHost"]:
        if record["DKIMHost"]:
            record.update(
                DKIMRevokedHost=record["DKIMHost"], DKIMRevokedTextValue=record["DKIMTextValue"]
            )
        record.update(
            DKIMHost=record["DKIMPendingHost"],
            DKIMTextValue=record["DKIMPendingTextValue"],
            DKIMPendingHost="",
            DKIMPendingTextValue="",
        )
    record.update(DKIMVerified=True, DKIMUpdateStatus="Verified")
    return dict(record)


def _verify_return_path(call: Call) -> Any:
    domain = DOMAINS.find(call)
    domain["ReturnPathDomainVerified"] = bool(domain["ReturnPathDomain"])
    return dict(domain)


def _verify_spf(call: Call) -> Any:
    domain = DOMAINS.find(call)
    domain["SPFVerified"] = True
    return {k: domain[k] for k in ("SPFHost", "SPFVerified", "SPFTextValue")}


def _rotate_dkim(call: Call) -> Any:
    domain = DOMAINS.find(call)
    rotate_dkim(domain, domain["Name"])
    return {k: domain[k] for k in _ROTATION_FIELDS}


ROUTES = (
    route("GET", "/domains", _list_domains, token="account"),
    route("POST", "/domains", _create_domain, token="account"),
    route("GET", "/domains/{domainid}", DOMAINS.get, token="account"),
    route("PUT", "/domains/{domainid}", _edit_domain, token="account"),
    route("DELETE", "/domains/{domainid}", DOMAINS.delete, token="account"),
    route("PUT", "/domains/{domainid}/verifyDkim", _verify_dkim, token="account"),
    route("PUT", "/domains/{domainid}/verifyReturnPath", _verify_return_path, token="account"),
    route("POST", "/domains/{domainid}/verifyspf", _verify_spf, token="account"),
    route("POST", "/domains/{domainid}/rotatedkim", _rotate_dkim, token="account"),
    route("PUT", "/domains/{domainid}/verifyCustomTracking", DOMAINS.get, token="account"),
)
