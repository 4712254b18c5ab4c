"""Inbound rule triggers: the addresses and domains whose mail the inbound stream blocks."""

from __future__ import annotations

from typing import Any

from .call import EMAIL, ApiError, Call, get, json_object, page
from .crud import Collection
from .domains import DOMAIN_NAME
from .routing import route

INBOUND_RULES = Collection(
    "inbound_rules",
    "triggerid",
    lambda: ApiError(812, "Inbound rule not found."),
    lambda rule: f"Rule {rule['Rule']} removed.",
)


def _list_inbound_rules(call: Call) -> Any:
    rows = [dict(r) for r in call.state.inbound_rules.values()]
    return page(rows, call.query, 800, "InboundRules")


def _create_inbound_rule(call: Call) -> Any:
    rule = get(json_object(call.body, 809), "Rule")
    if not rule:
        raise ApiError(809, "No trigger data received.")
    rule = str(rule)
    if not (EMAIL.match(rule) or DOMAIN_NAME.match(rule)):
        raise ApiError(813, f"'{rule}' is not a valid email address or domain.")
    if any(r["Rule"].lower() == rule.lower() for r in call.state.inbound_rules.values()):
        raise ApiError(810, "This inbound rule already exists.")
    rid = call.state.new_id("inbound-rule", max(call.state.inbound_rules, default=5))
    call.state.inbound_rules[rid] = {"ID": rid, "Rule": rule}
    return dict(call.state.inbound_rules[rid])


ROUTES = (
    route("GET", "/triggers/inboundrules", _list_inbound_rules),
    route("POST", "/triggers/inboundrules", _create_inbound_rule),
    route("DELETE", "/triggers/inboundrules/{triggerid}", INBOUND_RULES.delete),
)
