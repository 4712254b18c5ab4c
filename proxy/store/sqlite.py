"""The embedded store: one SQLite file (WAL) in the data folder, nothing else to run.

Queries are point lookups on indexed keys that take microseconds, so they run inline
on the event loop rather than paying a thread hop per call. Several processes may
share the file (uvicorn workers): WAL lets readers and one writer work at once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cachetools import LRUCache

from ..errors import AccountExists, StoreUnavailable
from .base import (
    APPROVAL_RETENTION_SECONDS,
    CACHED,
    AccountRecord,
    ApiTokenInfo,
    ApprovalRecord,
    ServerConfig,
    ServerRecord,
    utcnow,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS servers (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    account TEXT NOT NULL,
    config BLOB NOT NULL,
    expires_at REAL,
    require_api_token_auth INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    last_used_at REAL
);
CREATE INDEX IF NOT EXISTS servers_account ON servers(account);
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY,
    server_id TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS api_tokens_server ON api_tokens(server_id);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    integration TEXT NOT NULL,
    base_url TEXT,
    settings BLOB NOT NULL,
    defaults BLOB NOT NULL,
    sealed_credentials TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
-- OAuth clients, codes and tokens, keyed by hash. A grant made with an API token goes
-- with it, and so with its server and account (the deletes cascade).
CREATE TABLE IF NOT EXISTS oauth (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    data BLOB NOT NULL,
    expires_at REAL NOT NULL,
    api_token_id TEXT REFERENCES api_tokens(id) ON DELETE CASCADE,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS oauth_api_token ON oauth(api_token_id);
-- Calls waiting for a person's decision; they go with their server (and its account).
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY,
    server_id TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    arguments_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    record BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_call ON approvals(server_id, arguments_hash);
CREATE TABLE IF NOT EXISTS admin_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
"""
_ACCOUNT_COLUMNS = (
    "id, integration, base_url, settings, defaults, sealed_credentials, created_at, updated_at"
)
_COLUMNS = "id, name, account, config, expires_at, require_api_token_auth, created_at, last_used_at"


