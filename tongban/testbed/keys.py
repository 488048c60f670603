"""Known keys for systems started by the tests: one folder per service, holding only its own keys.

Each service process gets ``TONGBAN_KEYS_DIR`` pointing at its folder (the production path: keys
read from files, never generated), and tests that must sign as a carrier or open a sealed value
know the keys from :func:`known_key`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CARRIERS = ("ems", "cnpost")
KEY_NAMES: dict[str, tuple[str, ...]] = {
    "authorization": ("signing-key-seal",),
    "routing": ("applicant-hash", "reason-seal", "file-seal", "applicant-seal"),
    "delivery": ("personal-data", *(f"carrier-hmac-{c}" for c in CARRIERS)),
    "catalogue": (),
    "dashboard": (),
    "webhooks": ("secret-seal",),
}
"""The keys each service needs; no service holds another's."""


def known_key(service: str, name: str, version: str = "t1") -> bytes:
    """The test value of one version of a service's key."""
    return hashlib.sha256(f"tongban-test:{service}:{name}:{version}".encode()).digest()


def write_test_keys(root: Path) -> dict[str, Path]:
    """Write every service's keys under ``root/<service>/``; the folder of each service."""
    folders: dict[str, Path] = {}
    for service, names in KEY_NAMES.items():
        folder = root / service
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name in names:
            path = folder / name
            if not path.exists():
                path.write_text(f"t1:{known_key(service, name).hex()}\n")
                path.chmod(0o600)
        folders[service] = folder
    return folders
