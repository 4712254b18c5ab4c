"""Credentials at rest: AES-GCM under a key from the environment, the account id bound,
rotation with `yamcp keys rotate`, and never a key or a credential in a message or a log."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import stat
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio

from proxy.secrets import SecretBox, SecretKeyError, key_id, load_box, new_key
from proxy.settings import Settings
from proxy.store import AccountRecord, SQLiteStore, open_store, utcnow
from tests.support.fake_postmark import FakePostmark
from tests.support.paths import ROOT
from tests.support.plain_http import tool_call
from tests.support.serving import Yamcp

REDIS_URL = "redis://127.0.0.1:6379/0"
CREDENTIALS = {"server_token": "pm-SERVER-TOKEN-3f9a", "account_token": "pm-ACCOUNT-TOKEN-77c1"}


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)


def keyed(tmp_path: Path, *keys: str) -> SecretBox:
    return load_box(settings(tmp_path, secret_key=",".join(keys)))


def leaks(text: str, *secrets: str) -> list[str]:
    """Which of the secrets (keys, credential values) appear in the text."""
    return [s for s in secrets if s in text]


def whole(exc: BaseException) -> str:
    """Everything a traceback of the error would print, its chain included."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


@pytest.fixture(autouse=True)
def no_yamcp_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("YAMCP_"):
            monkeypatch.delenv(name)


# --- the cipher ---


def test_seal_and_open_round_trip(tmp_path: Path) -> None:
    key = new_key()
    box = keyed(tmp_path, key)
    sealed = box.seal("acct_1", CREDENTIALS)
    assert box.open("acct_1", sealed) == CREDENTIALS
    assert leaks(sealed, key, *CREDENTIALS.values()) == []
    assert sealed.split(".")[:2] == ["yamcp1", key_id_of(key)]
    # A fresh nonce each time: the same credentials never seal to the same text.
    assert box.seal("acct_1", CREDENTIALS) != sealed
    assert not box.needs_reseal(sealed)


def flip(sealed: str, at: int) -> str:
    """The sealed text with one bit of byte `at` of its nonce|ciphertext|tag flipped."""
    head, payload = sealed.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[at] ^= 0x01
    return f"{head}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def key_id_of(key: str) -> str:
    return key_id(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))


def test_a_sealed_text_moved_to_another_account_does_not_open(tmp_path: Path) -> None:
    box = keyed(tmp_path, new_key())
    sealed = box.seal("acct_1", CREDENTIALS)
    with pytest.raises(SecretKeyError) as caught:
        box.open("acct_2", sealed)
    assert "acct_2" in str(caught.value)
    assert "YAMCP_SECRET_KEY" in str(caught.value)


@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag", "truncated", "version"])
def test_a_tampered_sealed_text_does_not_open(tmp_path: Path, where: str) -> None:
    box = keyed(tmp_path, new_key())
    sealed = box.seal("acct_1", CREDENTIALS)
    head, payload = sealed.rsplit(".", 1)
    if where == "truncated":
        tampered = f"{head}.{payload[:-8]}"
    elif where == "version":
        tampered = "yamcp2" + sealed.removeprefix("yamcp1")
    else:
        tampered = flip(sealed, {"nonce": 3, "ciphertext": 20, "tag": -1}[where])
    assert tampered != sealed
    with pytest.raises(SecretKeyError):
        box.open("acct_1", tampered)


def test_a_wrong_key_is_an_error_naming_the_setting(tmp_path: Path) -> None:
    right, wrong = new_key(), new_key()
    sealed = keyed(tmp_path, right).seal("acct_1", CREDENTIALS)
    with pytest.raises(SecretKeyError) as caught:  # a key with another id
        keyed(tmp_path, wrong).open("acct_1", sealed)
    message = str(caught.value)
    assert "YAMCP_SECRET_KEY" in message and key_id_of(right) in message
    assert leaks(whole(caught.value), right, wrong, *CREDENTIALS.values()) == []

    # The same key id with other key bytes cannot be made; forge the id to reach the tag.
    forged = sealed.replace(key_id_of(right), key_id_of(wrong))
    with pytest.raises(SecretKeyError) as caught:
        keyed(tmp_path, wrong).open("acct_1", forged)
    assert "YAMCP_SECRET_KEY" in str(caught.value)
    assert leaks(whole(caught.value), right, wrong, *CREDENTIALS.values()) == []


