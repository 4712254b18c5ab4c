"""The gateway: everything a request needs, loaded once and swapped whole on a reload.

Manifests, accounts, policies, the store and the upstream client, and each server's view
(its tools under its policy) decided once per config. The MCP endpoint and the admin API
read it; they never import the application that serves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from cachetools import LRUCache

from . import mcp
from .accounts import Account, check_accounts, load_accounts
from .discovery import DEFINITIONS, META, ToolIndex
from .discovery import INSTRUCTIONS as DISCOVERY_INSTRUCTIONS
from .errors import ConfigError
from .mcp import ServerView
from .oauth.clients import ClientDirectory, load_clients
from .oauth.failures import Failures
from .policy import Effective, PolicySet, approval_window, decide, load_policies, rules_for
from .registry import Registry, load_registry
from .secrets import SecretBox, load_box
from .settings import Settings
from .store import ServerRecord, Store, StoreUnavailable, open_store, utcnow
from .store.base import CACHED, AccountRecord
from .tokens import hash_token
from .tools import Tool, listed_definitions
from .upstream import Upstream, make_upstream

log = logging.getLogger("yamcp")

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
TOOLS_PAGE_SIZE = 500


def tools_list_bytes(tools: dict[str, Tool]) -> int:
    """The size of the first `tools/list` answer (`"id": 1`, legacy era) of a server granted
    `tools`, on an account with no defaults: what a client pays for again on every turn."""
    page = mcp.encode_list_pages(listed_definitions(tools, {}), TOOLS_PAGE_SIZE)[0]
    return len(mcp.result_reply(1, page).body or b"")


@dataclass(slots=True, eq=False)
class Served:
    view: ServerView
    effective: Effective
    rules: dict[str, tuple]
    approvals: dict[str, float]  # tool -> seconds a call waits for a person's decision
    tools: dict[str, Tool]  # what the policy exposes, whatever tools/list shows
    discovery: Discovery | None = None  # tool_exposure: discovery


@dataclass(slots=True, eq=False)
class Discovery:
    index: ToolIndex
    definitions: dict[str, dict[str, Any]]  # name -> the definition tools/list would give


@dataclass(slots=True, eq=False)
class Live:
    """A server a URL token names that may serve now: its record, account and tools."""

    record: ServerRecord
    account: Account
    served: Served
    expires_at: datetime | None  # the earlier of the server's own and its policy's


class Gateway:
    """Everything a request needs, loaded once: manifests, accounts, store, HTTP client."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        accounts: dict[str, Account] | None = None,
    ) -> None:
        self.settings = settings
        self.registry: Registry = load_registry(settings.integrations_dirs)
        # Accounts given here (a sandbox's) stay through reloads, beside the file's.
        self._pinned = dict(accounts or {})
        self.accounts: dict[str, Account] = self._load_accounts()
        self.policies: PolicySet = load_policies(settings.policies_dir)
        self.store: Store = store or open_store(settings)
        self.box: SecretBox = load_box(settings)
        self.oauth_clients = ClientDirectory(settings, self.store)
        self.oauth_failures = Failures()
        # Accounts connected over the admin API, opened once per stored record: a rotation
        # or deletion replaces the store's cached record, and with it this entry.
        self._opened: LRUCache[str, tuple[AccountRecord, Account]] = LRUCache(CACHED)
        self.upstream: Upstream | None = None
        self._served: LRUCache[tuple[str, bytes, bool, str, bytes], Served] = LRUCache(CACHED)
        # The store hands out the same record object while it is cached, so a server's
        # view is found by identity, without serialising its config on every call.
        self._served_by_record: LRUCache[str, tuple[ServerRecord, Account, Served]] = LRUCache(
            CACHED
        )
        self._touched: dict[str, float] = {}
        # Work that must not hold an answer (an approval's webhook), kept until done.
        self.background: set[asyncio.Task[None]] = set()
        public = urlsplit(settings.public_url)
        self.allowed_hosts = {h.lower() for h in (*LOOPBACK_HOSTS, *settings.allowed_hosts)}
        if public.hostname:
            self.allowed_hosts.add(public.hostname.lower())
        self.allowed_origins = {o.rstrip("/").lower() for o in settings.allowed_origins}

    async def start(self) -> None:
        self.upstream = make_upstream(self.settings)
        # A wrong key stops start-up here, naming its setting, rather than failing the first
        # call of each connected account. A store that is down is checked call by call.
        with contextlib.suppress(StoreUnavailable):
            for record in await self.store.list_accounts():
                self.box.open(record.id, record.sealed_credentials)
        log.info(
            "loaded %d integration(s), %d tools, %d account(s), %d named policies",
            len(self.registry.integrations),
            len(self.registry.tools),
            len(self.accounts),
            len(self.policies.named),
        )
        if not self.accounts:
            log.warning(
                "no accounts in %s: copy accounts.example.yaml there, then `yamcp mint`",
                self.settings.accounts_file,
            )

    async def touch(self, record: ServerRecord, every: float = 60.0) -> None:
        """Record a server's last use at most once a minute: a store write per call would
        cost more than the call."""
        now = time.monotonic()
        if now - self._touched.get(record.id, -every) >= every:
            self._touched[record.id] = now
            with contextlib.suppress(StoreUnavailable):
                await self.store.touch(record.id, utcnow())

    async def stop(self) -> None:
        if self.upstream is not None:
            await self.upstream.aclose()
        await self.store.close()

    def reload(self) -> None:
        """Re-read the accounts file and the policies folder, as one: if either does not load,
        ConfigError and nothing changes. Requests in flight finish under the old set."""
        accounts = self._load_accounts()
        policies = load_policies(self.settings.policies_dir)
        clients = load_clients(self.settings.oauth_clients_file)
        self.accounts, self.policies = accounts, policies
        self.oauth_clients.configured = clients
        self._served.clear()
        self._served_by_record.clear()
        log.info("reloaded: %d account(s), %d named policies", len(accounts), len(policies.named))

    def _load_accounts(self) -> dict[str, Account]:
        accounts = load_accounts(self.settings.accounts_file)
        for account_id in accounts.keys() & self._pinned.keys():
            raise ConfigError(
                str(self.settings.accounts_file),
                f"accounts.{account_id}",
                "this account id is taken by an account yamcp was started with",
            )
        accounts |= self._pinned
        check_accounts(accounts, self.registry, self.settings.accounts_file)
        return accounts

    async def account(self, account_id: str) -> Account | None:
        """The account by id: the accounts file's, else one connected over the admin API,
        read from the store on every call (the store caches it and drops it on every
        instance when it changes) and its credentials opened with this instance's key.

        Raises SecretKeyError when the stored credentials do not open under that key."""
        account = self.accounts.get(account_id)
        if account is not None:
            return account
        record = await self.store.get_account(account_id)
        if record is None:
            self._opened.pop(account_id, None)
            return None
        known = self._opened.get(account_id)
        if known is not None and (known[0] is record or known[0] == record):
            return known[1]
        account = Account(
            id=record.id,
            integration=record.integration,
            base_url=record.base_url,
            credentials=self.box.open(record.id, record.sealed_credentials),
            defaults=record.defaults,
            settings=record.settings,
        )
        self._opened[account_id] = (record, account)
        return account

    async def live(self, token: str) -> Live | None:
        """The server behind an MCP URL token, if it may serve now; None for an unknown,
        revoked or expired one, or one whose account or policy is gone (all one 404).

        Raises StoreUnavailable, and SecretKeyError for an account this key cannot open."""
        if not token:
            return None
        record = await self.store.resolve(hash_token(token))
        if record is None:
            return None
        account = await self.account(record.account)
        if account is None:
            log.warning("server %s names unknown account %s", record.id, record.account)
            return None
        served = self.served(record, account)
        if served is None:
            return None
        expires = self.policies.expiry(record)
        if expires is not None and expires <= utcnow():
            return None
        return Live(record, account, served, expires)

    def served(self, record: ServerRecord, account: Account) -> Served | None:
        """The server's tools under its effective policy, decided once per config and
        account (an API account's defaults may change under the same server)."""
        known = self._served_by_record.get(record.id)
        if known is not None and known[0] is record and known[1] is account:
            return known[2]
        served = self._decide(record, account)
        if served is not None:
            self._served_by_record[record.id] = (record, account, served)
        return served

    def _decide(self, record: ServerRecord, account: Account) -> Served | None:
        key = (
            record.account,
            orjson.dumps(record.config.model_dump()),
            record.require_api_token_auth,
            account.integration,
            orjson.dumps(account.defaults, option=orjson.OPT_SORT_KEYS),
        )
        served = self._served.get(key)
        if served is None:
            try:
                effective = self.policies.effective(record.config, record)
            except KeyError:
                log.warning("server %s names unknown policy %s", record.id, record.config.policy)
                return None
            integration = self.registry.integrations[account.integration]
            tools = {
                name: tool
                for name, tool in integration.tools.items()
                if decide(self.policies, effective, tool).allowed
            }
            approvals = {
                name: window
                for name, tool in tools.items()
                if (window := approval_window(self.policies, effective, tool)) is not None
            }
            definitions = listed_definitions(tools, account.defaults, frozenset(approvals))
            instructions = (
                f"Tools for the {integration.title} account {account.id!r}. "
                "List tools page with limit and next_cursor."
            )
            discovery = None
            listed: dict[str, Any] = tools
            if effective.tool_exposure == "discovery":
                # Three tools in the listing; the decided ones behind them, unchanged.
                whole = listed_definitions(
                    tools, account.defaults, frozenset(approvals), alone=True
                )
                discovery = Discovery(
                    ToolIndex(tools, frozenset(approvals)), {d["name"]: d for d in whole}
                )
                listed, definitions = META, DEFINITIONS
                instructions = f"{instructions.split('. ')[0]}. {DISCOVERY_INSTRUCTIONS}"
            view = ServerView(
                name=f"{integration.title} ({account.id})",
                instructions=instructions,
                tools=listed,
                list_pages=mcp.encode_list_pages(definitions, TOOLS_PAGE_SIZE),
                modern_pages=mcp.encode_list_pages(definitions, TOOLS_PAGE_SIZE, modern=True),
            )
            rules = {name: rules_for(self.policies, effective, t) for name, t in tools.items()}
            served = Served(view, effective, rules, approvals, tools, discovery)
            self._served[key] = served
        return served

    def host_allowed(self, host: str | None) -> bool:
        if not host:
            return False
        name = host.lower()
        if name.startswith("["):
            name = name.split("]")[0] + "]"
        else:
            name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        return name in self.allowed_hosts

    def origin_allowed(self, origin: str) -> bool:
        if origin.rstrip("/").lower() in self.allowed_origins:
            return True
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:  # e.g. "http://[::1": not an origin anyone is allowed to be
            return False
        return self.host_allowed(netloc)
