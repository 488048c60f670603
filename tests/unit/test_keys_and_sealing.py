"""Key files, sealed values and masking (shared/keys.py, shared/sealing.py, shared/masking.py)."""

from __future__ import annotations

import hashlib
import hmac
import stat
import threading
from pathlib import Path

import pytest

from services.authorization import crypto
from services.authorization.domain import hash_secret, verify_secret_or_dummy
from services.routing.domain import applicant_digest, applicant_ref
from shared.keys import KeyMissing, ServiceKeys, keys_of, parse_key_file
from shared.masking import mask_text
from shared.sealing import SealError, open_json, open_text, seal_json, seal_text

A, B = "11" * 32, "22" * 32


def test_a_key_file_holds_versions_oldest_first_and_the_last_is_current() -> None:
    keys = parse_key_file("k", f"# comment\n1:{A}\n\n{B}\n")
    assert [k.id for k in keys.versions] == ["1", hashlib.sha256(bytes.fromhex(B)).hexdigest()[:8]]
    assert keys.current.secret == bytes.fromhex(B) and keys.get("1") is not None
    assert bytes.fromhex(A).hex() not in repr(keys), "key material never shows in a repr (nor in logs)"


@pytest.mark.parametrize("text", ["", "CHANGE-ME", "1:abcd", f"1:{A}\n1:{B}", f"bad id!:{A}"])
def test_a_bad_key_file_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_key_file("k", text)


def test_configured_keys_are_read_never_generated(tmp_path: Path) -> None:
    keys = keys_of(tmp_path / "keys", tmp_path / "data", "delivery")
    with pytest.raises(KeyMissing, match="personal-data"):
        keys.keyset("personal-data")
    assert not (tmp_path / "keys").exists()


def test_embedded_keys_are_generated_once_private_per_service(tmp_path: Path) -> None:
    first = keys_of(None, tmp_path / "data", "routing").current("applicant-hash")
    again = keys_of(None, tmp_path / "data", "routing").current("applicant-hash")
    other = keys_of(None, tmp_path / "data", "delivery").current("personal-data")
    assert first == again and first.secret != other.secret
    path = tmp_path / "data" / "keys" / "routing" / "applicant-hash"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


def test_two_writers_agree_on_one_generated_key(tmp_path: Path) -> None:
    found: list[bytes] = []

    def read() -> None:
        found.append(ServiceKeys(tmp_path, generate=True).current("reason-seal").secret)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(found)) == 1


def test_an_older_embedded_installation_keeps_its_keys(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("old-master")
    legacy = hmac.new(b"old-master", b"applicant-id", hashlib.sha256).digest()
    assert keys_of(None, tmp_path, "routing").current("applicant-hash").secret == legacy


def test_sealed_values_open_under_their_version_and_context_only() -> None:
    v1 = parse_key_file("personal-data", f"1:{A}\n")
    v2 = parse_key_file("personal-data", f"1:{A}\n2:{B}\n")
    sealed = seal_json(v1, {"name": "王小明", "phone": "13987654321"}, "waybill:X:receiver")
    assert sealed.startswith("A256GCM:1.") and "13987654321" not in sealed
    assert open_json(v2, sealed, "waybill:X:receiver")["name"] == "王小明", "old versions still open"
    assert seal_text(v2, "x", "c").startswith("A256GCM:2.")
    with pytest.raises(SealError):
        open_text(v2, sealed, "waybill:Y:receiver")
    with pytest.raises(SealError):
        open_text(parse_key_file("personal-data", f"2:{B}\n"), sealed, "waybill:X:receiver")


def test_signing_key_seals_name_their_version() -> None:
    sealed = crypto.seal_versioned(b"k" * 32, "t2", bytes.fromhex(B), "kid-1")
    assert crypto.unseal_versioned(sealed, {"t1": bytes.fromhex(A), "t2": bytes.fromhex(B)}, "kid-1") == b"k" * 32
    old = crypto.seal(b"k" * 32, bytes.fromhex(A), "kid-1")  # before versions
    assert crypto.unseal_versioned(old, {"t1": bytes.fromhex(A), "t2": bytes.fromhex(B)}, "kid-1") == b"k" * 32
    with pytest.raises(ValueError):
        crypto.unseal_versioned(sealed, {"t1": bytes.fromhex(A)}, "kid-1")


def test_applicant_hashes_name_their_key_version() -> None:
    ref = applicant_ref("11010519491231002x", bytes.fromhex(B), "t2")
    assert ref.key_id == "t2" and ref.digest == applicant_digest("11010519491231002X", bytes.fromhex(B))


def test_personal_numbers_in_free_text_are_masked() -> None:
    text = mask_text("身份证110105199001010021，电话 13912345678，企业 91320505MA1XXXXX0X")
    assert "110105199001010021" not in text and "13912345678" not in text
    assert "110105********0021" in text and "139****5678" in text


def test_unknown_ids_are_checked_against_a_dummy_hash() -> None:
    stored = hash_secret("right")
    assert verify_secret_or_dummy("right", stored) and not verify_secret_or_dummy("wrong", stored)
    assert not verify_secret_or_dummy("right", None)
