"""The embedded store: one SQLite file (WAL) in the data folder, nothing else to run.

Queries are point lookups on an indexed key that take microseconds, so they run
inline on the event loop rather than paying a thread hop per call.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ..policy import Policy
from .base import ServerRecord, utcnow

SCHEMA = """
CREATE TABLE IF NOT EXISTS servers (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    account TEXT NOT NULL,
    config BLOB NOT NULL,
    expires_at REAL,
    require_api_token_auth INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS servers_account ON servers(account);
"""
_COLUMNS = "id, name, account, config, expires_at, require_api_token_auth, created_at"


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _record(row: tuple) -> ServerRecord:
    sid, name, account, config, expires_at, api_auth, created_at = row
    return ServerRecord(
        id=sid,
        name=name,
        account=account,
        config=Policy.model_validate(orjson.loads(config)),
        expires_at=_dt(expires_at),
        require_api_token_auth=bool(api_auth),
        created_at=_dt(created_at),
    )


class SQLiteStore:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "yamcp.sqlite3"
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    async def create_server(self, record: ServerRecord, token_hash: str) -> None:
        self._db.execute(
            f"INSERT INTO servers ({_COLUMNS}, token_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.name,
                record.account,
                orjson.dumps(record.config.model_dump()),
                _ts(record.expires_at),
                int(record.require_api_token_auth),
                _ts(record.created_at),
                token_hash,
            ),
        )

    async def resolve(self, token_hash: str) -> ServerRecord | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM servers WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        if row is None:
            return None
        record = _record(row)
        if record.expired():
            await self.delete_server(record.id)
            return None
        return record

    async def get_server(self, server_id: str) -> ServerRecord | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM servers WHERE id = ?", (server_id,)
        ).fetchone()
        return _record(row) if row and not _record(row).expired() else None

    async def list_servers(self, account: str | None = None) -> list[ServerRecord]:
        now = utcnow().timestamp()
        where, args = "(expires_at IS NULL OR expires_at > ?)", [now]
        if account is not None:
            where += " AND account = ?"
            args.append(account)
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM servers WHERE {where} ORDER BY created_at, id", args
        ).fetchall()
        return [_record(row) for row in rows]

    async def delete_server(self, server_id: str) -> bool:
        return self._db.execute("DELETE FROM servers WHERE id = ?", (server_id,)).rowcount > 0

    async def sweep(self) -> int:
        """Delete every expired server; lookups refuse them anyway, this frees the rows."""
        now = utcnow().timestamp()
        return self._db.execute("DELETE FROM servers WHERE expires_at <= ?", (now,)).rowcount

    async def ping(self) -> None:
        self._db.execute("SELECT 1")

    async def close(self) -> None:
        self._db.close()
