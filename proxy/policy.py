"""Policies, guardrails, and the one decision function behind `tools/list` and `tools/call`.

A server's *effective policy* is its own config (inline, or a named file in
`policies/`) under the guardrails every server obeys. `decide` says whether a tool
is exposed, and why not; the same answer filters the listing and authorises calls,
so hiding a tool is never the only protection. `check_arguments` enforces the
argument constraints of a call that is allowed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .addresses import EmailDomains, allowed_domain
from .config_files import read_yaml, validate_model
from .errors import ConfigError
from .store import ApprovalRule, ServerConfig, ServerRecord
from .store.base import check_methods
from .tools import Tool


class Constraint(BaseModel):
    """A rule for one argument of a call: allowed values, a pattern, or email domains."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enum: list[Any] | None = Field(None, description="The only values allowed.")
    pattern: str | None = Field(None, description="A regular expression each value must match.")
    split: str | None = Field(
        None, description='Check each part of a list in one string, e.g. "," for Tag lists.'
    )
    email_domains: list[str] | None = Field(
        None,
        min_length=1,
        description="The value is an RFC 5322 address list (commas or semicolons, display "
        'names, quoted locals); every address must be at one of these domains. "*.example.com" '
        "allows subdomains of example.com (not example.com itself). Anything that does not "
        "parse cleanly is refused.",
    )
    required: bool = Field(False, description="Refuse calls that leave the argument out.")

    @field_validator("email_domains")
    @classmethod
    def _domains(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for entry in value:
                if allowed_domain(entry) is None:
                    raise ValueError(
                        f"{entry!r} is not a domain (use example.com or *.example.com)"
                    )
        return value

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _has_a_rule(self) -> Constraint:
        if (
            self.enum is None
            and self.pattern is None
            and self.email_domains is None
            and not self.required
        ):
            raise ValueError("a constraint needs enum, pattern, email_domains or required")
        if self.email_domains is not None and (self.split is not None or self.enum is not None):
            raise ValueError("email_domains parses the address list itself: drop split and enum")
        return self


# tool name or glob -> argument (a JMESPath over the arguments) -> rule
Constraints = dict[str, dict[str, Constraint]]


class PolicyFile(BaseModel):
    """A named policy, `policies/<name>.yaml`, that servers reference by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    methods: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    deny_tools: list[str] = Field(
        default_factory=list,
        description="Tool names or globs taken out of what methods/tags grant.",
    )
    constraints: Constraints = Field(default_factory=dict)
    require_api_token_auth: bool = False
    approval: ApprovalRule | None = Field(
        None, description="Tools whose every call waits for a person's approval."
    )
    tool_exposure: Literal["all", "discovery"] = Field(
        "all", description="discovery: list three tools that search, describe and call."
    )
    expires_at: datetime | None = Field(
        None, description="After this time no server using the policy answers."
    )

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: list[str]) -> list[str]:
        return check_methods(value)


class GuardrailRules(BaseModel):
    """What one block of `policies/guardrails.yaml` holds back: the file's top level (every
    integration) or one `integrations.<name>` block (that integration's tools only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    require_api_token_for_tags: list[str] = Field(
        default_factory=list,
        description="Tools with any of these tags are exposed only with API-token auth.",
    )
    deny_tools: list[str] = Field(
        default_factory=list, description="Tool names or globs no server may expose."
    )
    constraints: Constraints = Field(default_factory=dict)
    approval: ApprovalRule | None = Field(
        None,
        description="Tools that need a person's approval on every server, whatever its "
        "own config says.",
    )