@pytest.mark.parametrize(
    "value", ["not-a-key", "c2hvcnQ", "x" * 43 + "!", "{good},{bad}", "{good},"]
)
def test_a_malformed_key_is_an_error_naming_the_setting(tmp_path: Path, value: str) -> None:
    good = new_key()
    text = value.format(good=good, bad="Zm9vYmFy")
    if text.endswith(","):  # a trailing comma is no extra key
        assert keyed(tmp_path, text).key_ids == [key_id_of(good)]
        return
    with pytest.raises(SecretKeyError) as caught:
        keyed(tmp_path, text)
    assert "YAMCP_SECRET_KEY" in str(caught.value)
    assert leaks(whole(caught.value), good, text, "Zm9vYmFy") == []


def test_key_file_setting(tmp_path: Path) -> None:
    first, second = new_key(), new_key()
    path = tmp_path / "keys"
    path.write_text(f"# primary first\n{first}\n\n{second}\n")
    box = load_box(settings(tmp_path, secret_key_file=path))
    assert box.key_ids == [key_id_of(first), key_id_of(second)]
    assert repr(box) == f"SecretBox(source={box.source!r}, key_ids={box.key_ids!r})"

    path.write_text("garbage\n")
    with pytest.raises(SecretKeyError) as caught:
        load_box(settings(tmp_path, secret_key_file=path))
    assert "YAMCP_SECRET_KEY_FILE" in str(caught.value) and "garbage" not in str(caught.value)

    with pytest.raises(SecretKeyError) as caught:
        load_box(settings(tmp_path, secret_key_file=tmp_path / "missing"))
    assert "YAMCP_SECRET_KEY_FILE" in str(caught.value)
    with pytest.raises(SecretKeyError) as caught:
        load_box(settings(tmp_path, secret_key=first, secret_key_file=path))
    assert "not both" in str(caught.value)


def test_settings_never_show_the_key(tmp_path: Path) -> None:
    key = new_key()
    configured = settings(tmp_path, secret_key=key)
    assert leaks(repr(configured) + str(configured.model_dump()), key) == []
    box = load_box(configured)
    assert leaks(repr(box) + str(vars(box)), key) == []


# --- the generated key (embedded default) ---


def test_generated_key_file_is_private_reused_and_announced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    box = load_box(settings(tmp_path))
    path = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    created = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(created) == 1
    assert str(path) in created[0] and "Production should set YAMCP_SECRET_KEY" in created[0]
    key = path.read_text().strip()
    assert leaks(caplog.text, key) == []

    caplog.clear()
    again = load_box(settings(tmp_path))  # the next start-up: the same key, still announced
    assert again.key_ids == box.key_ids
    assert path.read_text().strip() == key
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and str(path) in warned[0] and "YAMCP_SECRET_KEY" in warned[0]
    assert again.open("acct_1", box.seal("acct_1", CREDENTIALS)) == CREDENTIALS

    path.chmod(0o644)  # someone loosened it: refuse, naming the file
    with pytest.raises(SecretKeyError) as caught:
        load_box(settings(tmp_path))
    assert str(path) in str(caught.value)
    assert leaks(whole(caught.value) + caplog.text, key) == []


# --- rotation: `yamcp keys rotate`, a real process against a real store ---


