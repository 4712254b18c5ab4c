"""Connecting an integrated account: the checks, the sealing, the optional verify call.

One service for the two ways in, the admin API's `POST /integrated-account` (proxy/admin.py)
and `yamcp accounts add` (proxy/cli.py); each turns `AccountRefused` into its own answer.
Modelled on proxy/servers.py, which does the same for MCP servers.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .accounts import PLACEHOLDER, Account, AccountSpec, check_accounts
from .errors import AccountExists, AccountRefused, ConfigError
from .forward import forward
from .store import utcnow
from .store.base import AccountRecord

if TYPE_CHECKING:
    from .registry import Registry
    from .secrets import SecretBox
    from .settings import Settings
    from .store import Store
    from .upstream import Upstream


def input_problems(exc: ValidationError) -> list[dict[str, str]]:
    """A refused request body as `{field, reason}`s; pydantic's messages, never the input."""
    errors = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "body"
        reason = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        errors.append({"field": field, "reason": reason.removeprefix("Value error, ")})
    return errors


ACCOUNT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What check_accounts' errors name as the file of an account given over this API.
_API = Path("admin API")


class AccountContext(Protocol):
    """What connecting an account needs: the Gateway, or the CLI's own (proxy/cli.py).
    Read-only members, so a plain attribute, a dict or a property each satisfies them."""

    @property
    def settings(self) -> Settings: ...
    @property
    def registry(self) -> Registry: ...
    @property
    def accounts(self) -> Mapping[str, Account]: ...  # the accounts file's
    @property
    def store(self) -> Store: ...
    @property
    def box(self) -> SecretBox: ...
    @property
    def upstream(self) -> Upstream | None: ...  # needed only to verify


class AccountRequest(AccountSpec):
    """`POST /integrated-account`: AccountSpec's fields and rules, credentials as values."""

    id: str
    credentials: dict[str, str] = Field(  # type: ignore[assignment]
        description="The values themselves, by the names the manifest's credential profiles "
        "use (e.g. server_token). Encrypted at rest; never in an answer."
    )
    verify: bool = Field(False, description="Call the manifest's `verify` tool first.")


class AccountPatch(BaseModel):
    """`PATCH /integrated-account/{id}`: what is given replaces what was; `credentials`
    replaces the whole set (a rotation)."""

    model_config = ConfigDict(extra="forbid")

    credentials: dict[str, str] | None = None
    base_url: str | None = None
    settings: dict[str, str] | None = None
    defaults: dict[str, Any] | None = None
    verify: bool = False


def file_account_public(account: Account) -> dict[str, Any]:
    """A file account as the API shows it: the same shape as an API account's."""
    return {
        "id": account.id,
        "integration": account.integration,
        "base_url": account.base_url,
        "settings": account.settings,
        "defaults": account.defaults,
        "source": "file",
        "created_at": None,
    }


def account_problems(
    gw: AccountContext, account: Account, credentials: bool = True
) -> list[dict[str, str]]:
    """Why `account` cannot be connected, as `{field, reason}`s; none of them quotes a
    credential. The accounts file's rules (check_accounts), plus the API's own: a
    well-formed id, settings the base URL names, the credentials the manifest needs."""
    errors = []
    if not ACCOUNT_ID.fullmatch(account.id):
        errors.append(
            {
                "field": "id",
                "reason": "must be 1-64 letters, digits, _ or -, starting with a letter or digit",
            }
        )
    try:
        check_accounts({account.id: account}, gw.registry, _API)
    except ConfigError as exc:
        field = exc.path.removeprefix(f"accounts.{account.id}.")
        errors.append({"field": field, "reason": exc.reason})
    integration = gw.registry.integrations.get(account.integration)
    if integration is None:
        return errors
    named = set(PLACEHOLDER.findall(account.base_url or integration.base_url))
    for name in sorted(account.settings.keys() - named):
        known = ", ".join(sorted(named)) or "none"
        errors.append(
            {"field": f"settings.{name}", "reason": f"not a setting the base URL names ({known})"}
        )
    if credentials:
        errors += _credential_problems(integration, account.credentials)
    return errors


def _credential_problems(integration: Any, given: dict[str, str]) -> list[dict[str, str]]:
    profiles = list(integration.credentials.values())
    needed = set(profiles[0].secrets()) if profiles else set()
    known = {key for profile in profiles for key in profile.secrets()}
    errors = []
    for key in sorted(needed - given.keys()):
        reason = f"required by the {integration.name} manifest"
        errors.append({"field": f"credentials.{key}", "reason": reason})
    for key in sorted(given.keys() - known):
        names = ", ".join(sorted(known)) or "none"
        errors.append(
            {
                "field": f"credentials.{key}",
                "reason": f"not a credential of {integration.name} (it takes: {names})",
            }
        )
    for key in sorted(given.keys() & known):
        if not given[key].strip():
            errors.append({"field": f"credentials.{key}", "reason": "is empty"})
        elif _CONTROL.search(given[key]):
            errors.append(
                {
                    "field": f"credentials.{key}",
                    "reason": "holds a control character (a trailing line break?)",
                }
            )
    return errors


async def verify_account(gw: AccountContext, account: Account) -> dict[str, str] | None:
    """Call the manifest's `verify` tool with the account's credentials: None when the
    upstream accepts them, else the error, carrying the upstream's message."""
    integration = gw.registry.integrations[account.integration]
    if integration.verify is None:
        reason = f"the {integration.name} manifest names no verify tool"
        return {"field": "verify", "reason": reason}
    assert gw.upstream is not None
    tool = integration.tools[integration.verify]
    try:
        async with asyncio.timeout(gw.settings.call_deadline):
            outcome = await forward(
                gw.upstream,
                integration,
                account,
                tool,
                {},
                max_body_bytes=gw.settings.max_upstream_bytes,
            )
    except TimeoutError:
        return {
            "field": "credentials",
            "reason": f"{integration.title} did not answer {tool.name} within "
            f"{gw.settings.call_deadline:g} s; nothing was stored",
        }
    if not outcome.result.get("isError"):
        return None
    message = outcome.result["structuredContent"]["error"]["message"]
    return {
        "field": "credentials",
        "reason": f"{integration.title} refused them ({tool.name}): {message}",
    }


def file_account_message(account_id: str) -> str:
    return (
        f"The account {account_id!r} comes from the accounts file, its source of truth: "
        "change it there (and reload)"
    )


async def connect_account(gw: AccountContext, body: AccountRequest) -> AccountRecord:
    """Check, optionally verify, seal and store a new account: the admin API's POST and
    `yamcp accounts add` alike. AccountRefused says why not; nothing is stored then."""
    if body.id in gw.accounts:
        raise AccountRefused(f"An account {body.id!r} exists (in the accounts file)")
    account = Account(
        id=body.id,
        integration=body.integration,
        base_url=body.base_url.rstrip("/") if body.base_url else None,
        credentials=body.credentials,
        defaults=body.defaults,
        settings=body.settings,
    )
    errors = account_problems(gw, account)
    if errors:
        raise AccountRefused("invalid account", errors)
    if body.verify and (refused := await verify_account(gw, account)) is not None:
        raise AccountRefused("refused credentials", [refused])
    now = utcnow()
    record = AccountRecord(
        id=account.id,
        integration=account.integration,
        base_url=account.base_url,
        settings=account.settings,
        defaults=account.defaults,
        sealed_credentials=gw.box.seal(account.id, account.credentials),
        created_at=now,
        updated_at=now,
    )
    try:
        await gw.store.create_account(record)
    except AccountExists:
        raise AccountRefused(f"An account {body.id!r} exists") from None
    return record
