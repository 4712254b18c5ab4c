"""One contract, two stores: SQLite and Redis must answer every question the same way.

Redis is expected at 127.0.0.1:6379; without it these tests fail rather than skip, because
a green run without Redis would say nothing about the store several instances share.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import stat
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio

from proxy.store import (
    AccountExists,
    AccountRecord,
    ApiTokenInfo,
    ApprovalRecord,
    ServerConfig,
    ServerRecord,
    SQLiteStore,
    StoreUnavailable,
)
from proxy.store.base import Store, utcnow
from proxy.store.redis import RedisStore
from proxy.tokens import hash_token, new_id, new_token

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Backend:
    kind: str
    store: Store
    raw: redis.asyncio.Redis | None = None  # Redis only: to look behind the store
    prefix: str = ""
    path: Path | None = None  # SQLite only: the database file

    async def keys(self) -> list[str]:
        assert self.raw is not None
        return sorted([k.decode() async for k in self.raw.scan_iter(match=f"{self.prefix}*")])

    async def contents(self) -> bytes:
        """Every byte the store keeps: file (and WAL) for SQLite, keys and values for Redis."""
        if self.path is not None:
            wal = self.path.with_name(self.path.name + "-wal")
            return self.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert self.raw is not None
        out: list[bytes] = []
        for key in await self.keys():
            out.append(key.encode())
            kind = (await self.raw.type(key)).decode()
            if kind == "string":
                out.append(await self.raw.get(key))
            elif kind == "hash":
                for field, value in (await self.raw.hgetall(key)).items():
                    out += [field, value]
            elif kind == "set":
                out += list(await self.raw.smembers(key))
            else:
                raise AssertionError(f"unexpected {kind} at {key}")
        return b"\n".join(out)


@pytest.fixture(params=["sqlite", "redis"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        sqlite = SQLiteStore(tmp_path)
        yield Backend("sqlite", sqlite, path=sqlite.path)
        await sqlite.close()
        return
    prefix = f"yamcp-test-{uuid.uuid4().hex}:"
    raw = redis.asyncio.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    await raw.ping()  # no Redis: fail here, loudly
    store = RedisStore(REDIS_URL, prefix=prefix)
    try:
        yield Backend("redis", store, raw=raw, prefix=prefix)
    finally:
        await store.close()
        async for key in raw.scan_iter(match=f"{prefix}*"):
            await raw.delete(key)
        await raw.aclose()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.store


def record(
    account: str = "acct-1",
    *,
    name: str = "srv",
    expires_in: float | None = None,
    created_at: datetime | None = None,
    server_id: str | None = None,
    api_auth: bool = False,
) -> ServerRecord:
    now = utcnow()
    return ServerRecord(
        id=server_id or new_id("srv"),
        name=name,
        account=account,
        config=ServerConfig(methods=["read"], tags=["email"]),
        expires_at=now + timedelta(seconds=expires_in) if expires_in is not None else None,
        require_api_token_auth=api_auth,
        created_at=created_at or now,
    )


async def mint(store: Store, rec: ServerRecord) -> str:
    token_hash = hash_token(new_token())
    await store.create_server(rec, token_hash)
    return token_hash


async def api_token(store: Store, server_id: str) -> tuple[ApiTokenInfo, str]:
    info = ApiTokenInfo(id=new_id("tok"), server_id=server_id, created_at=utcnow())
    token_hash = hash_token(new_token())
    await store.create_api_token(info, token_hash)
    return info, token_hash


# --- servers ---


async def test_create_and_resolve_by_token_hash(store: Store) -> None:
    rec = record()
    token_hash = await mint(store, rec)
    assert await store.resolve(token_hash) == rec
    assert await store.get_server(rec.id) == rec


async def test_unknown_token_hash_and_id_are_none(store: Store) -> None:
    await mint(store, record())
    assert await store.resolve(hash_token(new_token())) is None
    assert await store.get_server("srv_unknown") is None


async def test_list_servers_by_account_and_overall_sorted(store: Store) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    late = record("acct-1", created_at=t0 + timedelta(hours=2), server_id="srv_late")
    tie_b = record("acct-1", created_at=t0, server_id="srv_b")
    tie_a = record("acct-1", created_at=t0, server_id="srv_a")
    other = record("acct-2", created_at=t0 + timedelta(hours=1), server_id="srv_other")
    for rec in (late, tie_b, other, tie_a):
        await mint(store, rec)
    assert await store.list_servers("acct-1") == [tie_a, tie_b, late]
    assert await store.list_servers("acct-2") == [other]
    assert await store.list_servers("nobody") == []
    assert await store.list_servers() == [tie_a, tie_b, other, late]


async def test_update_changes_record_and_keeps_token(backend: Backend) -> None:
    store = backend.store
    rec = record(api_auth=True)
    token_hash = await mint(store, rec)
    _, api_hash = await api_token(store, rec.id)
    expires = utcnow() + timedelta(hours=1)
    changed = rec.model_copy(
        update={
            "name": "renamed",
            "config": ServerConfig(policy="postmark-readonly"),
            "expires_at": expires,
            "require_api_token_auth": False,
        }
    )
    assert await store.update_server(changed) is True
    assert await store.resolve(token_hash) == changed
    assert await store.get_server(rec.id) == changed
    assert await store.check_api_token(rec.id, api_hash) is True
    if backend.raw is not None:  # the new expiry reaches every key of the server
        keys = await backend.keys()
        assert len(keys) == 6  # server, token, servers index, account, apitoken, its index
        for key in keys:
            if key.endswith(("servers", "account:acct-1")):
                continue
            ttl_ms = await backend.raw.pttl(key)
            assert 3_590_000 < ttl_ms <= 3_600_000, key

    forever = changed.model_copy(update={"expires_at": None})
    assert await store.update_server(forever) is True
    assert await store.resolve(token_hash) == forever
    if backend.raw is not None:
        for key in await backend.keys():
            assert await backend.raw.pttl(key) == -1, key


async def test_update_does_not_move_account_or_created_at(store: Store) -> None:
    rec = record("acct-1")
    token_hash = await mint(store, rec)
    moved = rec.model_copy(update={"account": "acct-2", "created_at": utcnow(), "name": "n"})
    assert await store.update_server(moved) is True
    assert await store.resolve(token_hash) == rec.model_copy(update={"name": "n"})
    assert [r.id for r in await store.list_servers("acct-1")] == [rec.id]
    assert await store.list_servers("acct-2") == []


async def test_update_of_deleted_or_unknown_server_is_false(store: Store) -> None:
    rec = record()
    token_hash = await mint(store, rec)
    assert await store.delete_server(rec.id) is True
    assert await store.update_server(rec.model_copy(update={"name": "x"})) is False
    assert await store.update_server(record()) is False
    assert await store.resolve(token_hash) is None
    assert await store.get_server(rec.id) is None


async def test_delete_revokes_server_and_its_api_tokens(backend: Backend) -> None:
    store = backend.store
    keep = record()
    keep_hash = await mint(store, keep)
    rec = record(api_auth=True)
    token_hash = await mint(store, rec)
    _, api_hash = await api_token(store, rec.id)

    assert await store.delete_server(rec.id) is True
    assert await store.resolve(token_hash) is None
    assert await store.get_server(rec.id) is None
    assert await store.check_api_token(rec.id, api_hash) is False
    assert await store.list_api_tokens(rec.id) == []
    assert await store.list_servers() == [keep]
    assert await store.delete_server(rec.id) is False
    assert await store.resolve(keep_hash) == keep
    if backend.raw is not None:  # nothing of it is left behind
        assert [k for k in await backend.keys() if rec.id in k or token_hash in k] == []
        assert rec.id.encode() not in await backend.contents()


async def test_expired_server_is_gone(backend: Backend) -> None:
    store = backend.store
    rec = record(expires_in=1, api_auth=True)
    token_hash = await mint(store, rec)
    _, api_hash = await api_token(store, rec.id)
    live = record()
    live_hash = await mint(store, live)
    # Keys written without a TTL (or a Redis clock behind ours) must be refused all the
    # same, by each kind of read on its own: resolve, check_api_token, list_servers.
    stale: list[tuple[ServerRecord, str, str]] = []
    for _ in range(3):
        old = record(expires_in=1, api_auth=True)
        old_hash = await mint(store, old)
        stale.append((old, old_hash, (await api_token(store, old.id))[1]))
    if backend.raw is not None:
        for key in await backend.keys():
            if any(old.id in key or h in key or a in key for old, h, a in stale):
                await backend.raw.persist(key)

    assert await store.resolve(token_hash) == rec
    assert await store.check_api_token(rec.id, api_hash) is True
    assert await store.list_servers() == [rec, live, *(old for old, _, _ in stale)]

    await asyncio.sleep(1.2)
    if backend.raw is not None:  # Redis dropped the expiring server's keys by itself...
        p = backend.prefix
        assert (
            await backend.raw.exists(
                f"{p}server:{rec.id}",
                f"{p}token:{token_hash}",
                f"{p}apitoken:{api_hash}",
                f"{p}server-apitokens:{rec.id}",
            )
            == 0
        )
        # ...while the keys without a TTL are still there, for the reads below to refuse.
        for old, old_hash, _ in stale:
            assert await backend.raw.exists(f"{p}server:{old.id}", f"{p}token:{old_hash}") == 2

    (by_token, by_token_hash, _), (by_api, _, by_api_hash), (by_list, _, _) = stale
    assert await store.resolve(by_token_hash) is None
    assert await store.check_api_token(by_api.id, by_api_hash) is False
    assert await store.list_servers() == [live]
    assert await store.list_servers("acct-1") == [live]
    for gone in (rec, by_token, by_api, by_list):
        assert await store.get_server(gone.id) is None
    assert await store.resolve(token_hash) is None
    assert await store.check_api_token(rec.id, api_hash) is False
    if backend.raw is not None:  # the reads deleted the rest, indexes included
        expected = ["servers", "account:acct-1", f"server:{live.id}", f"token:{live_hash}"]
        assert await backend.keys() == sorted(p + key for key in expected)


async def test_sweep_removes_expired_servers(backend: Backend) -> None:
    store = backend.store
    live = record()
    live_hash = await mint(store, live)
    for _ in range(2):
        await mint(store, record(expires_in=0.5))
    assert await store.sweep() == 0
    await asyncio.sleep(0.7)
    assert await store.sweep() == 2
    assert await store.sweep() == 0
    assert await store.resolve(live_hash) == live
    assert await store.list_servers() == [live]
    if backend.raw is not None:  # the indexes hold the live server only
        assert await backend.raw.hkeys(f"{backend.prefix}servers") == [live.id.encode()]
        assert await backend.raw.smembers(f"{backend.prefix}account:acct-1") == {live.id.encode()}


async def test_touch_sets_last_used_at(backend: Backend) -> None:
    store = backend.store
    rec = record()
    token_hash = await mint(store, rec)
    assert (await store.get_server(rec.id)).last_used_at is None
    when = utcnow()
    await store.touch(rec.id, when)
    assert (await store.get_server(rec.id)).last_used_at == when
    assert (await store.resolve(token_hash)).last_used_at == when
    # A touch that arrives after the revocation must not bring anything back.
    await store.touch("srv_unknown", when)
    assert await store.get_server("srv_unknown") is None
    if backend.raw is not None:
        assert await backend.raw.exists(f"{backend.prefix}server:srv_unknown") == 0


# --- API tokens ---


async def test_api_tokens_create_check_list_delete(store: Store) -> None:
    rec = record(api_auth=True)
    await mint(store, rec)
    other = record(api_auth=True)
    await mint(store, other)
    first, first_hash = await api_token(store, rec.id)
    second, second_hash = await api_token(store, rec.id)

    assert await store.check_api_token(rec.id, first_hash) is True
    assert await store.check_api_token(rec.id, second_hash) is True
    assert await store.check_api_token(other.id, first_hash) is False
    assert await store.check_api_token(rec.id, hash_token(new_token())) is False

    listed = await store.list_api_tokens(rec.id)
    assert listed == sorted([first, second], key=lambda t: (t.created_at, t.id))
    dumped = str([t.model_dump() for t in listed])
    assert first_hash not in dumped
    assert second_hash not in dumped
    assert await store.list_api_tokens(other.id) == []

    assert await store.delete_api_token(other.id, first.id) is False
    assert await store.delete_api_token(rec.id, first.id) is True
    assert await store.check_api_token(rec.id, first_hash) is False
    assert await store.check_api_token(rec.id, second_hash) is True
    assert await store.list_api_tokens(rec.id) == [second]
    assert await store.delete_api_token(rec.id, first.id) is False


# --- admin tokens ---


async def test_admin_tokens_create_check_delete(store: Store) -> None:
    token_hash = hash_token(new_token())
    other_hash = hash_token(new_token())
    await store.create_admin_token("adm_1", token_hash)
    await store.create_admin_token("adm_2", other_hash)
    assert await store.check_admin_token(token_hash) is True
    assert await store.check_admin_token(hash_token(new_token())) is False
    assert await store.delete_admin_token("adm_1") is True
    assert await store.check_admin_token(token_hash) is False
    assert await store.check_admin_token(other_hash) is True
    assert await store.delete_admin_token("adm_1") is False
    assert await store.delete_admin_token("adm_unknown") is False


# --- secrets ---


async def test_no_token_plaintext_is_stored(backend: Backend) -> None:
    store = backend.store
    plaintexts: list[str] = []
    hashes: list[str] = []
    for i in range(3):
        rec = record(f"acct-{i}", api_auth=True)
        token = new_token()
        await store.create_server(rec, hash_token(token))
        api = new_token()
        info = ApiTokenInfo(id=new_id("tok"), server_id=rec.id, created_at=utcnow())
        await store.create_api_token(info, hash_token(api))
        plaintexts += [token, api]
        hashes += [hash_token(token), hash_token(api)]
    admin = new_token()
    await store.create_admin_token("adm_1", hash_token(admin))
    plaintexts.append(admin)
    hashes.append(hash_token(admin))

    contents = await backend.contents()
    assert contents  # we are looking at the right place...
    for token_hash in hashes:  # ...which holds the hashes...
        assert token_hash.encode() in contents
    for token in plaintexts:  # ...and never a token itself
        assert token.encode() not in contents


# --- Redis only ---


@pytest.mark.parametrize("backend", ["redis"], indirect=True)
async def test_redis_instances_share_servers_and_revocations(backend: Backend) -> None:
    one = backend.store
    two = RedisStore(REDIS_URL, prefix=backend.prefix)
    try:
        rec = record(api_auth=True)
        token_hash = await mint(one, rec)
        _, api_hash = await api_token(one, rec.id)
        assert await two.resolve(token_hash) == rec
        assert await two.check_api_token(rec.id, api_hash) is True
        assert await two.delete_server(rec.id) is True
        assert await one.resolve(token_hash) is None
        assert await one.check_api_token(rec.id, api_hash) is False
    finally:
        await two.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _redis_server(port: int, password: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--requirepass", password],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _until_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(250):
        assert proc.poll() is None, "redis-server exited"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"redis-server did not listen on {port}")


async def test_redis_unavailable_raises_store_unavailable_and_recovers() -> None:
    port, password = _free_port(), f"pw-{uuid.uuid4().hex}"
    url = f"redis://:{password}@127.0.0.1:{port}/0"
    store = RedisStore(url, prefix="yamcp-test:")
    try:
        with pytest.raises(StoreUnavailable):  # nothing listens yet
            await store.ping()

        with _redis_server(port, password) as proc:
            await _until_listening(port, proc)
            await store.ping()
            rec = record()
            token_hash = await mint(store, rec)
            assert await store.resolve(token_hash) == rec

        # Down: every kind of call answers StoreUnavailable, fast, and without the secret.
        calls: list[Callable[[], Awaitable[object]]] = [
            store.ping,
            lambda: store.resolve(token_hash),
            store.list_servers,
            lambda: store.create_server(record(), hash_token(new_token())),
            lambda: store.delete_server(rec.id),
            lambda: store.touch(rec.id, utcnow()),
            lambda: store.check_admin_token(hash_token(new_token())),
        ]
        loop = asyncio.get_running_loop()
        started = loop.time()
        for call in calls:
            with pytest.raises(StoreUnavailable) as caught:
                await call()
            assert password not in str(caught.value)
        assert loop.time() - started < 3

        # Back (empty: it kept nothing): the same store object works again by itself.
        with _redis_server(port, password) as proc:
            await _until_listening(port, proc)
            await store.ping()
            assert await store.resolve(token_hash) is None
            rec = record()
            token_hash = await mint(store, rec)
            assert await store.resolve(token_hash) == rec
            assert await store.delete_server(rec.id) is True

        # A restart between two calls leaves dead sockets in the pool: the next call
        # must still succeed, not surface a spurious 503.
        with _redis_server(port, password) as proc:
            await _until_listening(port, proc)
            rec = record()
            token_hash = await mint(store, rec)
            proc.terminate()
            proc.wait(timeout=5)
        with _redis_server(port, password) as proc:
            await _until_listening(port, proc)
            assert await store.resolve(token_hash) is None
            assert await store.update_server(rec) is False
            await mint(store, record())
    finally:
        await store.close()


# --- SQLite only ---


# Its folder and files are the operator's alone (issue 13's review).
async def test_sqlite_files_are_private(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "data")
    try:
        await store.create_admin_token("adm_1", "0" * 64)
        files = [p for p in (tmp_path / "data").iterdir() if p.name.startswith("yamcp.sqlite3")]
        assert {p.name for p in files} >= {"yamcp.sqlite3", "yamcp.sqlite3-wal"}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    finally:
        await store.close()


# --- integrated accounts (created through the admin API) ---


def account(
    account_id: str | None = None, *, created_at: datetime | None = None, sealed: str = "sealed-1"
) -> AccountRecord:
    now = created_at or utcnow()
    return AccountRecord(
        id=account_id or new_id("acct"),
        integration="postmark",
        base_url="https://api.{region}.example.com",
        settings={"region": "eu"},
        defaults={"From": "a@example.com", "TrackOpens": True},
        sealed_credentials=sealed,
        created_at=now,
        updated_at=now,
    )


async def test_accounts_create_get_list_update(store: Store) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    late = account("acct_late", created_at=t0 + timedelta(hours=1))
    tie_b, tie_a = account("acct_b", created_at=t0), account("acct_a", created_at=t0)
    for rec in (late, tie_b, tie_a):
        await store.create_account(rec)
    assert await store.get_account("acct_late") == late
    assert await store.get_account("acct_unknown") is None
    assert await store.list_accounts() == [tie_a, tie_b, late]

    with pytest.raises(AccountExists):
        await store.create_account(account("acct_a", sealed="other"))
    assert await store.get_account("acct_a") == tie_a  # the taken id kept its record

    changed = late.model_copy(
        update={
            "base_url": None,
            "settings": {},
            "defaults": {"MessageStream": "outbound"},
            "sealed_credentials": "sealed-2",
            "updated_at": t0 + timedelta(hours=5),
        }
    )
    assert await store.update_account(changed) is True
    assert await store.get_account("acct_late") == changed
    # created_at is the account's birth: an update does not move it
    moved = changed.model_copy(update={"created_at": t0 + timedelta(days=9)})
    assert await store.update_account(moved) is True
    assert await store.get_account("acct_late") == changed
    assert await store.update_account(account("acct_unknown")) is False
    assert await store.get_account("acct_unknown") is None


async def test_account_record_never_shows_its_credentials() -> None:
    rec = account(sealed="yamcp1.abc.SEALEDTEXT")
    assert "SEALEDTEXT" not in repr(rec)
    assert "SEALEDTEXT" not in str(rec)
    public = rec.public()
    assert "SEALEDTEXT" not in str(public)
    assert public["source"] == "api"
    assert public["id"] == rec.id and public["settings"] == {"region": "eu"}


async def test_delete_account_takes_its_servers_and_api_tokens_only(backend: Backend) -> None:
    store = backend.store
    gone, kept = account("acct_gone"), account("acct_kept")
    await store.create_account(gone)
    await store.create_account(kept)
    doomed = [record("acct_gone", api_auth=True) for _ in range(2)]
    doomed_hashes = [await mint(store, rec) for rec in doomed]
    doomed_api = [(await api_token(store, rec.id))[1] for rec in doomed]
    mine = record("acct_kept", api_auth=True)
    mine_hash = await mint(store, mine)
    _, mine_api = await api_token(store, mine.id)

    assert await store.delete_account("acct_gone") is True
    assert await store.get_account("acct_gone") is None
    assert await store.list_accounts() == [kept]
    for rec, token_hash, api_hash in zip(doomed, doomed_hashes, doomed_api, strict=True):
        assert await store.resolve(token_hash) is None
        assert await store.get_server(rec.id) is None
        assert await store.check_api_token(rec.id, api_hash) is False
        assert await store.list_api_tokens(rec.id) == []
    assert await store.list_servers("acct_gone") == []
    assert await store.list_servers() == [mine]
    assert await store.resolve(mine_hash) == mine
    assert await store.check_api_token(mine.id, mine_api) is True
    assert await store.get_account("acct_kept") == kept
    assert await store.delete_account("acct_gone") is False
    if backend.raw is not None:  # nothing of the account or its servers is left behind
        left = await backend.contents()
        for needle in ["acct_gone", *(r.id for r in doomed), *doomed_hashes, *doomed_api]:
            assert needle.encode() not in left, needle


async def test_delete_unknown_account_leaves_servers_of_that_name(store: Store) -> None:
    """An account of the accounts file is not in the store: deleting that id through the
    store must not take its servers."""
    rec = record("acct-from-file")
    token_hash = await mint(store, rec)
    assert await store.delete_account("acct-from-file") is False
    assert await store.resolve(token_hash) == rec


async def test_account_changes_reach_another_instance_at_once(backend: Backend) -> None:
    """Two yamcp instances: a create, a change and a delete made through one are what the
    other reads next. On Redis both cache accounts and tokens, so this goes through the
    pub/sub invalidation; on SQLite two connections share the file."""
    if backend.kind == "redis":
        one = RedisStore(REDIS_URL, prefix=backend.prefix, cache_seconds=300)
        two = RedisStore(REDIS_URL, prefix=backend.prefix, cache_seconds=300)
        for instance in (one, two):
            await instance.get_account("warm-up")  # starts the subscriber
            for _ in range(100):
                if instance._listening:
                    break
                await asyncio.sleep(0.02)
            assert instance._listening
    else:
        assert backend.path is not None
        one, two = backend.store, SQLiteStore(backend.path.parent)

    async def seen_by_two(expected: AccountRecord | None) -> AccountRecord | None:
        for _ in range(50):  # a pub/sub message takes a moment to arrive
            got = await two.get_account("acct_shared")
            if got == expected:
                break
            await asyncio.sleep(0.01)
        return got

    try:
        rec = account("acct_shared")
        assert await two.get_account("acct_shared") is None
        await one.create_account(rec)
        assert await seen_by_two(rec) == rec
        server = record("acct_shared")
        token_hash = await mint(one, server)
        assert await two.resolve(token_hash) == server
        if backend.kind == "redis":  # from now on both answer from memory
            assert "acct_shared" in two._accounts
            assert token_hash in two._cache

        changed = rec.model_copy(update={"sealed_credentials": "sealed-2", "settings": {}})
        assert await one.update_account(changed) is True
        assert await seen_by_two(changed) == changed

        assert await one.delete_account("acct_shared") is True
        assert await seen_by_two(None) is None
        for _ in range(50):
            if await two.resolve(token_hash) is None:
                break
            await asyncio.sleep(0.01)
        assert await two.resolve(token_hash) is None
    finally:
        if backend.kind == "redis":
            await one.close()
        await two.close()


# --- OAuth records (proxy.oauth.grants) ---


async def test_oauth_records_put_get_take_delete(store: Store) -> None:
    until = utcnow() + timedelta(minutes=5)
    await store.put_oauth("code", "h1", {"grant": "g1"}, until)
    assert await store.get_oauth("code", "h1") == {"grant": "g1"}
    assert await store.get_oauth("access", "h1") is None  # kinds do not mix
    assert await store.take_oauth("code", "h1") == {"grant": "g1"}
    assert await store.take_oauth("code", "h1") is None  # single use
    assert await store.get_oauth("code", "h1") is None
    await store.put_oauth("client", "c1", {"client_id": "c1"}, until)
    assert await store.delete_oauth("client", "c1") is True
    assert await store.delete_oauth("client", "c1") is False


async def test_oauth_records_expire(store: Store) -> None:
    await store.put_oauth("access", "soon", {"grant": "g"}, utcnow() + timedelta(seconds=0.3))
    assert await store.get_oauth("access", "soon") == {"grant": "g"}
    await asyncio.sleep(0.5)
    assert await store.get_oauth("access", "soon") is None
    assert await store.take_oauth("access", "soon") is None


async def test_an_oauth_record_is_taken_once_under_concurrency(store: Store) -> None:
    await store.put_oauth("refresh", "r", {"grant": "g"}, utcnow() + timedelta(minutes=1))
    taken = await asyncio.gather(*(store.take_oauth("refresh", "r") for _ in range(10)))
    assert [t for t in taken if t is not None] == [{"grant": "g"}]


async def test_api_token_id_and_alive_follow_revocation(store: Store) -> None:
    rec = record(api_auth=True)
    await mint(store, rec)
    info = ApiTokenInfo(id=new_id("tok"), server_id=rec.id, created_at=utcnow())
    token_hash = hash_token(new_token())
    await store.create_api_token(info, token_hash)
    other = record(api_auth=True)
    await mint(store, other)
    assert await store.api_token_id(rec.id, token_hash) == info.id
    assert await store.api_token_id(other.id, token_hash) is None  # another server's
    assert await store.api_token_id(rec.id, hash_token("wrong")) is None
    assert await store.api_token_alive(rec.id, info.id) is True
    assert await store.api_token_alive(other.id, info.id) is False
    await store.put_oauth("grant", "g", {"x": 1}, utcnow() + timedelta(days=1), info.id)
    assert await store.delete_api_token(rec.id, info.id)
    assert await store.api_token_alive(rec.id, info.id) is False
    assert await store.api_token_id(rec.id, token_hash) is None


async def test_a_grant_goes_with_its_server_on_sqlite(tmp_path: Path) -> None:
    """SQLite drops a grant's rows with its API token, server or account (Redis refuses
    them through `api_token_alive` and lets their keys expire)."""
    store = SQLiteStore(tmp_path)
    rec = record(api_auth=True)
    await mint(store, rec)
    info = ApiTokenInfo(id=new_id("tok"), server_id=rec.id, created_at=utcnow())
    await store.create_api_token(info, hash_token(new_token()))
    await store.put_oauth("grant", "g", {"x": 1}, utcnow() + timedelta(days=1), info.id)
    assert await store.delete_server(rec.id)
    assert await store.get_oauth("grant", "g") is None
    await store.close()


# --- approvals (proxy.approvals) ---


def approval(server: ServerRecord, digest: str = "h", expires_in: float = 60) -> ApprovalRecord:
    now = utcnow()
    return ApprovalRecord(
        id=new_id("apr"),
        server_id=server.id,
        account=server.account,
        tool="create_a_x",
        arguments_hash=digest,
        arguments={"arguments": {"To": "a@example.com"}},
        summary="create_a_x To=a@example.com",
        created_at=now,
        expires_at=now + timedelta(seconds=expires_in),
    )


async def test_approvals_create_find_list_and_decide_once(store: Store) -> None:
    server = record()
    await mint(store, server)
    first = approval(server)
    await store.create_approval(first)
    assert await store.get_approval(first.id) == first
    assert await store.find_approval(server.id, "h") == first
    assert await store.find_approval(server.id, "other") is None
    later = approval(server, "h2")
    await store.create_approval(later)
    assert [a.id for a in await store.list_approvals(server.id)] == [later.id, first.id]
    assert [a.id for a in await store.list_approvals()] == [later.id, first.id]
    decided = await asyncio.gather(
        *(store.set_approval(first.id, ("pending",), status="approved") for _ in range(5))
    )
    assert [d.status for d in decided if d is not None] == ["approved"]
    claims = await asyncio.gather(
        *(store.set_approval(first.id, ("approved",), status="executing") for _ in range(10))
    )
    assert len([c for c in claims if c is not None]) == 1
    done = await store.set_approval(first.id, ("executing",), status="done", outcome="ok")
    assert done.status == "done" and done.outcome == "ok"
    assert await store.find_approval(server.id, "h") is None  # done: a new call asks anew


async def test_a_pending_approval_expires_and_cannot_be_decided(store: Store) -> None:
    server = record()
    await mint(store, server)
    soon = approval(server, expires_in=0.3)
    await store.create_approval(soon)
    await asyncio.sleep(0.5)
    assert (await store.get_approval(soon.id)).status == "expired"
    assert await store.set_approval(soon.id, ("pending",), status="approved") is None


async def test_approvals_go_with_their_server_and_account(store: Store) -> None:
    doomed, kept = record("acct-1"), record("acct-2")
    await mint(store, doomed)
    await mint(store, kept)
    gone, stays = approval(doomed), approval(kept)
    await store.create_approval(gone)
    await store.create_approval(stays)
    await store.delete_server(doomed.id)
    assert await store.get_approval(gone.id) is None
    assert [a.id for a in await store.list_approvals()] == [stays.id]
    account = AccountRecord(
        id="acct-2",
        integration="postmark",
        sealed_credentials="x",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    await store.create_account(account)
    assert await store.delete_account("acct-2")
    assert await store.get_approval(stays.id) is None


async def test_approvals_survive_a_restart_and_reach_another_instance(backend: Backend) -> None:
    server = record()
    await mint(backend.store, server)
    waiting = approval(server)
    await backend.store.create_approval(waiting)
    if backend.kind == "sqlite":
        assert backend.path is not None
        other: Store = SQLiteStore(backend.path.parent)
    else:
        other = RedisStore(REDIS_URL, prefix=backend.prefix)
    try:
        assert await other.get_approval(waiting.id) == waiting
        assert await other.set_approval(waiting.id, ("pending",), status="approved")
        assert (await backend.store.get_approval(waiting.id)).status == "approved"
    finally:
        await other.close()