def _private(folder: Path, path: Path) -> None:
    """Only yamcp's own user may read the store: it holds token hashes and who has which
    server. SQLite gives its -wal and -shm files the database file's mode."""
    folder.chmod(0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            file.chmod(0o600)


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _record(row: tuple) -> ServerRecord:
    sid, name, account, config, expires_at, api_auth, created_at, last_used_at = row
    return ServerRecord(
        id=sid,
        name=name,
        account=account,
        config=ServerConfig.model_validate(orjson.loads(config)),
        expires_at=_dt(expires_at),
        require_api_token_auth=bool(api_auth),
        created_at=_dt(created_at),
        last_used_at=_dt(last_used_at),
    )


def _account(row: tuple) -> AccountRecord:
    aid, integration, base_url, settings, defaults, sealed, created_at, updated_at = row
    return AccountRecord(
        id=aid,
        integration=integration,
        base_url=base_url,
        settings=orjson.loads(settings),
        defaults=orjson.loads(defaults),
        sealed_credentials=sealed,
        created_at=_dt(created_at),
        updated_at=_dt(updated_at),
    )


class SQLiteStore:
    def __init__(self, data_dir: Path) -> None:
        # Resolved records by token hash, valid while no other connection has written:
        # SQLite's data_version changes on every commit by another connection (a CLI
        # mint or revoke, another worker), and our own writes clear the cache.
        self._resolved: LRUCache[str, ServerRecord] = LRUCache(CACHED)
        self._version = -1
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = data_dir / "yamcp.sqlite3"
        _private(data_dir, self.path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def _run(self, sql: str, args: tuple | list = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, args)
        except sqlite3.OperationalError as exc:  # locked past busy_timeout, disk gone, ...
            raise StoreUnavailable(str(exc)) from exc

    def _write(self, sql: str, args: tuple | list = ()) -> sqlite3.Cursor:
        self._resolved.clear()
        return self._run(sql, args)

    # --- servers ---

    async def create_server(self, record: ServerRecord, token_hash: str) -> None:
        self._write(
            f"INSERT INTO servers ({_COLUMNS}, token_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.name,
                record.account,
                orjson.dumps(record.config.model_dump()),
                _ts(record.expires_at),
                int(record.require_api_token_auth),
                _ts(record.created_at),
                _ts(record.last_used_at),
                token_hash,
            ),
        )

    async def resolve(self, token_hash: str) -> ServerRecord | None:
        version = self._run("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._resolved.clear()
            self._version = version
        record = self._resolved.get(token_hash)
        if record is None:
            row = self._run(
                f"SELECT {_COLUMNS} FROM servers WHERE token_hash = ?", (token_hash,)
            ).fetchone()
            record = await self._live(row)
            if record is None:
                return None
            self._resolved[token_hash] = record
        elif record.expired():  # expiry is checked on every call, cached or not
            await self.delete_server(record.id)
            return None
        return record

    async def get_server(self, server_id: str) -> ServerRecord | None:
        row = self._run(f"SELECT {_COLUMNS} FROM servers WHERE id = ?", (server_id,)).fetchone()
        return await self._live(row)

    async def _live(self, row: tuple | None) -> ServerRecord | None:
        if row is None:
            return None
        record = _record(row)
        if record.expired():
            await self.delete_server(record.id)
            return None
        return record

    async def list_servers(self, account: str | None = None) -> list[ServerRecord]:
        where = "(expires_at IS NULL OR expires_at > ?)"
        args: list[Any] = [utcnow().timestamp()]
        if account is not None:
            where += " AND account = ?"
            args.append(account)
        rows = self._run(
            f"SELECT {_COLUMNS} FROM servers WHERE {where} ORDER BY created_at, id", args
        ).fetchall()
        return [_record(row) for row in rows]

    async def update_server(self, record: ServerRecord) -> bool:
        cursor = self._write(
            "UPDATE servers SET name = ?, config = ?, expires_at = ?, require_api_token_auth = ?"
            " WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)",
            (
                record.name,
                orjson.dumps(record.config.model_dump()),
                _ts(record.expires_at),
                int(record.require_api_token_auth),
                record.id,
                utcnow().timestamp(),
            ),
        )
        return cursor.rowcount > 0

    async def delete_server(self, server_id: str) -> bool:
        return self._write("DELETE FROM servers WHERE id = ?", (server_id,)).rowcount > 0

    async def touch(self, server_id: str, when: datetime) -> None:
        self._write("UPDATE servers SET last_used_at = ? WHERE id = ?", (_ts(when), server_id))

    # --- API tokens (for servers with require_api_token_auth) ---

    async def create_api_token(self, info: ApiTokenInfo, token_hash: str) -> None:
        self._write(
            "INSERT INTO api_tokens (id, server_id, token_hash, created_at) VALUES (?, ?, ?, ?)",
            (info.id, info.server_id, token_hash, _ts(info.created_at)),
        )

    async def check_api_token(self, server_id: str, token_hash: str) -> bool:
        row = self._run(
            "SELECT 1 FROM api_tokens t JOIN servers s ON s.id = t.server_id"
            " WHERE t.token_hash = ? AND t.server_id = ?"
            " AND (s.expires_at IS NULL OR s.expires_at > ?)",
            (token_hash, server_id, utcnow().timestamp()),
        ).fetchone()
        return row is not None

    async def list_api_tokens(self, server_id: str) -> list[ApiTokenInfo]:
        rows = self._run(
            "SELECT id, created_at FROM api_tokens WHERE server_id = ? ORDER BY created_at, id",
            (server_id,),
        ).fetchall()
        return [ApiTokenInfo(id=i, server_id=server_id, created_at=_dt(c)) for i, c in rows]

    async def delete_api_token(self, server_id: str, token_id: str) -> bool:
        cursor = self._write(
            "DELETE FROM api_tokens WHERE id = ? AND server_id = ?", (token_id, server_id)
        )
        return cursor.rowcount > 0

    async def api_token_id(self, server_id: str, token_hash: str) -> str | None:
        row = self._run(
            "SELECT t.id FROM api_tokens t JOIN servers s ON s.id = t.server_id"
            " WHERE t.token_hash = ? AND t.server_id = ?"
            " AND (s.expires_at IS NULL OR s.expires_at > ?)",
            (token_hash, server_id, utcnow().timestamp()),
        ).fetchone()
        return row[0] if row is not None else None

    async def api_token_alive(self, server_id: str, token_id: str) -> bool:
        row = self._run(
            "SELECT 1 FROM api_tokens WHERE id = ? AND server_id = ?", (token_id, server_id)
        ).fetchone()
        return row is not None

    # --- OAuth records ---

    async def put_oauth(
        self,
        kind: str,
        key: str,
        data: dict[str, Any],
        expires_at: datetime,
        api_token_id: str | None = None,
    ) -> None:
        self._write(
            "INSERT OR REPLACE INTO oauth (kind, key, data, expires_at, api_token_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (kind, key, orjson.dumps(data), expires_at.timestamp(), api_token_id),
        )

    async def get_oauth(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._run(
            "SELECT data FROM oauth WHERE kind = ? AND key = ? AND expires_at > ?",
            (kind, key, utcnow().timestamp()),
        ).fetchone()
        return orjson.loads(row[0]) if row is not None else None

    async def take_oauth(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._write(
            "DELETE FROM oauth WHERE kind = ? AND key = ? RETURNING data, expires_at",
            (kind, key),
        ).fetchone()
        if row is None or row[1] <= utcnow().timestamp():
            return None
        return orjson.loads(row[0])

    async def delete_oauth(self, kind: str, key: str) -> bool:
        cursor = self._write("DELETE FROM oauth WHERE kind = ? AND key = ?", (kind, key))
        return cursor.rowcount > 0

    # --- approvals ---

    async def create_approval(self, record: ApprovalRecord) -> None:
        self._write(
            "INSERT INTO approvals (id, server_id, arguments_hash, status, created_at,"
            " expires_at, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.server_id,
                record.arguments_hash,
                record.status,
                _ts(record.created_at),
                _ts(record.expires_at),
                record.model_dump_json().encode(),
            ),
        )

    async def get_approval(self, approval_id: str) -> ApprovalRecord | None:
        row = self._run("SELECT record FROM approvals WHERE id = ?", (approval_id,)).fetchone()
        return ApprovalRecord.model_validate_json(row[0]).current() if row else None

    async def list_approvals(self, server_id: str | None = None) -> list[ApprovalRecord]:
        where, args = ("WHERE server_id = ?", (server_id,)) if server_id else ("", ())
        rows = self._run(
            f"SELECT record FROM approvals {where} ORDER BY created_at DESC, id", args
        ).fetchall()
        return [ApprovalRecord.model_validate_json(r[0]).current() for r in rows]

    async def find_approval(self, server_id: str, arguments_hash: str) -> ApprovalRecord | None:
        row = self._run(
            "SELECT record FROM approvals WHERE server_id = ? AND arguments_hash = ?"
            " AND status != 'done' ORDER BY created_at DESC LIMIT 1",
            (server_id, arguments_hash),
        ).fetchone()
        return ApprovalRecord.model_validate_json(row[0]).current() if row else None

    async def set_approval(
        self, approval_id: str, expected: tuple[str, ...], **changes: Any
    ) -> ApprovalRecord | None:
        self._write("BEGIN IMMEDIATE")
        try:
            row = self._run("SELECT record FROM approvals WHERE id = ?", (approval_id,))
            found = row.fetchone()
            updated = None
            if found is not None:
                record = ApprovalRecord.model_validate_json(found[0]).current()
                if record.status in expected:
                    updated = record.model_copy(update=changes)
                    self._run(
                        "UPDATE approvals SET status = ?, record = ? WHERE id = ?",
                        (updated.status, updated.model_dump_json().encode(), approval_id),
                    )
            self._run("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        return updated

    # --- integrated accounts (created through the admin API) ---

    async def create_account(self, record: AccountRecord) -> None:
        try:
            self._write(
                f"INSERT INTO accounts ({_ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.integration,
                    record.base_url,
                    orjson.dumps(record.settings),
                    orjson.dumps(record.defaults),
                    record.sealed_credentials,
                    _ts(record.created_at),
                    _ts(record.updated_at),
                ),
            )
        except sqlite3.IntegrityError:
            raise AccountExists(f"an account {record.id!r} already exists") from None

    async def get_account(self, account_id: str) -> AccountRecord | None:
        row = self._run(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = ?", (account_id,)
        ).fetchone()
        return _account(row) if row is not None else None

    async def list_accounts(self) -> list[AccountRecord]:
        rows = self._run(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts ORDER BY created_at, id"
        ).fetchall()
        return [_account(row) for row in rows]

    async def update_account(self, record: AccountRecord) -> bool:
        cursor = self._write(
            "UPDATE accounts SET integration = ?, base_url = ?, settings = ?, defaults = ?,"
            " sealed_credentials = ?, updated_at = ? WHERE id = ?",
            (
                record.integration,
                record.base_url,
                orjson.dumps(record.settings),
                orjson.dumps(record.defaults),
                record.sealed_credentials,
                _ts(record.updated_at),
                record.id,
            ),
        )
        return cursor.rowcount > 0

    async def delete_account(self, account_id: str) -> bool:
        """One transaction: the account and its servers (their API tokens cascade) go
        together, so no reader ever sees the account gone and a server of it alive."""
        self._write("BEGIN IMMEDIATE")
        try:
            gone = self._run("DELETE FROM accounts WHERE id = ?", (account_id,)).rowcount > 0
            if gone:
                self._run("DELETE FROM servers WHERE account = ?", (account_id,))
            self._run("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        return gone

    # --- admin tokens ---

    async def create_admin_token(self, token_id: str, token_hash: str) -> None:
        self._write(
            "INSERT INTO admin_tokens (id, token_hash, created_at) VALUES (?, ?, ?)",
            (token_id, token_hash, utcnow().timestamp()),
        )

    async def check_admin_token(self, token_hash: str) -> bool:
        row = self._run("SELECT 1 FROM admin_tokens WHERE token_hash = ?", (token_hash,))
        return row.fetchone() is not None

    async def delete_admin_token(self, token_id: str) -> bool:
        return self._write("DELETE FROM admin_tokens WHERE id = ?", (token_id,)).rowcount > 0

    # --- housekeeping ---

    async def sweep(self) -> int:
        now = utcnow().timestamp()
        gone = self._write("DELETE FROM servers WHERE expires_at <= ?", (now,)).rowcount
        gone += self._write("DELETE FROM oauth WHERE expires_at <= ?", (now,)).rowcount
        # A decided request is kept a week for the record, then goes.
        kept = now - APPROVAL_RETENTION_SECONDS
        return gone + self._write("DELETE FROM approvals WHERE expires_at <= ?", (kept,)).rowcount

    async def ping(self) -> None:
        self._run("SELECT 1")

    async def close(self) -> None:
        self._db.close()
