"""Credentials at rest: sealed with AES-GCM (cryptography's AESGCM), the account id bound
as associated data, under a key from the environment.

Where the key comes from, first match wins:

* `YAMCP_SECRET_KEY`: base64url of 32 random bytes; several comma-separated keys may be
  given, the first seals and every one opens (how a rotation keeps old and new readable);
* `YAMCP_SECRET_KEY_FILE`: a file of such keys, one a line, the first primary;
* neither (the embedded default only): `<data_dir>/secret.key`, created mode 0600 on
  first use, with a warning that says where and that production should set one.

A sealed text is `yamcp1.<key id>.<base64url(nonce | ciphertext | tag)>`. The key id is a
short hash of the key, so every process derives the same id from the same key and a
reader knows which of its keys to try. Nothing here ever puts a key or a credential in a
message, a repr or an exception chain.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import YamcpError
from .settings import Settings

log = logging.getLogger("yamcp")

KEY_SETTING = "YAMCP_SECRET_KEY"
KEY_FILE_SETTING = "YAMCP_SECRET_KEY_FILE"
GENERATED_NAME = "secret.key"
_VERSION = "yamcp1"
_NONCE_BYTES = 12  # 96 bits, the size GCM is specified for; random per seal


class SecretKeyError(YamcpError):
    """A key is missing, malformed or not the one a credential was sealed under. The
    message names the setting (or file) to fix, never a key or a credential."""


def new_key() -> str:
    """A fresh key as the settings take it: base64url of 32 random bytes, unpadded."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"yamcp secret key id\0" + key).hexdigest()[:12]


def _decode_key(text: str, source: str, position: int) -> bytes:
    where = f"{source}: key {position}" if position > 1 else source
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        # `from None`: the decoder's own message could quote part of the text.
        raise SecretKeyError(
            f"{where} is not a key: it must be base64url of 32 random bytes "
            '(make one with: python -c "import base64,os;'
            'print(base64.urlsafe_b64encode(os.urandom(32)).decode())")'
        ) from None
    return raw


def parse_keys(texts: list[str], source: str) -> list[bytes]:
    keys = [_decode_key(text.strip(), source, i) for i, text in enumerate(texts, 1)]
    if not keys:
        raise SecretKeyError(f"{source} holds no key")
    return keys


class SecretBox:
    """Seals credentials under the primary key; opens them under any key it holds.

    A box read from a key file (`YAMCP_SECRET_KEY_FILE` or the generated one) re-reads
    the file when it changes: before sealing, and when a sealed text names a key it does
    not hold. So `yamcp keys rotate` on a file reaches running instances without a
    restart. A box from `YAMCP_SECRET_KEY` holds what the environment gave it at start.
    """

    def __init__(
        self,
        keys: list[bytes],
        source: str,
        reload: Callable[[], list[bytes] | None] | None = None,
    ) -> None:
        self.source = source  # the setting or file to name in an error
        self._reload = reload
        self._use(keys)

    def _use(self, keys: list[bytes]) -> None:
        self._ciphers = {key_id(k): AESGCM(k) for k in keys}
        self.primary_id = key_id(keys[0])

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    def __repr__(self) -> str:
        return f"SecretBox(source={self.source!r}, key_ids={self.key_ids!r})"

    def _refresh(self) -> None:
        if self._reload is not None and (keys := self._reload()) is not None:
            self._use(keys)

    def seal(self, account_id: str, credentials: dict[str, str]) -> str:
        self._refresh()
        nonce = os.urandom(_NONCE_BYTES)
        plain = orjson.dumps(credentials)
        sealed = self._ciphers[self.primary_id].encrypt(nonce, plain, account_id.encode())
        text = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{_VERSION}.{self.primary_id}.{text}"

    def open(self, account_id: str, sealed: str) -> dict[str, str]:
        kid, payload = self._split(account_id, sealed)
        if kid not in self._ciphers:
            self._refresh()
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise SecretKeyError(
                f"the credentials of account {account_id!r} were sealed under key {kid}, "
                f"which {self.source} does not hold (it holds {', '.join(self.key_ids)}); "
                "set the key they were sealed under, or re-enter the credentials"
            )
        try:
            plain = cipher.decrypt(payload[:_NONCE_BYTES], payload[_NONCE_BYTES:],
                                   account_id.encode())  # fmt: skip
        except InvalidTag:
            raise SecretKeyError(
                f"the credentials of account {account_id!r} do not open under key {kid} of "
                f"{self.source}: the key is not the one they were sealed with, or the record "
                "was altered or belongs to another account"
            ) from None
        credentials = orjson.loads(plain)
        if not isinstance(credentials, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in credentials.items()
        ):
            raise SecretKeyError(f"the credentials of account {account_id!r} are not a mapping")
        return credentials

    def needs_reseal(self, sealed: str) -> bool:
        return sealed.split(".", 2)[1:2] != [self.primary_id]

    @staticmethod
    def _split(account_id: str, sealed: str) -> tuple[str, bytes]:
        parts = sealed.split(".")
        if len(parts) == 3 and parts[0] == _VERSION:
            try:
                payload = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
            except (binascii.Error, ValueError):
                payload = b""
            if len(payload) > _NONCE_BYTES + 16:
                return parts[1], payload
        raise SecretKeyError(
            f"the credentials of account {account_id!r} are not a sealed text yamcp wrote"
        )


