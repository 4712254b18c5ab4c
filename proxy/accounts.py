"""Integrated accounts: which integration, where, and credentials from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from jsonschema import Draft202012Validator
from pydantic import Field, field_validator

from .config_files import Strict, read_yaml, validate_model
from .errors import ConfigError
from .manifest import SETTING_NAME

if TYPE_CHECKING:
    from .registry import Registry

_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
# `{name}` in a base URL, filled from the account's `settings`.
PLACEHOLDER = re.compile(r"{([^{}]*)}")
SETTING_NAME_RE = re.compile(SETTING_NAME)
# A value with one of these would change the URL's shape (path, query, fragment, user, port).
_FORBIDDEN_IN_SETTING = "/?#@:"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AccountSpec(Strict):
    integration: str
    base_url: str | None = Field(
        None,
        description="http(s)://host[:port][/path]: no user, password, query or fragment, "
        "where a literal secret could hide; credentials go under `credentials`.",
    )
    credentials: dict[str, str] = Field(
        default_factory=dict, description="Values must be ${ENV_VAR} references."
    )
    defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="Argument defaults for this account's tools (e.g. From, MessageStream), "
        "applied when a call leaves the argument out and shown to the model in tools/list; "
        "never a secret.",
    )

    settings: dict[str, str] = Field(
        default_factory=dict,
        description="Plain, non-secret values by name (region, account_sid) that fill the "
        "`{name}` placeholders of the base URL, the manifest's or this account's, e.g. "
        "https://api.{region}.example.com. Percent-encoded when filled; may not contain "
        "/ ? # @ or :, nor be a ${...} reference (secrets go under `credentials`).",
    )

    @field_validator("base_url")
    @classmethod
    def _plain_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        for name in PLACEHOLDER.findall(value):
            if not SETTING_NAME_RE.fullmatch(name):
                raise ValueError(
                    f"placeholder {{{name}}} is not a setting name (letters, digits, _)"
                )
        problem = url_problem(PLACEHOLDER.sub("x", value))
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("settings")
    @classmethod
    def _plain_settings(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            # The reason names the setting, never its value.
            if not SETTING_NAME_RE.fullmatch(name):
                raise ValueError(f"{name!r} is not a setting name (letters, digits, _)")
            if not text.strip():
                raise ValueError(f"{name}: is empty")
            if _REF.match(text) or "${" in text:
                raise ValueError(
                    f"{name}: settings are plain values, not ${{ENV}} references; "
                    "a secret goes under `credentials`"
                )
            bad = sorted(set(text) & set(_FORBIDDEN_IN_SETTING))
            if bad or _CONTROL.search(text):
                what = " ".join(bad) if bad else "a control character"
                raise ValueError(
                    f"{name}: may not contain {what} (it fills a base URL; "
                    f"none of {' '.join(_FORBIDDEN_IN_SETTING)} may change its shape)"
                )
        return value


def url_problem(value: str) -> str | None:
    """Why `value` cannot be a base URL, or None. The reason never repeats the value: it
    may be the very secret being refused."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    if "@" in parts.netloc:
        return (
            "must not carry a user or password; put credentials under `credentials` "
            "as ${ENV_VAR} references"
        )
    if parts.query or parts.fragment or value.rstrip().endswith(("?", "#")):
        return (
            "must not carry a query string or fragment (a key there would be a literal "
            "secret); use a query-key credential profile in the manifest"
        )
    if "%" in parts.hostname:
        return "has a host that is not a host name (a setting filling it must be a DNS label)"
    return None


class AccountsFile(Strict):
    accounts: dict[str, AccountSpec] = Field(default_factory=dict)


class Account(Strict):
    """An account with its credentials resolved; never logged or rendered."""

    id: str
    integration: str
    base_url: str | None
    credentials: dict[str, str] = Field(repr=False)
    defaults: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, str] = Field(default_factory=dict)


def load_accounts(
    file: Path, env: Mapping[str, str] | None = None, *, resolve: bool = True
) -> dict[str, Account]:
    """Read the accounts file; a missing file means no accounts yet.

    With `resolve=False` credentials stay empty: enough to mint a server from a
    shell that does not hold the upstream secrets.
    """
    if not file.exists():
        return {}
    env = os.environ if env is None else env
    data = read_yaml(file) or {}
    parsed: AccountsFile = validate_model(AccountsFile, data, str(file))
    accounts = {}
    for account_id, spec in parsed.accounts.items():
        credentials = {}
        for key, value in spec.credentials.items():
            where = f"accounts.{account_id}.credentials.{key}"
            ref = _REF.match(value)
            if ref is None:
                raise ConfigError(
                    str(file), where, "must be an ${ENV_VAR} reference, not a literal secret"
                )
            if not resolve:
                continue
            if not env.get(ref.group(1)):
                # An empty value would go out as an empty header and come back a 401.
                raise ConfigError(
                    str(file), where, f"environment variable {ref.group(1)} is not set or empty"
                )
            if _CONTROL.search(env[ref.group(1)]):
                # It would go out in a header, which the client refuses quoting the value.
                raise ConfigError(
                    str(file),
                    where,
                    f"environment variable {ref.group(1)} holds a control character "
                    "(a trailing line break?)",
                )
            credentials[key] = env[ref.group(1)]
        accounts[account_id] = Account(
            id=account_id,
            integration=spec.integration,
            base_url=spec.base_url.rstrip("/") if spec.base_url else None,
            credentials=credentials,
            defaults=spec.defaults,
            settings=spec.settings,
        )
    return accounts


