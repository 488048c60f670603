"""Keys of one service, one file per purpose, each rotatable on its own.

A service reads its keys from its own folder: ``TONGBAN_KEYS_DIR`` in production (a Kubernetes
Secret or compose secrets mounted as files, holding only that service's keys), or, when it is not
set, ``<data dir>/keys/<service>/`` where missing keys are generated (the embedded system needs no
configuration). A key file holds one key per line, oldest first, as ``<key id>:<hex>`` (or bare
hex, whose id is its fingerprint); the last line is the current key, which makes new hashes,
seals and signatures, and every line still verifies or opens what it made. Rotating a key is
appending a line and restarting the service. Key material never reaches a log or a ``repr``.

A key set also names the cipher that new seals under it use: the deployment's suite
(``TONGBAN_CRYPTO_SUITE``: AES-256-GCM or SM4-GCM). What was sealed records its own cipher.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from shared.crypto import AeadName, suite
from shared.db import private_dirs

log = logging.getLogger("tongban.keys")

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
LEGACY_PURPOSES = {"signing-key-seal": "signing-keys", "applicant-hash": "applicant-id"}
"""Key names whose first version, in an embedded data dir made before per-service keys, came from
``secret.key`` under this purpose (so an existing installation keeps opening what it sealed)."""


class KeyMissing(RuntimeError):
    """A key file the service needs is absent or unreadable in a configured keys folder."""


@dataclass(frozen=True)
class Key:
    """One version of a key: its id (stored beside what it made) and its 32 bytes."""

    id: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class KeySet:
    """The versions of one key, oldest first; the last is current."""

    name: str
    versions: tuple[Key, ...]
    cipher: AeadName = AeadName.AES_256_GCM
    """The cipher new seals under this key use (the suite's); each seal records its own."""

    @property
    def current(self) -> Key:
        """The key that makes new hashes, seals and signatures."""
        return self.versions[-1]

    def get(self, key_id: str) -> Key | None:
        """The version with this id, or None."""
        return next((k for k in self.versions if k.id == key_id), None)


def fingerprint(secret: bytes) -> str:
    """The id of a key written without one: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(secret).hexdigest()[:8]


def parse_key_file(name: str, text: str) -> KeySet:
    """The versions in a key file's text; ValueError naming the line when one is not a key."""
    versions: list[Key] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key_id, sep, value = line.rpartition(":")
        try:
            secret = bytes.fromhex(value)
        except ValueError:
            raise ValueError(f"key file {name}, line {number}: the key is not hex") from None
        if len(secret) < 16:
            raise ValueError(f"key file {name}, line {number}: a key needs at least 16 bytes (32 hex digits)")
        key_id = key_id if sep else fingerprint(secret)
        if not _ID.match(key_id):
            raise ValueError(f"key file {name}, line {number}: a key id is 1-32 of A-Z a-z 0-9 . _ -")
        if any(k.id == key_id for k in versions):
            raise ValueError(f"key file {name}, line {number}: key id {key_id} appears twice")
        versions.append(Key(key_id, secret))
    if not versions:
        raise ValueError(f"key file {name} holds no key")
    return KeySet(name, tuple(versions))


class ServiceKeys:
    """The keys of one service, read from its folder (generated there when ``generate``)."""

    def __init__(self, directory: Path, generate: bool, legacy_secret: Path | None = None,
                 cipher: AeadName = AeadName.AES_256_GCM) -> None:
        self.directory = directory
        self.generate = generate
        self.legacy_secret = legacy_secret
        self.cipher = cipher
        """What new seals use (the deployment's suite)."""
        self._cache: dict[str, KeySet] = {}

    def __repr__(self) -> str:
        return f"ServiceKeys({str(self.directory)!r}, generate={self.generate})"

    def keyset(self, name: str) -> KeySet:
        """All versions of the key ``name`` (read once per process)."""
        if not _NAME.match(name):
            raise ValueError(f"not a key name: {name!r}")
        found = self._cache.get(name)
        if found is None:
            found = self._cache[name] = self._read(name)
        return found

    def current(self, name: str) -> Key:
        """The current version of the key ``name``."""
        return self.keyset(name).current

    def _read(self, name: str) -> KeySet:
        path = self.directory / name
        if not path.exists() and self.generate:
            self._create(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyMissing(f"key {name} is missing: put it in {path} (one `<id>:<hex>` line, "
                             f"e.g. from `openssl rand -hex 32`)") from exc
        try:
            return replace(parse_key_file(name, text), cipher=self.cipher)
        except ValueError as exc:
            raise KeyMissing(str(exc)) from None

    def _create(self, path: Path) -> None:
        """A first key, written atomically with mode 0600 (a second writer keeps the first's)."""
        private_dirs(path.parent)
        secret = self._legacy(path.name) or secrets.token_bytes(32)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"# generated; append a line `<id>:<hex>` to rotate\n1:{secret.hex()}\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink()
        log.info("key generated", extra={"key": path.name, "folder": str(path.parent)})

    def _legacy(self, name: str) -> bytes | None:
        """The key an installation from before per-service keys derived from its data dir's secret."""
        import hmac

        purpose = LEGACY_PURPOSES.get(name) or (
            "carrier-hmac:" + name.removeprefix("carrier-hmac-") if name.startswith("carrier-hmac-") else None)
        if purpose is None or self.legacy_secret is None or not self.legacy_secret.exists():
            return None
        master = self.legacy_secret.read_text().strip().encode("utf-8")
        return hmac.new(master, purpose.encode("utf-8"), hashlib.sha256).digest()


def keys_of(keys_dir: Path | None, data_dir: Path, service: str, crypto_suite: str = "international") -> ServiceKeys:
    """A service's keys: the configured folder (never generated into), else its own under the data dir;
    new seals under them use the cipher of ``crypto_suite``."""
    cipher = suite(crypto_suite).aead
    if keys_dir is not None:
        return ServiceKeys(keys_dir, generate=False, cipher=cipher)
    return ServiceKeys(data_dir / "keys" / service, generate=True, legacy_secret=data_dir / "secret.key",
                       cipher=cipher)