def read_key_file(path: Path, source: str) -> list[bytes]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise SecretKeyError(
            f"{source}: cannot read {path} ({exc.strerror or type(exc).__name__})"
        ) from None
    lines = [line.strip() for line in text.splitlines()]
    return parse_keys([line for line in lines if line and not line.startswith("#")], source)


def _file_reloader(path: Path, source: str) -> Callable[[], list[bytes] | None]:
    """Keys of the file again when its mtime or size changed, else None (one stat)."""

    def stamp() -> tuple[int, int] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    seen = [stamp()]

    def reload() -> list[bytes] | None:
        now = stamp()
        if now is None or now == seen[0]:
            return None
        try:
            keys = read_key_file(path, source)
        except SecretKeyError:
            return None  # caught mid-write or broken: keep what we hold, say so at start-up
        seen[0] = now
        return keys

    return reload


def generated_key_path(settings: Settings) -> Path:
    return settings.data_dir / GENERATED_NAME


def write_key_file(path: Path, keys: list[str]) -> None:
    """Replace the file at once (write aside, then rename), mode 0600 from the start."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write("".join(f"{key}\n" for key in keys))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _generated(settings: Settings) -> tuple[list[bytes], str, Path]:
    path = generated_key_path(settings)
    source = f"the generated key file {path}"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(new_key() + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # fails if another worker made one first: use theirs
            log.warning(
                "secret key: neither %s nor %s is set, so a key was generated into %s "
                "(mode 0600); it seals the credentials of accounts created through the "
                "admin API. Production should set %s.",
                KEY_SETTING, KEY_FILE_SETTING, path, KEY_SETTING,
            )  # fmt: skip
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    else:
        log.warning(
            "secret key: neither %s nor %s is set; using the key generated into %s. "
            "Production should set %s.",
            KEY_SETTING, KEY_FILE_SETTING, path, KEY_SETTING,
        )  # fmt: skip
    if path.stat().st_mode & 0o077:
        raise SecretKeyError(f"{source} may be read by others: chmod 600 {path}")
    return read_key_file(path, source), source, path


def load_box(settings: Settings) -> SecretBox:
    """The box start-up uses; a missing or malformed key is a SecretKeyError here, naming
    the setting, never on the first tool call."""
    if settings.secret_key is not None and settings.secret_key_file is not None:
        raise SecretKeyError(f"set {KEY_SETTING} or {KEY_FILE_SETTING}, not both")
    if settings.secret_key is not None:
        texts = [t for t in settings.secret_key.get_secret_value().split(",") if t.strip()]
        return SecretBox(parse_keys(texts, KEY_SETTING), KEY_SETTING)
    if settings.secret_key_file is not None:
        path = settings.secret_key_file
        source = f"{KEY_FILE_SETTING} ({path})"
        return SecretBox(read_key_file(path, source), source, _file_reloader(path, source))
    if settings.store_url:
        log.warning(
            "secret key: %s is shared by several instances, but no %s is set: each instance "
            "generates its own key and cannot read credentials another one sealed. Set %s "
            "to the same key on every instance.",
            "YAMCP_STORE_URL", KEY_SETTING, KEY_SETTING,
        )  # fmt: skip
    keys, source, path = _generated(settings)
    return SecretBox(keys, source, _file_reloader(path, source))
