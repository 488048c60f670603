"""Encryption of case files: AES-256-GCM or SM4-GCM in chunks under a per-file data key, wrapped by routing's key.

The cipher is the deployment suite's when the file arrives (docs/cryptography.md) and is recorded
with the file (its row and its object's header), so files of both ciphers open whatever the suite is
now. The data key is wrapped with the same family: AES key wrap (RFC 3394) under an AES-256 key, or
SM4-GCM under an SM4 key bound to the file id; the wrapping key comes from routing's ``file-seal``
key by HKDF with the cipher's own hash.

An object is a header (magic, the cipher, the wrapping key's id, the wrapped data key, the nonce
prefix, the chunk size) followed by the chunks, each ``CHUNK`` bytes of plaintext (the last one shorter) sealed
with its own nonce (prefix + chunk number) and bound to the file id, its number and whether it is the
last one, so chunks cannot be reordered, swapped between files or cut off. A byte range is read by
fetching and opening only the chunks it touches. Keys rotate by id: new files are wrapped by the
current id's key, old files keep naming theirs, nothing is rewritten.
"""

from __future__ import annotations

import os
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from shared.crypto import Aead, AeadName, DecryptionError

CHUNK = 64 * 1024
TAG = 16
MAGIC = b"TBF1"
"""Header of the objects sealed before ciphers were named (AES-256-GCM; read, no longer written)."""
NAMED_MAGIC = b"TBF2"
"""Header of an object that names its cipher."""

KeyOf = Callable[[str, AeadName], bytes]
"""The wrapping key of a key id for a cipher (32 bytes for AES-256, 16 for SM4)."""


@dataclass(frozen=True)
class Sealing:
    """How one file was sealed: enough, with routing's keys, to open any range of it."""

    key_id: str
    wrapped_key: bytes
    nonce_prefix: bytes
    header_length: int
    cipher: AeadName = AeadName.AES_256_GCM

    def header(self) -> bytes:
        """The object's header."""
        kid, name = self.key_id.encode(), self.cipher.value.encode()
        return NAMED_MAGIC + struct.pack(">B", len(name)) + name + struct.pack(">B", len(kid)) + kid + \
            struct.pack(">H", len(self.wrapped_key)) + self.wrapped_key + self.nonce_prefix + struct.pack(">I", CHUNK)


def _wrap_aad(file_id: str) -> bytes:
    return b"tongban-file-key:" + file_id.encode()


def wrap_key(cipher: AeadName, wrapping_key: bytes, data_key: bytes, file_id: str) -> bytes:
    """A file's data key wrapped for storage in its row and header."""
    if cipher is AeadName.AES_256_GCM:
        return aes_key_wrap(wrapping_key, data_key)
    return Aead(cipher, wrapping_key).encrypt(data_key, _wrap_aad(file_id))


def unwrap_key(sealing: Sealing, wrapping_key: bytes, file_id: str) -> bytes:
    """The data key of a file, unwrapped with the family of cipher it was sealed with."""
    if sealing.cipher is AeadName.AES_256_GCM:
        return aes_key_unwrap(wrapping_key, sealing.wrapped_key)
    return Aead(sealing.cipher, wrapping_key).decrypt(sealing.wrapped_key, _wrap_aad(file_id))


def _aad(file_id: str, index: int, last: bool) -> bytes:
    return file_id.encode() + struct.pack(">I?", index, last)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


class Sealer:
    """Seals a file's bytes as they arrive; :meth:`feed` and :meth:`finish` return what to store next."""

    def __init__(self, file_id: str, key_id: str, key_of: KeyOf,
                 cipher: AeadName = AeadName.AES_256_GCM) -> None:
        data_key = Aead.generate_key(cipher)
        self.file_id = file_id
        self._aead = Aead(cipher, data_key)
        wrapped = wrap_key(cipher, key_of(key_id, cipher), data_key, file_id)
        prefix = os.urandom(8)
        header_length = len(Sealing(key_id, wrapped, prefix, 0, cipher).header())
        self.sealing = Sealing(key_id, wrapped, prefix, header_length, cipher)
        self._buffer = bytearray()
        self._index = 0
        self._started = False

    def _seal(self, plain: bytes, last: bool) -> bytes:
        sealed = self._aead.encrypt_at(_nonce(self.sealing.nonce_prefix, self._index), plain,
                                       _aad(self.file_id, self._index, last))
        self._index += 1
        return sealed

    def feed(self, data: bytes) -> bytes:
        """Ciphertext of every complete chunk now known not to be the last (the header first)."""
        out = bytearray()
        if not self._started:
            out += self.sealing.header()
            self._started = True
        self._buffer += data
        while len(self._buffer) > CHUNK:  # a full chunk is sealed once a byte after it shows it is not the last
            out += self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return bytes(out)

    def finish(self) -> bytes:
        """The last chunk."""
        head = b"" if self._started else self.sealing.header()
        self._started = True
        last = self._seal(bytes(self._buffer), last=True)
        self._buffer = bytearray()
        return head + last


def stored_size(size: int, header_length: int) -> int:
    """Bytes of the object holding ``size`` bytes of plaintext."""
    chunks = max(1, -(-size // CHUNK))
    return header_length + size + chunks * TAG


def cipher_range(size: int, header_length: int, start: int, end: int) -> tuple[int, int, int]:
    """(first chunk, first stored byte, last stored byte) holding plaintext bytes ``start`` to ``end``."""
    first, last = start // CHUNK, end // CHUNK
    last_chunk = max(1, -(-size // CHUNK)) - 1
    stop = header_length + (last + 1) * (CHUNK + TAG) - 1 if last < last_chunk else stored_size(size, header_length) - 1
    return first, header_length + first * (CHUNK + TAG), stop


class SealBroken(ValueError):
    """A stored chunk does not open: the object was altered or belongs to another file."""


async def open_range(stored: AsyncIterator[bytes], file_id: str, size: int, sealing: Sealing, key_of: KeyOf,
                     start: int, end: int) -> AsyncIterator[bytes]:
    """Plaintext bytes ``start`` to ``end`` (inclusive) from the stored bytes of the chunks they touch."""
    try:
        aead = Aead(sealing.cipher, unwrap_key(sealing, key_of(sealing.key_id, sealing.cipher), file_id))
    except (DecryptionError, InvalidUnwrap, ValueError) as exc:
        raise SealBroken(f"the data key of file {file_id} does not unwrap") from exc
    last_chunk = max(1, -(-size // CHUNK)) - 1
    index = start // CHUNK
    buffer = bytearray()

    def open_chunk(sealed: bytes, i: int) -> bytes:
        try:
            plain = aead.decrypt_at(_nonce(sealing.nonce_prefix, i), sealed, _aad(file_id, i, i == last_chunk))
        except DecryptionError as exc:
            raise SealBroken(f"chunk {i} of file {file_id} does not open") from exc
        lo = start - i * CHUNK if i * CHUNK < start else 0
        hi = end - i * CHUNK + 1
        return plain[max(lo, 0):hi]

    async for data in stored:
        buffer += data
        while index <= last_chunk:
            want = CHUNK + TAG if index < last_chunk else size - index * CHUNK + TAG
            if len(buffer) < want:
                break
            yield open_chunk(bytes(buffer[:want]), index)
            del buffer[:want]
            index += 1
            if index * CHUNK > end:
                return
    if index * CHUNK <= end:
        raise SealBroken(f"file {file_id} is shorter than its row says")
