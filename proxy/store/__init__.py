"""MCP servers and tokens: SQLite by default, Redis when several instances share them."""

from __future__ import annotations

from ..errors import AccountExists, StoreUnavailable
from ..settings import Settings
from .base import (
    AccountRecord,
    ApiTokenInfo,
    ApprovalRecord,
    ApprovalRule,
    ServerConfig,
    ServerRecord,
    Store,
    utcnow,
)
from .sqlite import SQLiteStore

__all__ = [
    "AccountExists",
    "AccountRecord",
    "ApiTokenInfo",
    "ApprovalRecord",
    "ApprovalRule",
    "SQLiteStore",
    "ServerConfig",
    "ServerRecord",
    "Store",
    "StoreUnavailable",
    "open_store",
    "utcnow",
]


def open_store(settings: Settings) -> Store:
    if settings.store_url and settings.store_url.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisStore

        return RedisStore(
            settings.store_url,
            prefix=settings.store_prefix,
            cache_seconds=settings.token_cache_seconds,
        )
    return SQLiteStore(settings.data_dir)
