"""Helpers every subcommand shares: settings from the options, a store for one command, JSON out."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson

from ..settings import Settings

T = TypeVar("T")


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for key in ("host", "port"):
        if getattr(args, key, None) is not None:
            overrides[key] = getattr(args, key)
    return Settings(**overrides)


def csv_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def print_json(data: Any) -> None:
    print(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


def with_store(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from ..store import open_store

    async def run() -> T:
        store = open_store(settings)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def known_account(settings: Settings, account: str) -> Any:
    from ..accounts import load_accounts
    from ..servers import UnknownAccount

    accounts = load_accounts(settings.accounts_file, resolve=False)
    if account in accounts:
        return accounts[account]
    # An account connected over the admin API (`yamcp accounts add`) lives in the store.
    connected = with_store(settings, lambda store: store.get_account(account))
    if connected is None:
        known = ", ".join(sorted(accounts)) or "none"
        raise UnknownAccount(
            f"no account {account!r} in {settings.accounts_file} (have: {known}) "
            "or connected over the admin API"
        )
    return connected