def check_accounts(accounts: dict[str, Account], registry: Registry, file: Path) -> None:
    """Every account names a loaded integration, and each of its argument defaults is an
    argument of some tool there and valid for every tool that takes it."""
    for account in accounts.values():
        integration = registry.integrations.get(account.integration)
        if integration is None:
            raise ConfigError(
                str(file),
                f"accounts.{account.id}.integration",
                f"no integration {account.integration!r} is loaded "
                f"(have: {', '.join(sorted(registry.integrations)) or 'none'})",
            )
        _check_base_url(account, integration.base_url, file)
        for tool in integration.tools.values():
            if tool.base_url is not None:
                _check_tool_base_url(account, tool.name, tool.base_url, file)
        for name, value in account.defaults.items():
            where = f"accounts.{account.id}.defaults.{name}"
            takers = [
                tool
                for tool in integration.tools.values()
                if name in tool.input_schema.get("properties", {})
            ]
            if not takers:
                raise ConfigError(str(file), where, "no tool of the integration takes it")
            for tool in takers:
                schema = tool.input_schema["properties"][name]
                if not Draft202012Validator(schema).is_valid(value):
                    raise ConfigError(str(file), where, f"not a valid value for {tool.name}")


def _check_base_url(account: Account, manifest_url: str, file: Path) -> None:
    """The account has every setting its base URL names, and the filled URL is still a
    plain base URL; refused at load, so no call finds out."""
    source = "its base_url" if account.base_url else f"the {account.integration} base_url"
    where = f"accounts.{account.id}." + ("base_url" if account.base_url else "settings")
    _check_template(account, account.base_url or manifest_url, source, where, file)


def _check_tool_base_url(account: Account, tool: str, template: str, file: Path) -> None:
    """The same for a method's own base URL (another host), filled from the same settings."""
    _check_template(
        account, template, f"{tool}'s base_url", f"accounts.{account.id}.settings", file
    )


def _check_template(account: Account, template: str, source: str, where: str, file: Path) -> None:
    missing = [n for n in PLACEHOLDER.findall(template) if n not in account.settings]
    if missing:
        raise ConfigError(
            str(file),
            f"accounts.{account.id}.settings",
            f"{source} names {', '.join('{' + n + '}' for n in missing)}, which the account's "
            "settings do not give; add it under settings (a plain value, not a secret)",
        )
    problem = url_problem(fill_base_url(template, account))
    if problem is not None:
        raise ConfigError(str(file), where, f"the base URL filled from its settings {problem}")


def account_base_url(account: Account, manifest_url: str) -> str:
    """The account's base URL: its own or the manifest's, `{name}` placeholders filled from
    its settings, percent-encoded."""
    return fill_base_url(account.base_url or manifest_url, account)


def fill_base_url(template: str, account: Account) -> str:
    """A base URL template with its `{name}` placeholders filled from the account's
    settings, percent-encoded."""
    if "{" not in template:  # the common case, on every call
        return template
    return PLACEHOLDER.sub(lambda m: quote(account.settings[m.group(1)], safe=""), template)


def with_defaults(
    arguments: dict[str, Any],
    defaults: dict[str, Any],
    schema: dict[str, Any],
    like: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The call's arguments, with the account's defaults for those it leaves out; with `like`
    (the array argument of a batch of single calls) in each item too, as the single call
    would get them."""
    arguments = _filled(arguments, defaults, schema.get("properties", {}))
    items = arguments.get(like[0]) if like else None
    if like is None or not isinstance(items, list):
        return arguments
    fields = schema["properties"][like[0]]["items"].get("properties", {})
    filled = [_filled(item, defaults, fields) if isinstance(item, dict) else item for item in items]
    return {**arguments, like[0]: filled}


def _filled(
    arguments: dict[str, Any], defaults: dict[str, Any], properties: dict[str, Any]
) -> dict[str, Any]:
    missing = {k: v for k, v in defaults.items() if k in properties and k not in arguments}
    return {**missing, **arguments} if missing else arguments