class Guardrails(GuardrailRules):
    """`policies/guardrails.yaml`: rules every server obeys, whatever its own config."""

    max_lifetime_days: float | None = Field(
        None, gt=0, description="Longest a server may live; also the default expiry."
    )
    integrations: dict[str, GuardrailRules] = Field(
        default_factory=dict,
        description="Rules for one integration's tools only, by integration name, with the "
        "same keys as the top level; they add to the top-level rules.",
    )

    def scopes(self, integration: str) -> list[tuple[str, GuardrailRules]]:
        """The blocks that apply to an integration's tools, each with the prefix that names
        its rules in the file: the top level (""), then `integrations.<name>.`."""
        blocks: list[tuple[str, GuardrailRules]] = [("", self)]
        scoped = self.integrations.get(integration)
        if scoped is not None:
            blocks.append((f"integrations.{integration}.", scoped))
        return blocks


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled constraint, with where it came from for error messages."""

    source: str  # "policy 'x'", "server config" or "guardrails"
    tool_glob: str
    argument: str
    expression: ParsedResult
    constraint: Constraint
    regex: re.Pattern[str] | None
    domains: EmailDomains | None = None
    integration: str | None = None  # a scoped guardrail: only this integration's tools


@dataclass(frozen=True, slots=True)
class Effective:
    """What one server may do, all sources merged."""

    methods: tuple[str, ...]
    tags: tuple[str, ...]
    deny_tools: tuple[str, ...]
    rules: tuple[Rule, ...]
    require_api_token_auth: bool
    expires_at: datetime | None
    source: str
    approvals: tuple[ApprovalRule, ...] = ()
    tool_exposure: str = "all"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str | None = None
    by_guardrail: bool = False
    # A guardrail's refusal, in parts: the rule ("deny_tools" or
    # "require_api_token_for_tags") and what of it matched (the pattern, or the tags).
    guardrail: str | None = None
    matched: tuple[str, ...] = ()
    scope: str | None = None  # the integration a scoped guardrail was written for


@dataclass(slots=True)
class PolicySet:
    """Guardrails and named policies as loaded from the policies folder."""

    guardrails: Guardrails = field(default_factory=Guardrails)
    named: dict[str, PolicyFile] = field(default_factory=dict)
    guardrail_rules: tuple[Rule, ...] = ()
    named_rules: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    folder: Path | None = None

    def effective(self, config: ServerConfig, record: ServerRecord | None = None) -> Effective:
        """The policy a server runs under. Raises KeyError for an unknown policy name."""
        if config.policy is not None:
            named = self.named[config.policy]
            rules = self.named_rules[config.policy] + compile_rules(
                config.constraints, "server config", "server config"
            )
            expires = _earliest(named.expires_at, record.expires_at if record else None)
            return Effective(
                methods=tuple(named.methods),
                tags=tuple(named.tags),
                deny_tools=tuple(named.deny_tools),
                rules=rules,
                require_api_token_auth=named.require_api_token_auth
                or bool(record and record.require_api_token_auth),
                expires_at=self._capped(expires, record),
                source=f"policy {config.policy!r}",
                approvals=tuple(r for r in (named.approval, config.approval) if r is not None),
                tool_exposure=config.tool_exposure or named.tool_exposure,
            )
        return Effective(
            methods=tuple(config.methods),
            tags=tuple(config.tags),
            deny_tools=(),
            rules=compile_rules(config.constraints, "server config", "server config"),
            require_api_token_auth=bool(record and record.require_api_token_auth),
            expires_at=self._capped(record.expires_at if record else None, record),
            source="server config",
            approvals=(config.approval,) if config.approval is not None else (),
            tool_exposure=config.tool_exposure or "all",
        )

    def expiry(self, record: ServerRecord) -> datetime | None:
        """When the server stops answering: its own expiry, its policy's, the guardrail's."""
        named = self.named.get(record.config.policy) if record.config.policy else None
        return self._capped(
            _earliest(record.expires_at, named.expires_at if named else None), record
        )

    def _capped(self, expires: datetime | None, record: ServerRecord | None) -> datetime | None:
        days = self.guardrails.max_lifetime_days
        if days is None or record is None:
            return expires
        return _earliest(expires, record.created_at + timedelta(days=days))


def _earliest(*times: datetime | None) -> datetime | None:
    present = [t for t in times if t is not None]
    return min(present) if present else None


def compile_rules(
    constraints: Constraints | dict,
    source: str,
    file: str,
    *,
    integration: str | None = None,
    prefix: str = "",
) -> tuple[Rule, ...]:
    """Compile a `constraints` block; `integration` scopes the rules to that integration's
    tools and `prefix` is where the block sits in its file (for error messages)."""
    rules = []
    for tool_glob, arguments in constraints.items():
        for argument, constraint in arguments.items():
            where = f"{prefix}constraints.{tool_glob}.{argument}"
            if not isinstance(constraint, Constraint):
                try:
                    constraint = validate_model(Constraint, constraint, file)
                except ConfigError as exc:  # say where in the constraints, not just the key
                    raise ConfigError(file, f"{where}.{exc.path}".rstrip("."), exc.reason) from None
            try:
                expression = jmespath.compile(argument)
            except JMESPathError:
                raise ConfigError(file, where, "not an argument name or JMESPath") from None
            regex = re.compile(constraint.pattern) if constraint.pattern else None
            domains = (
                EmailDomains.of(constraint.email_domains) if constraint.email_domains else None
            )
            rules.append(
                Rule(
                    source,
                    tool_glob,
                    argument,
                    expression,
                    constraint,
                    regex,
                    domains,
                    integration,
                )
            )
    return tuple(rules)


def load_policies(folder: Path) -> PolicySet:
    """Read `guardrails.yaml` and every other `*.yaml` in the folder (a missing folder: none)."""
    if not folder.is_dir():
        return PolicySet(folder=folder)
    guardrails = Guardrails()
    rules: tuple[Rule, ...] = ()
    file = folder / "guardrails.yaml"
    if file.exists():
        guardrails = validate_model(Guardrails, read_yaml(file) or {}, str(file))
        rules = compile_rules(guardrails.constraints, "guardrails", str(file))
        for name, scoped in guardrails.integrations.items():
            rules += compile_rules(
                scoped.constraints,
                f"guardrails integrations.{name}",
                str(file),
                integration=name,
                prefix=f"integrations.{name}.",
            )
    named, named_rules = {}, {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "guardrails.yaml":
            continue
        name = path.stem
        policy = validate_model(PolicyFile, read_yaml(path) or {}, str(path))
        named[name] = policy
        named_rules[name] = compile_rules(policy.constraints, f"policy {name!r}", str(path))
    return PolicySet(guardrails, named, rules, named_rules, folder)


def decide(policies: PolicySet, effective: Effective, tool: Tool) -> Decision:
    """Whether a server under `effective` exposes `tool`, and if not, why.

    The server's own policy is asked first, so a guardrail is only named as the reason
    when it takes away something the policy would have granted.
    """
    if effective.methods and not (
        tool.access in effective.methods or tool.kind in effective.methods
    ):
        return Decision(
            False, f"method {tool.kind} ({tool.access}) not in {list(effective.methods)}"
        )
    if effective.tags and tool.tags.isdisjoint(effective.tags):
        return Decision(False, f"tags {sorted(tool.tags)} not in {list(effective.tags)}")
    for pattern in effective.deny_tools:
        if fnmatch.fnmatchcase(tool.name, pattern):
            return Decision(False, f"{effective.source} deny_tools: {pattern}")
    scopes = policies.guardrails.scopes(tool.integration)
    for where, rails in scopes:
        for pattern in rails.deny_tools:
            if fnmatch.fnmatchcase(tool.name, pattern):
                return Decision(
                    False,
                    f"guardrail {where}deny_tools: {pattern}",
                    by_guardrail=True,
                    guardrail="deny_tools",
                    matched=(pattern,),
                    scope=tool.integration if where else None,
                )
    if not effective.require_api_token_auth:
        needs_token = [
            (where, sorted(tool.tags.intersection(rails.require_api_token_for_tags)))
            for where, rails in scopes
        ]
        needs_token = [(where, tags) for where, tags in needs_token if tags]
        if needs_token:
            where, tags = needs_token[0]
            return Decision(
                False,
                f"guardrail {where}require_api_token_for_tags: {tags[0]} "
                "(server has no API-token auth)",
                by_guardrail=True,
                guardrail="require_api_token_for_tags",
                matched=tuple(sorted({tag for _, tags in needs_token for tag in tags})),
                scope=tool.integration if where else None,
            )
    return Decision(True)


def _approval_matches(rule: ApprovalRule, tool: Tool) -> bool:
    return (
        tool.access in rule.methods
        or tool.kind in rule.methods
        or not tool.tags.isdisjoint(rule.tags)
        or any(fnmatch.fnmatchcase(tool.name, pattern) for pattern in rule.tools)
    )


def approval_window(policies: PolicySet, effective: Effective, tool: Tool) -> float | None:
    """Seconds a call of `tool` waits for a person's decision, or None when it needs none.
    The server's config, its named policy and the guardrails each add tools; the shortest
    window of those that match wins."""
    rules = list(effective.approvals)
    rules += [r.approval for _, r in policies.guardrails.scopes(tool.integration) if r.approval]
    windows = [rule.expires_in for rule in rules if _approval_matches(rule, tool)]
    return min(windows) if windows else None


def guardrail_warnings(guardrails: Guardrails, tools: Iterable[Tool]) -> list[tuple[str, str]]:
    """What `yamcp lint` warns about in the guardrails, as (key, message): a top-level tag
    that tags tools of several integrations (written for one, it holds back the others'
    tools too), and a scoped block whose integration is not loaded or whose tags and
    deny_tools match none of its integration's tools."""
    tags: dict[str, set[str]] = {}
    names: dict[str, set[str]] = {}
    for tool in tools:
        names.setdefault(tool.integration, set()).add(tool.name)
        for tag in tool.tags:
            tags.setdefault(tag, set()).add(tool.integration)
    warnings = []
    key = "require_api_token_for_tags"
    for tag in guardrails.require_api_token_for_tags:
        owners = sorted(tags.get(tag, ()))
        if len(owners) > 1:
            warnings.append(
                (
                    f"{key}: {tag}",
                    f"tags tools of {len(owners)} integrations ({', '.join(owners)}); if it "
                    f"was written for one, move it to integrations.<name>.{key}",
                )
            )
    for integration, rails in guardrails.integrations.items():
        where = f"integrations.{integration}"
        if integration not in names:
            warnings.append(
                (
                    where,
                    f"no integration {integration!r} is loaded (have: "
                    f"{', '.join(sorted(names))}); its rules apply to no tool",
                )
            )
            continue
        for tag in rails.require_api_token_for_tags:
            if integration not in tags.get(tag, ()):
                warnings.append((f"{where}.{key}: {tag}", f"no {integration} tool has this tag"))
        for pattern in rails.deny_tools:
            if not fnmatch.filter(names[integration], pattern):
                warnings.append(
                    (f"{where}.deny_tools: {pattern}", f"matches no {integration} tool")
                )
    return warnings