@pytest.fixture(params=["sqlite", "redis"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {"YAMCP_DATA_DIR": str(tmp_path / "data")}
    if request.param == "sqlite":
        yield env
        return
    prefix = f"yamcp-keys-{uuid.uuid4().hex[:8]}:"
    yield env | {"YAMCP_STORE_URL": REDIS_URL, "YAMCP_STORE_PREFIX": prefix}

    async def clean() -> None:
        raw = redis.asyncio.from_url(REDIS_URL)
        async for key in raw.scan_iter(match=f"{prefix}*"):
            await raw.delete(key)
        await raw.aclose()

    asyncio.run(clean())


def env_settings(env: dict[str, str]) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=Path(env["YAMCP_DATA_DIR"]),
        store_url=env.get("YAMCP_STORE_URL"),
        store_prefix=env.get("YAMCP_STORE_PREFIX", "yamcp:"),
        secret_key=env.get("YAMCP_SECRET_KEY"),
    )


def store_accounts(env: dict[str, str], box: SecretBox, ids: list[str]) -> None:
    async def work() -> None:
        store = open_store(env_settings(env))
        try:
            for account_id in ids:
                now = utcnow()
                await store.create_account(
                    AccountRecord(
                        id=account_id,
                        integration="postmark",
                        sealed_credentials=box.seal(account_id, CREDENTIALS | {"id": account_id}),
                        created_at=now,
                        updated_at=now,
                    )
                )
        finally:
            await store.close()

    asyncio.run(work())


def read_sealed(env: dict[str, str]) -> dict[str, str]:
    async def work() -> dict[str, str]:
        store = open_store(env_settings(env))
        try:
            return {a.id: a.sealed_credentials for a in await store.list_accounts()}
        finally:
            await store.close()

    return asyncio.run(work())


def rotate(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("YAMCP_")}
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", "keys", "rotate"],
        cwd=cwd,
        env=base | env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_rotation_with_the_key_setting(store_env: dict[str, str], tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    before = keyed(tmp_path, old)
    store_accounts(store_env, before, ["acct_1", "acct_2"])
    written = read_sealed(store_env)

    # Instances restarted with NEW,OLD read what was there and write under NEW...
    during = keyed(tmp_path, new, old)
    assert all(during.needs_reseal(s) for s in written.values())
    assert during.open("acct_1", written["acct_1"])["server_token"] == CREDENTIALS["server_token"]
    store_accounts(store_env, during, ["acct_3"])

    done = rotate(store_env | {"YAMCP_SECRET_KEY": f"{new},{old}"}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"re-sealed 2 of 3 account credentials under key {key_id_of(new)}" in done.stdout
    assert leaks(done.stdout + done.stderr, old, new, *CREDENTIALS.values()) == []

    # ...and once rotation is done the new key alone reads every credential.
    after = keyed(tmp_path, new)
    for account_id, sealed in read_sealed(store_env).items():
        assert not after.needs_reseal(sealed)
        assert after.open(account_id, sealed) == CREDENTIALS | {"id": account_id}
        with pytest.raises(SecretKeyError):
            before.open(account_id, sealed)

    again = rotate(store_env | {"YAMCP_SECRET_KEY": new}, tmp_path)  # nothing left to do
    assert again.returncode == 0, again.stderr
    assert "re-sealed 0 of 3" in again.stdout


def test_rotation_with_the_generated_key_file(tmp_path: Path) -> None:
    env = {"YAMCP_DATA_DIR": str(tmp_path / "data")}
    serving = load_box(env_settings(env))  # a running instance, started before the rotation
    path = tmp_path / "data" / "secret.key"
    old = path.read_text().strip()
    store_accounts(env, serving, ["acct_1"])

    done = rotate(env, tmp_path)
    assert done.returncode == 0, done.stderr
    new = path.read_text().strip()
    assert new != old and "\n" not in new
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"1/3 added new key {key_id_of(new)}")
    assert lines[1] == f"2/3 re-sealed 1 of 1 account credentials under key {key_id_of(new)}"
    assert lines[2] == f"3/3 dropped old key(s) {key_id_of(old)} from {path}"
    assert leaks(done.stdout + done.stderr, old, new, *CREDENTIALS.values()) == []

    sealed = read_sealed(env)["acct_1"]
    assert (
        load_box(env_settings(env)).open("acct_1", sealed)["account_token"]
        == (CREDENTIALS["account_token"])
    )
    # The running instance re-reads the changed file: it reads the new text, seals new.
    assert serving.open("acct_1", sealed)["server_token"] == CREDENTIALS["server_token"]
    assert serving.primary_id == key_id_of(new)


def test_rotation_leaves_what_it_cannot_open(tmp_path: Path) -> None:
    env = {"YAMCP_DATA_DIR": str(tmp_path / "data")}
    lost, new = new_key(), new_key()
    store_accounts(env, keyed(tmp_path, lost), ["acct_lost"])
    done = rotate(env | {"YAMCP_SECRET_KEY": new}, tmp_path)
    assert done.returncode == 1
    assert "acct_lost" in done.stderr and "YAMCP_SECRET_KEY" in done.stderr
    assert read_sealed(env)["acct_lost"].split(".")[1] == key_id_of(lost)  # untouched
    assert leaks(done.stdout + done.stderr, lost, new) == []


def test_a_malformed_key_stops_the_cli_with_the_setting_named(tmp_path: Path) -> None:
    bad = "Zm9vYmFyYmF6-not-a-key-" + uuid.uuid4().hex
    done = rotate({"YAMCP_DATA_DIR": str(tmp_path / "data"), "YAMCP_SECRET_KEY": bad}, tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("yamcp: YAMCP_SECRET_KEY is not a key")
    assert "Traceback" not in done.stderr
    assert leaks(done.stdout + done.stderr, bad) == []


# --- leaks ---


def test_no_key_or_credential_in_any_error_or_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key, other = new_key(), new_key()
    box = keyed(tmp_path, key)
    sealed = box.seal("acct_1", CREDENTIALS)
    payload = sealed.rsplit(".", 1)[1]
    failures = [
        lambda: box.open("acct_2", sealed),
        lambda: box.open("acct_1", flip(sealed, -1)),
        lambda: box.open("acct_1", "yamcp1.zzz." + payload),
        lambda: box.open("acct_1", "not sealed at all"),
        lambda: keyed(tmp_path, other).open("acct_1", sealed),
        lambda: keyed(tmp_path, key[:-2]),
        lambda: keyed(tmp_path, f"{key},{other[:20]}"),
    ]
    for fail in failures:
        with pytest.raises(SecretKeyError) as caught:
            fail()
        text = whole(caught.value)
        assert leaks(text, key, other, key[:-2], other[:20], *CREDENTIALS.values()) == [], text
    assert leaks(caplog.text, key, other, *CREDENTIALS.values()) == []

    async def shown() -> tuple[str, bytes]:
        store = SQLiteStore(tmp_path / "store")
        now = utcnow()
        rec = AccountRecord(
            id="acct_1", integration="postmark", sealed_credentials=sealed,
            created_at=now, updated_at=now,
        )  # fmt: skip
        await store.create_account(rec)
        got = await store.get_account("acct_1")
        await store.close()
        assert got is not None
        return repr(got) + str(got) + str(got.public()), store.path.read_bytes()

    seen, on_disk = asyncio.run(shown())
    assert leaks(seen, key, sealed, payload, *CREDENTIALS.values()) == []
    assert sealed.encode() in on_disk  # the file holds the sealed text...
    assert [c for c in CREDENTIALS.values() if c.encode() in on_disk] == []  # ...only that
    assert leaks(caplog.text, key, other, *CREDENTIALS.values()) == []


def test_serve_with_the_wrong_key_stops_at_start_naming_the_setting(tmp_path: Path) -> None:
    """Credentials sealed under one key, `yamcp serve` given another: start-up fails and
    says which setting to fix, instead of every connected account failing its first call."""
    env = {"YAMCP_DATA_DIR": str(tmp_path / "data")}
    right, wrong = new_key(), new_key()
    store_accounts(env, keyed(tmp_path, right), ["acct_1"])
    base = {k: v for k, v in os.environ.items() if not k.startswith("YAMCP_")}
    run = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "serve", "--port", "0"],
        cwd=tmp_path,
        env=base
        | env
        | {
            "YAMCP_SECRET_KEY": wrong,
            "YAMCP_INTEGRATIONS_DIRS": str(ROOT / "integrations"),
            "YAMCP_POLICIES_DIR": str(ROOT / "policies"),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "YAMCP_SECRET_KEY" in run.stdout + run.stderr
    assert leaks(run.stdout + run.stderr, right, wrong, *CREDENTIALS.values()) == []


# An upstream's error message that quotes the credential it was sent (issue 13's review).


@pytest.fixture(scope="module")
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


@pytest.mark.parametrize("as_json", [True, False])
def test_upstream_messages_never_echo_a_credential(
    url: str, postmark: FakePostmark, as_json: bool
) -> None:
    message = f"Request token '{FakePostmark.server_token}' is not valid."
    body = {"ErrorCode": 10, "Message": message} if as_json else message.encode()
    postmark.fail_next("status", status=401, body=body, path="/bounces")
    response, result = tool_call(url, "list_all_postmark_bounces", {"limit": 2})
    assert result["isError"] is True
    assert FakePostmark.server_token not in response.text
    assert "<redacted>" in result["content"][0]["text"]
