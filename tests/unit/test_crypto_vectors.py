"""The national algorithms against the test vectors published with their standards.

SM3: GB/T 32905-2016 Annex A (examples 1 and 2). SM4: GB/T 32907-2016 Annex A (one block, and the
same block encrypted 1,000,000 times). SM2: GB/T 32918.5-2017 / GM/T 0003.5-2012 Annex A, the
signature example on the recommended curve with user id "1234567812345678" and message
"message digest": the public key OpenSSL derives from the private key, the Z value and digest e,
and the published signature (r, s) made with the fixed k. OpenSSL does not take a caller's k, so
the fixed-k signature is verified rather than reproduced; fresh signatures are checked against it.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from shared.crypto import NATIONAL, SM2_USER_ID, Algorithm, HashName, Sm2Private, Sm2Public, digest, hexdigest

# GB/T 32918.5 recommended curve parameters (also the SM2 curve OpenSSL names "SM2").
A = bytes.fromhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC")
B = bytes.fromhex("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93")
GX = bytes.fromhex("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7")
GY = bytes.fromhex("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")

# The signature example.
D = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
PX = bytes.fromhex("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020")
PY = bytes.fromhex("CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13")
ZA = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
R = bytes.fromhex("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3")
S = bytes.fromhex("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
MESSAGE = b"message digest"


def test_sm3_examples_of_gb_t_32905() -> None:
    assert hexdigest(HashName.SM3, b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert hexdigest(HashName.SM3, b"abcd" * 16) == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
    assert NATIONAL.hexdigest(b"abc") == hexdigest("sm3", b"abc")


def test_sm4_examples_of_gb_t_32907() -> None:
    key = plain = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    block = encryptor.update(plain)
    assert block.hex() == "681edf34d206965e86b3e94f536e4246"
    for _ in range(999_999):
        block = encryptor.update(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm2_public_key_of_the_example_private_key() -> None:
    key = Sm2Private(D)
    assert key.algorithm is Algorithm.SM2
    assert key.public_key().raw == b"\x04" + PX + PY
    assert key.private_bytes() == D


def test_sm2_z_value_and_digest_use_the_default_user_id() -> None:
    assert SM2_USER_ID == b"1234567812345678"
    entl = (len(SM2_USER_ID) * 8).to_bytes(2, "big")
    z = digest("sm3", entl + SM2_USER_ID + A + B + GX + GY + PX + PY)
    assert z.hex() == ZA
    assert digest("sm3", z + MESSAGE).hex() == E


def test_sm2_published_signature_verifies_and_a_changed_one_does_not() -> None:
    public = Sm2Public.from_coordinates(PX, PY)
    assert public.verify(R + S, MESSAGE)
    assert not public.verify(R + S, b"message digesT")
    assert not public.verify(R + bytes(31) + b"\x01", MESSAGE)
    other_id = Sm2Public(b"\x04" + PX + PY, user_id=b"ALICE123@YAHOO.COM")
    assert not other_id.verify(R + S, MESSAGE)  # the user id is part of what is signed


def test_sm2_fresh_signatures_with_the_example_key_verify_under_its_public_key() -> None:
    key = Sm2Private(D)
    public = Sm2Public.from_coordinates(PX, PY)
    first, second = key.sign(MESSAGE), key.sign(MESSAGE)
    assert first != second  # a fresh k each time
    assert public.verify(first, MESSAGE) and public.verify(second, MESSAGE)