def rules_for(policies: PolicySet, effective: Effective, tool: Tool) -> tuple[Rule, ...]:
    """The constraints that apply to calls of `tool`, guardrails first."""
    return tuple(
        rule
        for rule in (*policies.guardrail_rules, *effective.rules)
        if rule.integration in (None, tool.integration)
        and fnmatch.fnmatchcase(tool.name, rule.tool_glob)
    )


def check_arguments(rules: tuple[Rule, ...], arguments: dict[str, Any]) -> list[str]:
    """One line per broken rule; [] when the call may go ahead."""
    problems = []
    for rule in rules:
        value = rule.expression.search(arguments)
        c = rule.constraint
        if value is None or value == []:
            if c.required:
                problems.append(f"{rule.source}: {rule.argument} is required")
            continue
        values = value if isinstance(value, list) else [value]
        if rule.domains is not None:
            problems += rule.domains.check(values, f"{rule.source}: {rule.argument}")
            if rule.regex is None:
                continue
        where = f"{rule.source}: {rule.argument}"
        if any(isinstance(v, dict | list) for v in values):
            # A rule constrains values; an object or array in their place is refused, and
            # never stringified (a deep one would exhaust repr's recursion).
            problems.append(f"{where} must be a plain value, not an object or array")
            continue
        if c.split is not None:
            values = [
                part.strip() for v in values for part in str(v).split(c.split) if part.strip()
            ]
        for item in values:
            if c.enum is not None and item not in c.enum:
                problems.append(f"{where} {item!r:.200} is not one of {c.enum}")
            elif rule.regex is not None and not rule.regex.search(str(item)):
                # The pattern as the policy writes it: repr would double each backslash.
                problems.append(f"{where} {item!r:.200} does not match pattern {c.pattern}")
    return problems


