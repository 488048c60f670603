"""SM4-GCM at rest under the national suite (issue 19): the cipher, sealed values, signing-key seals, case files.

The SM4-GCM vector is RFC 8998 Appendix A.1. Every record names its cipher, so a reader takes the
cipher from what is stored: values of both suites open whatever the setting now is, and the
records from before ciphers were named (AES-256-GCM) still open.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.authorization import crypto
from services.routing.files.crypto import CHUNK, SealBroken, Sealer, Sealing, cipher_range, open_range, unwrap_key
from shared.contracts.files import CaseFilesPurged, CaseMaterialAdded
from shared.crypto import Aead, AeadName, DecryptionError, Hasher, HashName, derive_key, hexdigest
from shared.keys import keys_of, parse_key_file
from shared.sealing import SealError, needs_reseal, open_json, open_text, seal_json, seal_text, sealed_with

SECRET = "5a" * 32
INTERNATIONAL_KEYS = parse_key_file("personal-data", f"1:{SECRET}\n")
NATIONAL_KEYS = replace(INTERNATIONAL_KEYS, cipher=AeadName.SM4_GCM)

# RFC 8998, Appendix A.1 (SM4-GCM).
KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
IV = bytes.fromhex("00001234567800000000ABCD")
AAD = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
PLAIN = bytes.fromhex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
                      "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA")
CIPHERTEXT = bytes.fromhex("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
                           "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D")
TAG = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")


def test_sm4_block_of_gb_t_32907_through_the_library() -> None:
    key = plain = bytes.fromhex("0123456789abcdeffedcba9876543210")
    block = Cipher(algorithms.SM4(key), modes.ECB()).encryptor().update(plain)
    assert block.hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_gcm_vector_of_rfc_8998() -> None:
    aead = Aead(AeadName.SM4_GCM, KEY)
    assert aead.encrypt_at(IV, PLAIN, AAD) == CIPHERTEXT + TAG
    assert aead.decrypt_at(IV, CIPHERTEXT + TAG, AAD) == PLAIN
    assert aead.decrypt(IV + CIPHERTEXT + TAG, AAD) == PLAIN
    for bad in (CIPHERTEXT + TAG[:-1] + bytes([TAG[-1] ^ 1]), CIPHERTEXT[1:] + TAG):
        with pytest.raises(DecryptionError):
            aead.decrypt_at(IV, bad, AAD)
    with pytest.raises(DecryptionError):
        aead.decrypt_at(IV, CIPHERTEXT + TAG, AAD[:-1])
    with pytest.raises(ValueError, match="12 bytes"):
        aead.encrypt_at(IV[:8], PLAIN)


def test_each_cipher_derives_its_key_with_its_own_hash() -> None:
    secret = bytes.fromhex(SECRET)
    assert derive_key(AeadName.AES_256_GCM, secret, "p") == HKDF(hashes.SHA256(), 32, None, b"p").derive(secret)
    assert derive_key(AeadName.SM4_GCM, secret, "p") == HKDF(hashes.SM3(), 16, None, b"p").derive(secret)
    assert Aead.generate_key("SM4GCM") != Aead.generate_key("SM4GCM") and len(Aead.generate_key("A256GCM")) == 32


def test_a_running_hasher_matches_the_one_shot_digests() -> None:
    for name in HashName:
        hasher = Hasher(name)
        for part in (b"ab", b"", b"c"):
            hasher.update(part)
        assert hasher.hexdigest() == hexdigest(name, b"abc")
    assert hexdigest("sm3", b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_the_suite_setting_picks_the_cipher_of_every_key_set(tmp_path: Path) -> None:
    assert keys_of(None, tmp_path, "delivery", "national").keyset("personal-data").cipher is AeadName.SM4_GCM
    assert keys_of(None, tmp_path, "delivery").keyset("personal-data").cipher is AeadName.AES_256_GCM


# --------------------------------------------------------------------------- sealed values (shared/sealing.py)


def _legacy_seal(plaintext: str, context: str) -> str:
    """A value as shared/sealing.py made it before ciphers were named: ``<key id>.<AES-256-GCM>``."""
    key = HKDF(hashes.SHA256(), 32, salt=None, info=b"tongban-seal-v1").derive(bytes.fromhex(SECRET))
    nonce = os.urandom(12)
    body = nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return "1." + base64.urlsafe_b64encode(body).decode().rstrip("=")


def test_values_name_their_cipher_and_open_under_either_setting() -> None:
    address = {"name": "王小明", "phone": "13987654321"}
    national = seal_json(NATIONAL_KEYS, address, "waybill:X:receiver")
    international = seal_json(INTERNATIONAL_KEYS, address, "waybill:X:receiver")
    assert national.startswith("SM4GCM:1.") and international.startswith("A256GCM:1.")
    assert sealed_with(national) == (AeadName.SM4_GCM, "1") and "13987654321" not in national
    for keys in (NATIONAL_KEYS, INTERNATIONAL_KEYS):  # the reader takes the cipher from the value
        assert open_json(keys, national, "waybill:X:receiver") == address
        assert open_json(keys, international, "waybill:X:receiver") == address
    assert needs_reseal(NATIONAL_KEYS, international) and not needs_reseal(NATIONAL_KEYS, national)


def test_an_sm4_value_is_sm4_gcm_under_an_hkdf_sm3_key() -> None:
    """Open a national value with the library's primitives alone: it is SM4-GCM, nothing of our own."""
    sealed = seal_text(NATIONAL_KEYS, "上海市杨浦区", "case:c:step:1:reason")
    data = sealed.rpartition(".")[2]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    key = HKDF(hashes.SM3(), 16, salt=None, info=b"tongban-seal-v1").derive(bytes.fromhex(SECRET))
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(raw[:12], raw[-16:])).decryptor()
    decryptor.authenticate_additional_data(b"case:c:step:1:reason")
    assert (decryptor.update(raw[12:-16]) + decryptor.finalize()).decode() == "上海市杨浦区"


