"""Encryption of case files: AES-256-GCM in chunks under a per-file data key, wrapped by routing's key.

An object is a header (magic, the wrapping key's id, the wrapped data key, the nonce prefix, the
chunk size) followed by the chunks, each ``CHUNK`` bytes of plaintext (the last one shorter) sealed
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

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

CHUNK = 64 * 1024
TAG = 16
MAGIC = b"TBF1"

KeyOf = Callable[[str], bytes]
"""The 32-byte wrapping key of a key id."""


@dataclass(frozen=True)
class Sealing:
    """How one file was sealed: enough, with routing's keys, to open any range of it."""

    key_id: str
    wrapped_key: bytes
    nonce_prefix: bytes
    header_length: int

    def header(self) -> bytes:
        """The object's header."""
        kid = self.key_id.encode()
        return MAGIC + struct.pack(">B", len(kid)) + kid + struct.pack(">H", len(self.wrapped_key)) + \
            self.wrapped_key + self.nonce_prefix + struct.pack(">I", CHUNK)


def _aad(file_id: str, index: int, last: bool) -> bytes:
    return file_id.encode() + struct.pack(">I?", index, last)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


class Sealer:
    """Seals a file's bytes as they arrive; :meth:`feed` and :meth:`finish` return what to store next."""

    def __init__(self, file_id: str, key_id: str, key_of: KeyOf) -> None:
        data_key = AESGCM.generate_key(bit_length=256)
        self.file_id = file_id
        self._aead = AESGCM(data_key)
        wrapped = aes_key_wrap(key_of(key_id), data_key)
        prefix = os.urandom(8)
        header_length = len(MAGIC) + 1 + len(key_id.encode()) + 2 + len(wrapped) + len(prefix) + 4
        self.sealing = Sealing(key_id, wrapped, prefix, header_length)
        self._buffer = bytearray()
        self._index = 0
        self._started = False

    def _seal(self, plain: bytes, last: bool) -> bytes:
        sealed = self._aead.encrypt(_nonce(self.sealing.nonce_prefix, self._index), plain,
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
    aead = AESGCM(aes_key_unwrap(key_of(sealing.key_id), sealing.wrapped_key))
    last_chunk = max(1, -(-size // CHUNK)) - 1
    index = start // CHUNK
    buffer = bytearray()

    def open_chunk(sealed: bytes, i: int) -> bytes:
        try:
            plain = aead.decrypt(_nonce(sealing.nonce_prefix, i), sealed, _aad(file_id, i, i == last_chunk))
        except Exception as exc:
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