def describe_rule(rule: Rule) -> str:
    c = rule.constraint
    parts = []
    if c.enum is not None:
        parts.append(f"enum {c.enum}")
    if c.pattern is not None:
        parts.append(f"pattern {c.pattern}")
    if c.split is not None:
        parts.append(f"each part split by {c.split!r}")
    if c.email_domains is not None:
        parts.append(f"email_domains {c.email_domains}")
    if c.required:
        parts.append("required")
    return f"{rule.argument}: {', '.join(parts)} ({rule.source})"


def plan(policies: PolicySet, effective: Effective, tools: Iterable[Tool]) -> dict[str, Any]:
    """What a policy grants, stably sorted: the tools with their constraints, and what
    is left out and why. `yamcp plan` prints it; the admin preview returns it."""
    granted, excluded, withheld = [], [], []
    for tool in sorted(tools, key=lambda t: t.name):
        decision = decide(policies, effective, tool)
        if decision.by_guardrail:
            withheld.append((tool.name, decision))
        if decision.allowed:
            entry: dict[str, Any] = {
                "name": tool.name,
                "access": tool.access,
                "tags": sorted(tool.tags),
                "constraints": [
                    describe_rule(rule) for rule in rules_for(policies, effective, tool)
                ],
            }
            window = approval_window(policies, effective, tool)
            if window is not None:
                entry["approval"] = {"expires_in": window}
            granted.append(entry)
        else:
            excluded.append(
                {"name": tool.name, "reason": decision.reason, "guardrail": decision.by_guardrail}
            )
    summary = _summary(len(granted), len(granted) + len(excluded), withheld)
    return {"tools": granted, "excluded": excluded, "summary": summary}


def _summary(exposed: int, total: int, withheld: list[tuple[str, Decision]]) -> dict[str, Any]:
    """How many tools a server gets of all it could, and what the guardrails held back and
    why, as figures and as the one line `yamcp mint` prints."""
    need = [d for _, d in withheld if d.guardrail == "require_api_token_for_tags"]
    denied = [name for name, d in withheld if d.guardrail == "deny_tools"]
    tags = sorted({tag for d in need for tag in d.matched})
    text = f"{exposed} of {total} tools"
    reasons = []
    if need:
        reasons.append(
            f"{len(need)} tagged {', '.join(tags)} need API-token auth (--require-api-token-auth)"
        )
    if denied:
        reasons.append(f"{len(denied)} no server may expose ({', '.join(denied)})")
    if withheld:
        text += f"; {len(withheld)} withheld by guardrails: " + "; ".join(reasons)
    return {
        "exposed": exposed,
        "total": total,
        "withheld_by_guardrails": len(withheld),
        "need_api_token": {"tools": len(need), "tags": tags},
        "denied": {"tools": len(denied), "names": denied},
        "text": text,
    }