def test_values_from_before_ciphers_were_named_still_open() -> None:
    legacy = _legacy_seal("13987654321", "waybill:X:sender")
    assert sealed_with(legacy) == (AeadName.AES_256_GCM, "1")
    assert open_text(NATIONAL_KEYS, legacy, "waybill:X:sender") == "13987654321"
    assert needs_reseal(NATIONAL_KEYS, legacy) and not needs_reseal(INTERNATIONAL_KEYS, legacy)


def test_a_value_whose_cipher_name_is_changed_or_unknown_does_not_open() -> None:
    national = seal_text(NATIONAL_KEYS, "x", "c")
    with pytest.raises(SealError, match="A256GCM"):
        open_text(NATIONAL_KEYS, "A256GCM:" + national.removeprefix("SM4GCM:"), "c")
    with pytest.raises(SealError, match="unknown cipher"):
        open_text(NATIONAL_KEYS, "DES:" + national.removeprefix("SM4GCM:"), "c")
    with pytest.raises(SealError):
        open_text(NATIONAL_KEYS, national, "another context")


# --------------------------------------------------------------------------- signing keys (authorization)


def test_signing_keys_are_sealed_with_the_named_cipher() -> None:
    secret, raw = bytes.fromhex(SECRET), os.urandom(32)
    sealed = crypto.seal_named(raw, AeadName.SM4_GCM, "t2", secret, "kid-1")
    assert sealed.startswith(b"TBS2\x06SM4GCM\x02t2")
    assert crypto.sealed_cipher(sealed) is AeadName.SM4_GCM and crypto.sealed_under(sealed) == "t2"
    assert crypto.unseal_versioned(sealed, {"t2": secret}, "kid-1") == raw
    key = HKDF(hashes.SM3(), 16, salt=None, info=b"tongban-signing-key-seal-v2").derive(secret)
    assert Aead(AeadName.SM4_GCM, key).decrypt(sealed[len(b"TBS2\x06SM4GCM\x02t2"):], b"kid-1") == raw
    with pytest.raises(ValueError, match="SM4GCM"):
        crypto.unseal_versioned(sealed, {"t2": secret}, "kid-2")
    with pytest.raises(ValueError, match="not configured"):
        crypto.unseal_versioned(sealed, {"t1": secret}, "kid-1")
    aes = crypto.seal_named(raw, AeadName.AES_256_GCM, "t2", secret, "kid-1")
    assert crypto.sealed_cipher(aes) is AeadName.AES_256_GCM and crypto.unseal_versioned(aes, {"t2": secret},
                                                                                          "kid-1") == raw
    older = crypto.seal_versioned(raw, "t1", secret, "kid-1")  # TBS1: AES-256-GCM before ciphers were named
    assert crypto.sealed_cipher(older) is AeadName.AES_256_GCM and crypto.sealed_under(older) == "t1"
    assert crypto.unseal_versioned(older, {"t1": secret}, "kid-1") == raw


# --------------------------------------------------------------------------- case files (routing)


def _key_of(key_id: str, cipher: AeadName) -> bytes:
    return derive_key(cipher, hashlib.sha256(key_id.encode()).digest(), "tongban-case-files-v1")


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), 7000):
        yield data[offset:offset + 7000]


def _seal_file(data: bytes, cipher: AeadName, file_id: str = "f-1") -> tuple[bytes, Sealing]:
    sealer = Sealer(file_id, "k1", _key_of, cipher)
    return sealer.feed(data) + sealer.finish(), sealer.sealing


async def _open(stored: bytes, sealing: Sealing, size: int, start: int, end: int, file_id: str = "f-1") -> bytes:
    _first, lo, hi = cipher_range(size, sealing.header_length, start, end)
    return b"".join([p async for p in open_range(_chunks(stored[lo:hi + 1]), file_id, size, sealing, _key_of,
                                                 start, end)])


@pytest.mark.parametrize("size", [1, CHUNK, 3 * CHUNK + 5])
async def test_a_case_file_sealed_with_sm4_gcm_opens_by_range(size: int) -> None:
    data = os.urandom(size)
    stored, sealing = _seal_file(data, AeadName.SM4_GCM)
    assert stored.startswith(b"TBF2\x06SM4GCM\x02k1") and len(sealing.wrapped_key) == 12 + 16 + 16
    assert size < 16 or data[:32] not in stored
    assert await _open(stored, sealing, size, 0, size - 1) == data
    assert await _open(stored, sealing, size, size // 2, size - 1) == data[size // 2:]


async def test_an_sm4_file_is_sm4_gcm_chunk_by_chunk() -> None:
    """The first chunk of a stored object decrypts with the library's SM4-GCM and the unwrapped data key."""
    data = os.urandom(CHUNK + 10)
    stored, sealing = _seal_file(data, AeadName.SM4_GCM)
    data_key = unwrap_key(sealing, _key_of("k1", AeadName.SM4_GCM), "f-1")
    first = stored[sealing.header_length:sealing.header_length + CHUNK + 16]
    decryptor = Cipher(algorithms.SM4(data_key), modes.GCM(sealing.nonce_prefix + bytes(4), first[-16:])).decryptor()
    decryptor.authenticate_additional_data(b"f-1" + bytes(4) + b"\x00")
    assert decryptor.update(first[:-16]) + decryptor.finalize() == data[:CHUNK]


async def test_files_of_both_ciphers_open_by_what_their_record_names() -> None:
    data = os.urandom(2 * CHUNK)
    aes, aes_sealing = _seal_file(data, AeadName.AES_256_GCM)
    sm4, sm4_sealing = _seal_file(data, AeadName.SM4_GCM)
    assert aes.startswith(b"TBF2\x07A256GCM") and aes_sealing.cipher is AeadName.AES_256_GCM
    assert await _open(aes, aes_sealing, len(data), 0, len(data) - 1) == data
    assert await _open(sm4, sm4_sealing, len(data), 0, len(data) - 1) == data
    with pytest.raises(SealBroken):  # a record that names the wrong cipher opens nothing
        await _open(sm4, Sealing(sm4_sealing.key_id, sm4_sealing.wrapped_key, sm4_sealing.nonce_prefix,
                                 sm4_sealing.header_length, AeadName.AES_256_GCM), len(data), 0, 10)
    with pytest.raises(SealBroken):  # the wrapped key is bound to its file
        await _open(sm4, sm4_sealing, len(data), 0, 10, file_id="f-2")


def test_file_events_carry_sm3_only_when_there_is_one() -> None:
    base = {"case_id": "c", "kind": "material", "sha256": "a" * 64, "size": 1, "content_type": "application/pdf",
            "by_locality": "310110", "files_in": 1, "complete": True}
    assert "sm3" not in CaseMaterialAdded(**base).model_dump(mode="json"), "international events are unchanged"
    national = CaseMaterialAdded(**base, sm3="b" * 64).model_dump(mode="json")
    assert national["sm3"] == "b" * 64 and CaseMaterialAdded.model_validate(national).sm3 == "b" * 64
    with pytest.raises(ValueError):
        CaseMaterialAdded(**base, sm3="not hex")
    purged = CaseFilesPurged(case_id="c", sha256s=["a" * 64], sm3s=["b" * 64], bytes=1)
    assert json.loads(purged.model_dump_json())["sm3s"] == ["b" * 64]
    assert "sm3s" not in CaseFilesPurged(case_id="c", sha256s=[], bytes=0).model_dump(mode="json")


# --------------------------------------------------------------------------- declared materials


def test_a_material_may_declare_its_sm3_beside_its_sha256() -> None:
    from services.authorization.api.schemas import Material as AttestedMaterial
    from services.routing.api.cases import MaterialIn
    from services.routing.domain import Material
    from services.routing.domain.files import FileKind, declared_sm3
    from tests.unit.test_case_file_rules import case

    declared = Material.from_dict({"name": "身份证", "form": "electronic", "sha256": "a" * 64, "sm3": "b" * 64})
    assert declared.to_dict()["sm3"] == "b" * 64
    assert "sm3" not in Material("户口簿", "electronic", "c" * 64).to_dict(), "older forms stay as they were"
    with pytest.raises(ValueError, match="beside the SHA-256"):
        MaterialIn(name="x", form="electronic", sm3="b" * 64)
    attested = AttestedMaterial(name="x", form="electronic", sha256="a" * 64).model_dump(mode="json")
    assert attested == {"name": "x", "sha256": "a" * 64, "form": "electronic"}, "international attestations unchanged"
    one = replace(case(), materials=(declared, Material("户口簿", "electronic", "c" * 64)))
    assert declared_sm3(one, FileKind.MATERIAL, "a" * 64) == "b" * 64
    assert declared_sm3(one, FileKind.MATERIAL, "c" * 64) is None
    assert declared_sm3(one, FileKind.SUPPLEMENT, "a" * 64) is None
